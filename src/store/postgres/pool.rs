//! Connections to the database: a small pool whose checkout retries a lost
//! server with backoff, within a bounded time.
//!
//! A pool of our own rather than `r2d2`: a checkout must say *why* it
//! failed (a wrong password is the setting's fault and is not retried; a
//! refused connection is retried, then reported as unavailable), and must
//! give up within about two seconds so that a server answers 503 promptly
//! while the database is away.
//!
//! **What is retried.** Taking a connection: connecting is retried with
//! exponential backoff (50 ms, doubling) while the failure says the server
//! is unreachable, for at most [`CHECKOUT_BUDGET`] (or the URL's
//! `connect_timeout`, if longer). A connection idle for more than
//! [`TEST_AFTER_IDLE`] is tested (one empty
//! query) before it is handed out, so one that died with a restarted server
//! is replaced instead of failing a request. Reads are retried once on a
//! fresh connection when theirs dropped mid-way ([`super::reads`]): a read
//! at a revision answers the same on any snapshot that still holds it.
//! Writes are never retried: a commit whose acknowledgement was lost may
//! have committed, and doing it again would write a second revision.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use std::collections::HashMap;

use postgres::types::Type;
use postgres::{Client, Config, Statement};

use super::tls::Tls;
use crate::store::StoreError;

/// How long a checkout may keep trying before it reports the database
/// unavailable.
const CHECKOUT_BUDGET: Duration = Duration::from_secs(2);

/// The first pause between two connection attempts; it doubles.
const FIRST_BACKOFF: Duration = Duration::from_millis(50);

/// How long one connection attempt may take when the URL does not say
/// (`connect_timeout=` seconds, as libpq reads it).
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// A connection returned to the pool longer ago than this is tested before
/// it is handed out for a read. One used again sooner is not: a busy
/// server then pays no extra round trip per read, and a database cannot
/// stop and start again in that time. (A connection cut on its own — a
/// backend terminated — fails its read, which is retried on a fresh
/// connection.) Connections for writes are always tested: a write is not
/// retried.
const TEST_AFTER_IDLE: Duration = Duration::from_millis(200);

/// How long the test of an idle connection may take.
const VALID_TIMEOUT: Duration = Duration::from_secs(1);

/// Connections per store: each live reader holds one, each write one.
const POOL_SIZE: usize = 16;

/// No connection was free within the budget (all are in use).
#[derive(Debug, thiserror::Error)]
#[error("no database connection became free within {0:?} (all {POOL_SIZE} in use)")]
struct Exhausted(Duration);

struct State {
    /// Each with the time it was returned.
    idle: Vec<(Pooled, Instant)>,
    /// Connections open: idle, handed out, or being made.
    open: usize,
}

/// The connections of one store.
pub(super) struct Pool {
    config: Config,
    tls: Tls,
    budget: Duration,
    state: Mutex<State>,
    returned: Condvar,
}

impl Pool {
    pub(super) fn new(mut config: Config, tls: Tls) -> Pool {
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
        }
        let budget = config
            .get_connect_timeout()
            .copied()
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT)
            .max(CHECKOUT_BUDGET);
        Pool {
            config,
            tls,
            budget,
            state: Mutex::new(State {
                idle: Vec::new(),
                open: 0,
            }),
            returned: Condvar::new(),
        }
    }

    /// The same pool with a checkout budget of its own (a read replica's
    /// is short: the primary can serve the read instead).
    pub(super) fn with_budget(mut self, budget: Duration) -> Pool {
        self.budget = budget;
        self
    }

    fn state(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        self.state.lock().map_err(|_| StoreError::Poisoned)
    }

    /// One new connection, retried with backoff while the server cannot be
    /// reached, until `deadline`. Any other failure (credentials, a
    /// missing database, TLS refused) is returned at once.
    fn connect(&self, deadline: Instant) -> Result<Client, StoreError> {
        let mut pause = FIRST_BACKOFF;
        loop {
            match self.tls.connect(&self.config) {
                Ok(client) => return Ok(client),
                Err(error @ StoreError::Unavailable(_)) => {
                    let now = Instant::now();
                    if now + pause >= deadline {
                        return Err(error);
                    }
                    std::thread::sleep(pause);
                    pause = pause.saturating_mul(2);
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// One unpooled connection (migrations and their status), retried as
    /// a checkout is.
    pub(super) fn connect_now(&self) -> Result<Client, StoreError> {
        self.connect(Instant::now() + self.budget)
    }

    /// A connection for reads: an idle one that still works (tested only
    /// if it idled longer than [`TEST_AFTER_IDLE`]), else a new one (while
    /// fewer than [`POOL_SIZE`] are open), else the first one returned.
    pub(super) fn get(self: &Arc<Self>) -> Result<Connection, StoreError> {
        self.take(TEST_AFTER_IDLE)
    }

    /// A connection for a write: as [`Pool::get`], an idle one always tested.
    pub(super) fn get_tested(self: &Arc<Self>) -> Result<Connection, StoreError> {
        self.take(Duration::ZERO)
    }

    /// A connection, an idle one tested if it idled `test_after` or longer.
    fn take(self: &Arc<Self>, test_after: Duration) -> Result<Connection, StoreError> {
        let deadline = Instant::now() + self.budget;
        let mut state = self.state()?;
        loop {
            if let Some((mut pooled, returned)) = state.idle.pop() {
                drop(state);
                if returned.elapsed() < test_after || pooled.client.is_valid(VALID_TIMEOUT).is_ok()
                {
                    return Ok(self.hand_out(pooled));
                }
                drop(pooled);
                // The others idled as long and most likely died with it
                // (a restarted server): drop them too rather than test
                // each, which could take a timeout apiece.
                state = self.state()?;
                let dead = state.idle.len() + 1;
                state.idle.clear();
                state.open = state.open.saturating_sub(dead);
                continue;
            }
            if state.open < POOL_SIZE {
                state.open += 1;
                drop(state);
                return match self.connect(deadline) {
                    Ok(client) => Ok(self.hand_out(Pooled {
                        client,
                        statements: HashMap::new(),
                    })),
                    Err(error) => {
                        self.closed();
                        Err(error)
                    }
                };
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(StoreError::Unavailable(Box::new(Exhausted(self.budget))));
            }
            state = self
                .returned
                .wait_timeout(state, deadline - now)
                .map_err(|_| StoreError::Poisoned)?
                .0;
        }
    }

    fn hand_out(self: &Arc<Self>, pooled: Pooled) -> Connection {
        Connection {
            pooled: Some(pooled),
            pool: Arc::clone(self),
        }
    }

    /// A connection was closed or never made.
    fn closed(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.open = state.open.saturating_sub(1);
        }
        self.returned.notify_one();
    }
}

/// A pooled connection and the statements prepared on it.
struct Pooled {
    client: Client,
    statements: HashMap<&'static str, Statement>,
}

/// A connection taken from the pool; back to it when dropped, unless the
/// connection is closed.
pub(crate) struct Connection {
    pooled: Option<Pooled>,
    pool: Arc<Pool>,
}

impl Connection {
    /// Whether the server closed this connection (it then goes, not back).
    pub(super) fn is_closed(&self) -> bool {
        self.pooled.as_ref().is_none_or(|p| p.client.is_closed())
    }

    /// Closes this connection instead of returning it to the pool: it
    /// failed as a connection to a server that went away does (the server
    /// may have said so before the socket closed).
    pub(super) fn forget(&mut self) {
        if self.pooled.take().is_some() {
            self.pool.closed();
        }
    }

    /// `sql` prepared on this connection, once for its life: the hot reads
    /// are then planned once, not on every call.
    pub(super) fn prepared(
        &mut self,
        sql: &'static str,
        types: &[Type],
    ) -> Result<Statement, StoreError> {
        let Some(pooled) = self.pooled.as_mut() else {
            return Err(StoreError::Backend("the connection was returned".into()));
        };
        if let Some(statement) = pooled.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = pooled.client.prepare_typed(sql, types)?;
        pooled.statements.insert(sql, statement.clone());
        Ok(statement)
    }
}

impl Deref for Connection {
    type Target = Client;
    fn deref(&self) -> &Client {
        // Present from `hand_out` until `drop`.
        #[allow(clippy::unwrap_used)]
        &self.pooled.as_ref().unwrap().client
    }
}

impl DerefMut for Connection {
    fn deref_mut(&mut self) -> &mut Client {
        #[allow(clippy::unwrap_used)]
        &mut self.pooled.as_mut().unwrap().client
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        let Some(pooled) = self.pooled.take() else {
            return;
        };
        if pooled.client.is_closed() {
            self.pool.closed();
            return;
        }
        match self.pool.state.lock() {
            Ok(mut state) => state.idle.push((pooled, Instant::now())),
            Err(_) => return,
        }
        self.pool.returned.notify_one();
    }
}
