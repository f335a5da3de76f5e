//! Stopping an evaluation that nobody waits for any more: past the
//! request's deadline, or after the caller went away.
//!
//! The server makes one [`Interrupt`] per request and runs the request's
//! engine calls under it ([`Interrupt::run`]); every evaluator started
//! there (check, explain, expand, the lookups) looks at it once every
//! [`EVERY`] visited nodes and gives up with
//! [`EngineError::DeadlineExceeded`]. Outside [`Interrupt::run`] (the CLI,
//! tests, embedding) nothing is looked at: an evaluation without an
//! interrupt costs one branch per node.
//!
//! A thread-local rather than a field of `EngineOptions`: the handlers of
//! both protocols build their engines in many places, and a request's
//! engine calls all run inside the server's `blocking`/`evaluate` helpers,
//! which set it once for all of them.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::EngineError;

/// How many nodes an evaluator visits between two looks at its interrupt:
/// `Instant::now` costs some 25 ns, a visited node some 100 ns to a few µs.
pub const EVERY: u32 = 256;

/// When an evaluation must stop: a deadline, and a flag the server sets
/// when the request is cancelled.
#[derive(Debug, Default)]
pub struct Interrupt {
    deadline: Option<Instant>,
    cancelled: AtomicBool,
    /// The interrupt of the whole request, when this one bounds a part of
    /// its work more tightly ([`Interrupt::within`]): over when it is.
    parent: Option<Arc<Interrupt>>,
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<Interrupt>>> = const { RefCell::new(None) };
}

impl Interrupt {
    pub fn new(deadline: Option<Instant>) -> Interrupt {
        Interrupt {
            deadline,
            cancelled: AtomicBool::new(false),
            parent: None,
        }
    }

    /// An interrupt for a part of `parent`'s work that must also end by
    /// `deadline` (a check within a batch, say): over when either is.
    pub fn within(parent: Option<Arc<Interrupt>>, deadline: Option<Instant>) -> Interrupt {
        Interrupt {
            deadline,
            cancelled: AtomicBool::new(false),
            parent,
        }
    }

    /// The earliest deadline the work runs under, its parents' included.
    pub fn deadline(&self) -> Option<Instant> {
        let inherited = self.parent.as_ref().and_then(|p| p.deadline());
        match (self.deadline, inherited) {
            (Some(own), Some(inherited)) => Some(own.min(inherited)),
            (own, inherited) => own.or(inherited),
        }
    }

    /// Whether this interrupt's own deadline (not a parent's) has passed.
    pub fn own_deadline_passed(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// Stops the evaluations running under this interrupt (they answer
    /// [`EngineError::DeadlineExceeded`] within [`EVERY`] nodes).
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// Whether this interrupt or a parent was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
            || self.parent.as_ref().is_some_and(|p| p.is_cancelled())
    }

    /// Whether work under this interrupt should stop now.
    pub fn is_over(&self) -> bool {
        self.is_cancelled() || self.deadline().is_some_and(|d| Instant::now() >= d)
    }

    /// `Err(DeadlineExceeded)` once the work should stop.
    pub fn check(&self) -> Result<(), EngineError> {
        if self.is_over() {
            return Err(EngineError::DeadlineExceeded);
        }
        Ok(())
    }

    /// Runs `f` (synchronous engine work) under `interrupt`: evaluators it
    /// starts on this thread stop when the interrupt says so.
    pub fn run<T>(interrupt: Option<Arc<Interrupt>>, f: impl FnOnce() -> T) -> T {
        struct Restore(Option<Arc<Interrupt>>);
        impl Drop for Restore {
            fn drop(&mut self) {
                let previous = self.0.take();
                let _ = CURRENT.try_with(|c| *c.borrow_mut() = previous);
            }
        }
        let previous = CURRENT.with(|c| c.replace(interrupt));
        let _restore = Restore(previous);
        f()
    }

    /// The interrupt the current thread's engine work runs under.
    pub fn current() -> Option<Arc<Interrupt>> {
        CURRENT.try_with(|c| c.borrow().clone()).ok().flatten()
    }
}

/// An evaluator's view of its interrupt: counts visited nodes and looks at
/// the interrupt every [`EVERY`] of them.
#[derive(Debug)]
pub(crate) struct Watch {
    interrupt: Option<Arc<Interrupt>>,
    visited: u32,
}

impl Watch {
    /// The interrupt of the current thread's work, if any.
    pub(crate) fn current() -> Watch {
        Watch {
            interrupt: Interrupt::current(),
            visited: 0,
        }
    }

    /// One more node visited.
    #[inline]
    pub(crate) fn tick(&mut self) -> Result<(), EngineError> {
        let Some(interrupt) = &self.interrupt else {
            return Ok(());
        };
        self.visited = self.visited.wrapping_add(1);
        if !self.visited.is_multiple_of(EVERY) {
            return Ok(());
        }
        interrupt.check()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_watch_without_an_interrupt_never_stops() {
        let mut watch = Watch::current();
        for _ in 0..10 * EVERY {
            assert!(watch.tick().is_ok());
        }
    }

    #[test]
    fn a_cancelled_interrupt_stops_within_every_nodes() {
        let interrupt = Arc::new(Interrupt::new(None));
        Interrupt::run(Some(interrupt.clone()), || {
            let mut watch = Watch::current();
            for _ in 0..EVERY {
                assert!(watch.tick().is_ok());
            }
            interrupt.cancel();
            let stopped = (0..EVERY).any(|_| watch.tick().is_err());
            assert!(stopped);
        });
        // The interrupt is gone once `run` returns.
        assert!(Interrupt::current().is_none());
    }

    #[test]
    fn a_part_ends_with_its_own_deadline_or_with_the_whole() {
        let whole = Arc::new(Interrupt::new(Some(
            Instant::now() + Duration::from_secs(60),
        )));
        let past = Instant::now().checked_sub(Duration::from_millis(1));
        let part = Interrupt::within(Some(whole.clone()), past);
        assert!(part.is_over() && part.own_deadline_passed());
        assert!(!whole.is_over());
        let part = Interrupt::within(Some(whole.clone()), None);
        assert_eq!(part.deadline(), whole.deadline());
        assert!(!part.is_over());
        whole.cancel();
        assert!(part.is_over() && part.is_cancelled() && !part.own_deadline_passed());
    }

    #[test]
    fn a_past_deadline_is_over_and_a_future_one_is_not() {
        let past = Interrupt::new(Instant::now().checked_sub(Duration::from_millis(1)));
        assert!(matches!(past.check(), Err(EngineError::DeadlineExceeded)));
        let future = Interrupt::new(Some(Instant::now() + Duration::from_secs(60)));
        assert!(future.check().is_ok());
    }
}
