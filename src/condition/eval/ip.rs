//! The `ipaddress` value, its `ipaddress(string)` conversion (as in
//! OpenFGA) and its `in_cidr(string)` method (as in SpiceDB and OpenFGA):
//! an IPv4 or IPv6 address, in a CIDR block of its own family.

use std::any::Any;
use std::net::IpAddr;

use cel::common::types::{CelBool, CelString, Type};
use cel::common::value::{CowVal, StaticVal, Val};
use cel::ExecutionError;

pub static IP_ADDRESS_TYPE: Type = Type::new_unspecified_type("ipaddress");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpAddress(pub IpAddr);

impl Val for IpAddress {
    fn get_type(&self) -> &Type {
        &IP_ADDRESS_TYPE
    }

    fn cel_type() -> &'static Type {
        &IP_ADDRESS_TYPE
    }

    fn equals(&self, other: &dyn Val) -> bool {
        other.downcast_ref::<IpAddress>().is_some_and(|o| o == self)
    }

    fn clone_as_boxed<'v>(&self) -> Box<dyn Val + 'v> {
        Box::new(*self)
    }

    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}

impl StaticVal for IpAddress {}

/// `text` as an address, or what is wrong with it: the one reading of
/// context values and of `ipaddress("…")`.
pub fn parse(text: &str) -> Result<IpAddress, String> {
    text.parse()
        .map(IpAddress)
        .map_err(|_| format!("`{text}` is no IPv4 or IPv6 address"))
}

/// `ipaddress(text)`: the address `text` writes; a malformed one is an error.
pub fn from_string<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let text = args
        .first()
        .and_then(|a| a.downcast_ref::<CelString>())
        .ok_or_else(|| ExecutionError::function_error("ipaddress", "the argument is no string"))?;
    let ip = parse(text.inner())
        .map_err(|problem| ExecutionError::function_error("ipaddress", problem))?;
    Ok(CowVal::owned(ip))
}

/// `ip.in_cidr(cidr)`: whether `ip` is in the block `cidr` (`10.0.0.0/8`,
/// `2001:db8::/32`). An address of the other family is not in it; a
/// malformed block is an error.
pub fn in_cidr<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let ip = args
        .first()
        .and_then(|a| a.downcast_ref::<IpAddress>())
        .ok_or_else(|| ExecutionError::function_error("in_cidr", "the target is no ipaddress"))?;
    let cidr = args
        .get(1)
        .and_then(|a| a.downcast_ref::<CelString>())
        .ok_or_else(|| ExecutionError::function_error("in_cidr", "the argument is no string"))?;
    let inside = contains(cidr.inner(), ip.0)
        .map_err(|problem| ExecutionError::function_error("in_cidr", problem))?;
    Ok(CowVal::owned(CelBool::from(inside)))
}

/// Whether `cidr` holds `ip`, or what is wrong with `cidr`.
pub fn contains(cidr: &str, ip: IpAddr) -> Result<bool, String> {
    thread_local! {
        /// The block parsed last: an allow-list names the same few blocks
        /// in check after check, and parsing one costs more than the test.
        static LAST: std::cell::RefCell<Option<(Box<str>, IpAddr, u32)>> =
            const { std::cell::RefCell::new(None) };
    }
    let cached = LAST.with_borrow(|last| match last {
        Some((text, network, length)) if **text == *cidr => Some((*network, *length)),
        _ => None,
    });
    let (network, length) = match cached {
        Some(parsed) => parsed,
        None => {
            let parsed = parse_cidr(cidr)?;
            LAST.set(Some((cidr.into(), parsed.0, parsed.1)));
            parsed
        }
    };
    let malformed = || format!("`{cidr}` is no CIDR block (like `10.0.0.0/8` or `2001:db8::/32`)");
    let (network, ip, bits) = match (network, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => (u128::from(n.to_bits()), u128::from(i.to_bits()), 32),
        (IpAddr::V6(n), IpAddr::V6(i)) => (n.to_bits(), i.to_bits(), 128),
        (IpAddr::V4(_), IpAddr::V6(_)) if length <= 32 => return Ok(false),
        (IpAddr::V6(_), IpAddr::V4(_)) if length <= 128 => return Ok(false),
        _ => return Err(malformed()),
    };
    if length > bits {
        return Err(malformed());
    }
    let shift = bits - length;
    // A shift by the whole width (an IPv6 /0) leaves nothing to compare.
    Ok(network.checked_shr(shift).unwrap_or(0) == ip.checked_shr(shift).unwrap_or(0))
}

/// `cidr`'s network address and prefix length, as written (checked
/// against the address family by [`contains`]).
fn parse_cidr(cidr: &str) -> Result<(IpAddr, u32), String> {
    let malformed = || format!("`{cidr}` is no CIDR block (like `10.0.0.0/8` or `2001:db8::/32`)");
    let (network, length) = cidr.split_once('/').ok_or_else(malformed)?;
    let network: IpAddr = network.parse().map_err(|_| malformed())?;
    // Digits only: `u8::from_str` would take a sign.
    if length.is_empty() || !length.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed());
    }
    let length: u32 = length.parse().map_err(|_| malformed())?;
    Ok((network, length))
}
