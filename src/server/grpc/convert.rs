//! `zanzi.v1` messages to zanzi's types ([`crate::api::convert`]), and
//! the consistency choice, which needs the server's token keys.

pub use crate::api::convert::*;

use super::status::invalid_field;
use crate::api::proto::zanzi::v1 as pb;
use crate::api::ApiError;
use crate::server::consistency::Consistency;
use crate::server::AppState;

/// The consistency a request asks for (unset: `minimize_latency`), its
/// tokens checked as on REST.
pub fn consistency(
    state: &AppState,
    field: &str,
    message: Option<&pb::Consistency>,
) -> Result<Consistency, ApiError> {
    use pb::consistency::Requirement;
    let token = |name: &str, token: &str| {
        if token.is_empty() {
            return Err(invalid_field(
                &format!("{field}.{name}"),
                format!("`{field}.{name}` needs a snapshot token"),
            ));
        }
        state
            .tokens
            .parse_snapshot(token)
            .map_err(|e| e.with_detail("field", format!("{field}.{name}")))
    };
    Ok(match message.and_then(|c| c.requirement.as_ref()) {
        None | Some(Requirement::MinimizeLatency(_)) => Consistency::MinimizeLatency,
        Some(Requirement::FullyConsistent(_)) => Consistency::FullyConsistent,
        Some(Requirement::AtLeastAsFresh(t)) => {
            Consistency::AtLeastAsFresh(token("at_least_as_fresh", t)?)
        }
        Some(Requirement::AtExactSnapshot(t)) => {
            Consistency::AtExactSnapshot(token("at_exact_snapshot", t)?)
        }
    })
}
