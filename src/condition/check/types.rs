//! The static types of CEL expressions, as the checker infers them.

use std::fmt;

use crate::ir::ParamType;

/// A CEL type. `Dyn` is a value whose type is known only at run time
/// (`any` parameters, `dyn(x)`): it unifies with everything, as in cel-go.
/// `Error` is the type of a node already reported: it unifies with
/// everything too, and silences the errors that would follow from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Type {
    Bool,
    Int,
    Uint,
    Double,
    String,
    Bytes,
    Duration,
    Timestamp,
    IpAddress,
    Null,
    Dyn,
    List(Box<Type>),
    Map(Box<Type>, Box<Type>),
    Error,
}

impl Type {
    pub fn of_param(ty: &ParamType) -> Type {
        match ty {
            ParamType::Bool => Type::Bool,
            ParamType::Int => Type::Int,
            ParamType::Uint => Type::Uint,
            ParamType::Double => Type::Double,
            ParamType::String => Type::String,
            ParamType::Bytes => Type::Bytes,
            ParamType::Duration => Type::Duration,
            ParamType::Timestamp => Type::Timestamp,
            ParamType::IpAddress => Type::IpAddress,
            ParamType::Any => Type::Dyn,
            ParamType::List(item) => Type::List(Box::new(Type::of_param(item))),
            ParamType::Map(value) => {
                Type::Map(Box::new(Type::String), Box::new(Type::of_param(value)))
            }
        }
    }

    /// Unknown until run time: anything goes, and the run time decides.
    pub fn is_dynamic(&self) -> bool {
        matches!(self, Type::Dyn | Type::Error)
    }

    pub fn is_numeric(&self) -> bool {
        matches!(self, Type::Int | Type::Uint | Type::Double)
    }

    /// The type both `self` and `other` fit, if there is one: equal types,
    /// or one side dynamic (the other, more precise, side wins, so that the
    /// empty list a `map()` starts from takes its elements' type).
    pub fn join(&self, other: &Type) -> Option<Type> {
        match (self, other) {
            (Type::Error, _) | (_, Type::Error) => Some(Type::Error),
            (Type::Dyn, t) | (t, Type::Dyn) => Some(t.clone()),
            (Type::List(a), Type::List(b)) => Some(Type::List(Box::new(a.join(b)?))),
            (Type::Map(k1, v1), Type::Map(k2, v2)) => {
                Some(Type::Map(Box::new(k1.join(k2)?), Box::new(v1.join(v2)?)))
            }
            (a, b) if a == b => Some(a.clone()),
            _ => None,
        }
    }

    /// The elements of a literal list or map: their common type, or `dyn`
    /// when they differ (CEL allows mixed literals).
    pub fn join_or_dyn(&self, other: &Type) -> Type {
        self.join(other).unwrap_or(Type::Dyn)
    }

    /// Whether `==` may compare the two: the same type (up to `dyn`), two
    /// numbers (CEL compares numbers across types), or `null` with anything.
    pub fn comparable_for_equality(&self, other: &Type) -> bool {
        self.join(other).is_some()
            || (self.is_numeric() && other.is_numeric())
            || matches!(self, Type::Null)
            || matches!(other, Type::Null)
    }

    /// Whether `<` may order the two: numbers of any kinds (the run time
    /// compares `int`, `uint` and `double` with each other, as cel-go does),
    /// or two values of one ordered type.
    pub fn orderable(&self, other: &Type) -> bool {
        let ordered = |t: &Type| {
            matches!(
                t,
                Type::Bool
                    | Type::Int
                    | Type::Uint
                    | Type::Double
                    | Type::String
                    | Type::Bytes
                    | Type::Duration
                    | Type::Timestamp
            ) || t.is_dynamic()
        };
        if !ordered(self) || !ordered(other) {
            return false;
        }
        self.is_dynamic()
            || other.is_dynamic()
            || self == other
            || (self.is_numeric() && other.is_numeric())
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Bool => f.write_str("bool"),
            Type::Int => f.write_str("int"),
            Type::Uint => f.write_str("uint"),
            Type::Double => f.write_str("double"),
            Type::String => f.write_str("string"),
            Type::Bytes => f.write_str("bytes"),
            Type::Duration => f.write_str("duration"),
            Type::Timestamp => f.write_str("timestamp"),
            Type::IpAddress => f.write_str("ipaddress"),
            Type::Null => f.write_str("null"),
            Type::Dyn | Type::Error => f.write_str("any"),
            Type::List(item) => write!(f, "list<{item}>"),
            Type::Map(key, value) if **key == Type::String => write!(f, "map<{value}>"),
            Type::Map(key, value) => write!(f, "map<{key}, {value}>"),
        }
    }
}
