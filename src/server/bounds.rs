//! Bounds on one question's engine work: a deadline per kind of work
//! (`check_timeout_ms`, `lookup_timeout_ms`) and the size of the answers
//! built whole (`max_lookup_results`, `max_expand_nodes`).
//!
//! A request already runs under an [`Interrupt`] whose deadline is the
//! request's (`read_timeout_secs` on REST, `grpc-timeout` on gRPC, see
//! [`super::track`]). [`bounded`] runs one engine call under a tighter
//! interrupt within it, so each check of a batch and each page of a lookup
//! gets its own time, and an answer past it names the setting that was
//! hit. The per-kind deadline starts when the engine starts, not when the
//! request arrived: time spent waiting for a worker is the request's.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::api::ApiError;
use crate::engine::{AnswerLimits, Interrupt};

use super::config::Settings;

/// The kind of engine work a deadline bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Work {
    /// A check, or an explanation of one.
    Check,
    /// A lookup (one page of one) or an expand.
    Lookup,
}

impl Work {
    fn setting(self) -> &'static str {
        match self {
            Work::Check => "check_timeout_ms",
            Work::Lookup => "lookup_timeout_ms",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Work::Check => "the check",
            Work::Lookup => "the lookup",
        }
    }

    fn timeout(self, settings: &Settings) -> Duration {
        match self {
            Work::Check => settings.check_timeout,
            Work::Lookup => settings.lookup_timeout,
        }
    }
}

/// Runs `f` (one engine call) under the deadline of its kind of `work`,
/// within the current request's; an answer past that deadline is 504
/// `deadline_exceeded` naming the setting.
pub(crate) fn bounded<T, E: Into<ApiError>>(
    settings: &Settings,
    work: Work,
    f: impl FnOnce() -> Result<T, E>,
) -> Result<T, ApiError> {
    let timeout = work.timeout(settings);
    let request = Interrupt::current();
    let deadline = Instant::now().checked_add(timeout);
    let tighter = match (deadline, request.as_ref().and_then(|r| r.deadline())) {
        (Some(own), Some(request)) => own < request,
        (own, None) => own.is_some(),
        (None, Some(_)) => false,
    };
    if !tighter {
        return f().map_err(Into::into);
    }
    let interrupt = Arc::new(Interrupt::within(request, deadline));
    let result = Interrupt::run(Some(interrupt.clone()), f).map_err(Into::into);
    result.map_err(|error| {
        let ours = error.reason == "deadline_exceeded"
            && interrupt.own_deadline_passed()
            && !interrupt.is_cancelled();
        if !ours {
            return error;
        }
        let millis = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        ApiError::new(
            error.status,
            "deadline_exceeded",
            format!(
                "{} did not finish within the server's `{}` ({millis} ms); ask a narrower \
                 question or raise `{}`",
                work.noun(),
                work.setting(),
                work.setting()
            ),
        )
        .with_detail("setting", work.setting())
        .with_detail("limit", millis)
    })
}

/// The answer limits of the settings, for the engine.
pub(crate) fn answer_limits(settings: &Settings) -> AnswerLimits {
    AnswerLimits {
        max_subjects: Some(settings.max_lookup_results),
        max_expand_nodes: Some(settings.max_expand_nodes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineError;

    fn settings(check_ms: u64) -> Settings {
        Settings {
            check_timeout: Duration::from_millis(check_ms),
            ..Settings::default()
        }
    }

    /// Engine work that runs until its interrupt says stop.
    fn until_interrupted() -> Result<(), EngineError> {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            if let Some(interrupt) = Interrupt::current() {
                interrupt.check()?;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(())
    }

    #[test]
    fn work_past_its_deadline_names_the_setting() {
        let error = bounded(&settings(5), Work::Check, until_interrupted)
            .err()
            .map(|e| (e.status.as_u16(), e.reason, e.message));
        let Some((504, reason, message)) = error else {
            panic!("expected a 504, got {error:?}");
        };
        assert_eq!(reason, "deadline_exceeded");
        assert!(message.contains("`check_timeout_ms` (5 ms)"), "{message}");
    }

    #[test]
    fn a_request_that_went_away_is_not_blamed_on_the_setting() {
        let request = Arc::new(Interrupt::new(None));
        request.cancel();
        let error = Interrupt::run(Some(request), || {
            bounded(&settings(60_000), Work::Check, until_interrupted)
        })
        .err()
        .map(|e| e.message);
        let Some(message) = error else {
            panic!("the work should have stopped");
        };
        assert!(!message.contains("check_timeout_ms"), "{message}");
    }

    #[test]
    fn an_earlier_request_deadline_is_kept() {
        let soon = Instant::now() + Duration::from_millis(50);
        let request = Arc::new(Interrupt::new(Some(soon)));
        let seen = Interrupt::run(Some(request), || {
            bounded(&settings(60_000), Work::Check, || {
                Ok::<_, EngineError>(Interrupt::current().and_then(|i| i.deadline()))
            })
        });
        assert_eq!(seen.ok().flatten(), Some(soon));
    }
}
