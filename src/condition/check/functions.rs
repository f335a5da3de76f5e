//! The functions an expression may call: CEL's standard functions that the
//! `cel` crate evaluates, and zanzi's `ipaddress(string)` and `in_cidr`. Each entry is one overload
//! with its result type; the tests of `crate::condition::eval` evaluate
//! every one of them.

use super::types::Type;

/// An argument position of an overload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Arg {
    Bool,
    Int,
    Uint,
    Double,
    String,
    Bytes,
    Duration,
    Timestamp,
    IpAddress,
    AnyList,
    AnyMap,
    Anything,
}

impl Arg {
    fn accepts(self, ty: &Type) -> bool {
        ty.is_dynamic()
            || match self {
                Arg::Bool => *ty == Type::Bool,
                Arg::Int => *ty == Type::Int,
                Arg::Uint => *ty == Type::Uint,
                Arg::Double => *ty == Type::Double,
                Arg::String => *ty == Type::String,
                Arg::Bytes => *ty == Type::Bytes,
                Arg::Duration => *ty == Type::Duration,
                Arg::Timestamp => *ty == Type::Timestamp,
                Arg::IpAddress => *ty == Type::IpAddress,
                Arg::AnyList => matches!(ty, Type::List(_)),
                Arg::AnyMap => matches!(ty, Type::Map(..)),
                Arg::Anything => true,
            }
    }
}

/// `name(args) -> result`, or `target.name(args) -> result` when `member`
/// (the target is the first of `args`).
struct Overload {
    name: &'static str,
    member: bool,
    args: &'static [Arg],
    result: Type,
}

const fn global(name: &'static str, args: &'static [Arg], result: Type) -> Overload {
    Overload {
        name,
        member: false,
        args,
        result,
    }
}

const fn member(name: &'static str, args: &'static [Arg], result: Type) -> Overload {
    Overload {
        name,
        member: true,
        args,
        result,
    }
}

use Arg as A;

const OVERLOADS: &[Overload] = &[
    // Sizes.
    global("size", &[A::String], Type::Int),
    global("size", &[A::Bytes], Type::Int),
    global("size", &[A::AnyList], Type::Int),
    global("size", &[A::AnyMap], Type::Int),
    member("size", &[A::String], Type::Int),
    member("size", &[A::Bytes], Type::Int),
    member("size", &[A::AnyList], Type::Int),
    member("size", &[A::AnyMap], Type::Int),
    // Strings.
    member("contains", &[A::String, A::String], Type::Bool),
    member("startsWith", &[A::String, A::String], Type::Bool),
    member("endsWith", &[A::String, A::String], Type::Bool),
    member("matches", &[A::String, A::String], Type::Bool),
    global("matches", &[A::String, A::String], Type::Bool),
    // Conversions.
    global("bool", &[A::Bool], Type::Bool),
    global("bool", &[A::String], Type::Bool),
    global("int", &[A::Int], Type::Int),
    global("int", &[A::Uint], Type::Int),
    global("int", &[A::Double], Type::Int),
    global("int", &[A::String], Type::Int),
    global("int", &[A::Timestamp], Type::Int),
    global("uint", &[A::Uint], Type::Uint),
    global("uint", &[A::Int], Type::Uint),
    global("uint", &[A::Double], Type::Uint),
    global("uint", &[A::String], Type::Uint),
    global("double", &[A::Double], Type::Double),
    global("double", &[A::Int], Type::Double),
    global("double", &[A::Uint], Type::Double),
    global("double", &[A::String], Type::Double),
    global("string", &[A::String], Type::String),
    global("string", &[A::Bool], Type::String),
    global("string", &[A::Int], Type::String),
    global("string", &[A::Uint], Type::String),
    global("string", &[A::Double], Type::String),
    global("string", &[A::Bytes], Type::String),
    global("string", &[A::Timestamp], Type::String),
    global("string", &[A::Duration], Type::String),
    global("bytes", &[A::String], Type::Bytes),
    global("bytes", &[A::Bytes], Type::Bytes),
    global("duration", &[A::String], Type::Duration),
    global("duration", &[A::Duration], Type::Duration),
    global("timestamp", &[A::String], Type::Timestamp),
    global("timestamp", &[A::Timestamp], Type::Timestamp),
    global("timestamp", &[A::Int], Type::Timestamp),
    global("dyn", &[A::Anything], Type::Dyn),
    // Timestamps, in UTC or in the time zone the argument names.
    member("getFullYear", &[A::Timestamp], Type::Int),
    member("getFullYear", &[A::Timestamp, A::String], Type::Int),
    member("getMonth", &[A::Timestamp], Type::Int),
    member("getMonth", &[A::Timestamp, A::String], Type::Int),
    member("getDayOfYear", &[A::Timestamp], Type::Int),
    member("getDayOfYear", &[A::Timestamp, A::String], Type::Int),
    member("getDayOfMonth", &[A::Timestamp], Type::Int),
    member("getDayOfMonth", &[A::Timestamp, A::String], Type::Int),
    member("getDate", &[A::Timestamp], Type::Int),
    member("getDate", &[A::Timestamp, A::String], Type::Int),
    member("getDayOfWeek", &[A::Timestamp], Type::Int),
    member("getDayOfWeek", &[A::Timestamp, A::String], Type::Int),
    member("getHours", &[A::Timestamp], Type::Int),
    member("getHours", &[A::Timestamp, A::String], Type::Int),
    member("getMinutes", &[A::Timestamp], Type::Int),
    member("getMinutes", &[A::Timestamp, A::String], Type::Int),
    member("getSeconds", &[A::Timestamp], Type::Int),
    member("getSeconds", &[A::Timestamp, A::String], Type::Int),
    member("getMilliseconds", &[A::Timestamp], Type::Int),
    member("getMilliseconds", &[A::Timestamp, A::String], Type::Int),
    // Durations.
    member("getHours", &[A::Duration], Type::Int),
    member("getMinutes", &[A::Duration], Type::Int),
    member("getSeconds", &[A::Duration], Type::Int),
    member("getMilliseconds", &[A::Duration], Type::Int),
    // zanzi's additions: addresses, as in SpiceDB and OpenFGA.
    global("ipaddress", &[A::String], Type::IpAddress),
    member("in_cidr", &[A::IpAddress, A::String], Type::Bool),
];

/// What a call resolves to.
pub enum Resolution {
    Result(Type),
    /// The function exists, but not for these arguments.
    NoOverload,
    /// No function (or method) of that name.
    Unknown,
}

/// The result of calling `name` (as a method when `member`; the target is
/// then the first of `args`). When dynamic arguments let several overloads
/// apply, the result is their common type, or `dyn`.
pub fn resolve(name: &str, member: bool, args: &[Type]) -> Resolution {
    let mut named = OVERLOADS
        .iter()
        .filter(|o| o.name == name && o.member == member)
        .peekable();
    if named.peek().is_none() {
        return Resolution::Unknown;
    }
    let mut result: Option<Type> = None;
    for overload in named {
        let fits = overload.args.len() == args.len()
            && overload.args.iter().zip(args).all(|(a, t)| a.accepts(t));
        if fits {
            result = Some(match result {
                None => overload.result.clone(),
                Some(r) if r == overload.result => r,
                Some(_) => Type::Dyn,
            });
        }
    }
    result.map_or(Resolution::NoOverload, Resolution::Result)
}

/// Every function name, for "did you mean".
pub fn names(member: bool) -> impl Iterator<Item = &'static str> {
    OVERLOADS
        .iter()
        .filter(move |o| o.member == member)
        .map(|o| o.name)
}
