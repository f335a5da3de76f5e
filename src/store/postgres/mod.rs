//! A durable [`TupleStore`] on PostgreSQL, so that many stateless servers
//! can share one database.
//!
//! **Revisions across writers.** A revision must be an exact,
//! commit-ordered snapshot even when writers on different replicas commit
//! concurrently; a sequence number taken before commit is not enough (two
//! transactions can commit out of order). So every write transaction begins
//! with `UPDATE zanzi_meta SET head = head + 1 RETURNING head`: the row lock
//! orders writers, each holds it until it commits, and revisions therefore
//! commit in order. A committed head `h` implies that every revision up to
//! `h` has committed, so a read at `r <= h` selects exactly the versions
//! with `created_rev <= r AND (deleted_rev IS NULL OR deleted_rev > r)`.
//! The price is one row every writer contends for (see `docs/store.md`).
//!
//! Layout (`migrations.rs`): `zanzi_tuples` holds every version of every
//! tuple, keyed by the tuple and `created_rev`, with `deleted_rev` (NULL
//! while live). A partial unique index on the live versions makes inserts
//! idempotent (`ON CONFLICT DO NOTHING`) and serves forward reads;
//! `zanzi_tuples_reverse` serves reverse reads. `seq`, from a sequence and
//! taken under the head lock, numbers versions in the order of writing, and
//! listings follow it ([`super::paging`]). `zanzi_revisions` records each
//! revision's commit time (for [`Maintenance::revision_as_of`]);
//! `zanzi_meta` holds the head, the garbage-collection horizon and the
//! store id; `zanzi_schema` at most one compiled schema (`schema.rs`).
//!
//! A reader (`reads.rs`) holds one pooled connection in a read-only
//! `REPEATABLE READ` transaction for its life: garbage collection that
//! starts after the snapshot was taken cannot remove what it reads.
//!
//! The client is the synchronous `postgres` crate behind an `r2d2` pool:
//! the store traits are synchronous (SQLite's and the engine's reads are
//! blocking calls), so an async driver would only be wrapped back into
//! blocking calls. Its calls must not be made on an async runtime's
//! worker thread (it runs its own small runtime); callers use blocking
//! threads, as [`TupleStore::reads_from_memory`] tells them to.
//! Connections are TLS-less (`NoTls`) for now; TLS is left for later.
//!
//! Every backend failure is [`StoreError::Backend`], or
//! [`StoreError::Unavailable`] when the server cannot be reached or went
//! away, with the driver's error as its source: a read either answers from
//! the database or fails.

mod migrations;
mod reads;
mod schema;

use std::collections::HashSet;
use std::time::Duration;

use postgres::types::{ToSql, Type};
use postgres::{Client, Config, NoTls};
use r2d2_postgres::r2d2::{Pool, PooledConnection};
use r2d2_postgres::PostgresConnectionManager;

use super::{check_all, ChangeSet, Maintenance, Reader, Revision, StoreError, TupleStore};
use crate::tuple::{SubjectRef, Tuple};

pub use self::migrations::{migrate_up, migration_status, status_of, LATEST_VERSION};
pub use self::reads::PostgresReader;

type Manager = PostgresConnectionManager<NoTls>;
type Connection = PooledConnection<Manager>;

/// The backend's errors, kept as the source of [`StoreError::Backend`].
/// An error without a SQL state is the connection's (refused, reset,
/// closed), and classes 08 (connection exception) and 57 (operator
/// intervention: shutdown, terminated backend) say the server went away:
/// the database is unavailable, not wrong.
impl From<postgres::Error> for StoreError {
    fn from(error: postgres::Error) -> StoreError {
        let away = match error.code() {
            None => true,
            Some(state) => state.code().starts_with("08") || state.code().starts_with("57"),
        };
        if error.is_closed() || away {
            StoreError::Unavailable(Box::new(error))
        } else {
            StoreError::Backend(Box::new(error))
        }
    }
}

/// The pool fails only when no connection could be made in time.
impl From<r2d2_postgres::r2d2::Error> for StoreError {
    fn from(error: r2d2_postgres::r2d2::Error) -> StoreError {
        StoreError::Unavailable(Box::new(error))
    }
}

/// How long one connection attempt may take (a host that does not answer).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long taking a pooled connection may wait (for a free one, or for
/// the server) before it fails: short, because while the database is away
/// every request waits this long for its 503.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(2);

/// Connections per store: each live reader holds one, each write one.
const POOL_SIZE: u32 = 16;

fn parse_url(url: &str) -> Result<Config, StoreError> {
    let mut config: Config = url.parse()?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    Ok(config)
}

/// One unpooled connection (migrations and their status).
pub(super) fn connect_client(url: &str) -> Result<Client, StoreError> {
    Ok(parse_url(url)?.connect(NoTls)?)
}

/// A PostgreSQL tuple store: a pool of connections to one database.
pub struct PostgresStore {
    pool: Pool<Manager>,
    id: String,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// A tuple as the six key columns of `zanzi_tuples`.
pub(super) fn columns(tuple: &Tuple) -> [&str; 6] {
    let (s_ns, s_id, s_rel) = subject_columns(tuple.subject.borrowed());
    [
        &tuple.object.namespace,
        &tuple.object.id,
        &tuple.relation,
        s_ns,
        s_id,
        s_rel,
    ]
}

/// A subject as (`subject_ns`, `subject_id`, `subject_rel`).
pub(super) fn subject_columns(subject: SubjectRef<'_>) -> (&str, &str, &str) {
    match subject {
        SubjectRef::Object { namespace, id } => (namespace, id, ""),
        SubjectRef::Set {
            namespace,
            id,
            relation,
        } => (namespace, id, relation),
        SubjectRef::Wildcard { namespace } => (namespace, "", WILDCARD_REL),
    }
}

/// The `subject_rel` of a wildcard subject: never a relation name.
pub(super) const WILDCARD_REL: &str = "*";

pub(super) fn to_revision(rev: i64) -> Revision {
    Revision(u64::try_from(rev).unwrap_or_default())
}

pub(super) fn rev_param(rev: Revision) -> i64 {
    i64::try_from(rev.0).unwrap_or(i64::MAX)
}

/// The six key columns of many tuples, column by column (for `unnest`).
fn column_arrays<'a>(tuples: impl Iterator<Item = &'a Tuple>) -> [Vec<&'a str>; 6] {
    let mut arrays: [Vec<&str>; 6] = Default::default();
    for tuple in tuples {
        for (array, value) in arrays.iter_mut().zip(columns(tuple)) {
            array.push(value);
        }
    }
    arrays
}

/// The six arrays as typed parameters `$1`…`$6`, then `rest`.
fn array_params<'a>(
    arrays: &'a [Vec<&'a str>; 6],
    rest: &[(&'a (dyn ToSql + Sync), Type)],
) -> Vec<(&'a (dyn ToSql + Sync), Type)> {
    let mut params: Vec<(&(dyn ToSql + Sync), Type)> = arrays
        .iter()
        .map(|a| (a as &(dyn ToSql + Sync), Type::TEXT_ARRAY))
        .collect();
    params.extend(rest.iter().cloned());
    params
}

const INSERT: &str = "INSERT INTO zanzi_tuples
        (namespace, object_id, relation, subject_ns, subject_id, subject_rel, created_rev)
    SELECT n, o, r, sn, si, sr, $7
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
        WITH ORDINALITY AS t(n, o, r, sn, si, sr, i)
    ORDER BY i
    ON CONFLICT (namespace, object_id, relation, subject_ns, subject_id, subject_rel)
        WHERE deleted_rev IS NULL DO NOTHING";

const DELETE: &str = "UPDATE zanzi_tuples t SET deleted_rev = $7
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
        AS d(n, o, r, sn, si, sr)
    WHERE t.deleted_rev IS NULL
      AND t.namespace = d.n AND t.object_id = d.o AND t.relation = d.r
      AND t.subject_ns = d.sn AND t.subject_id = d.si AND t.subject_rel = d.sr";

impl PostgresStore {
    /// Connects to the database at `url` (as libpq takes it:
    /// `postgres://user@host:port/db?…`) and applies any pending migration.
    pub fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        let config = parse_url(url)?;
        let pool = Pool::builder()
            .max_size(POOL_SIZE)
            .min_idle(Some(1))
            .connection_timeout(CHECKOUT_TIMEOUT)
            // Each checkout is tested (one empty query): after the server
            // restarted, every pooled connection is dead, and without the
            // test each would fail one request before being replaced, so
            // the store would answer 503 long after the database is back.
            .test_on_check_out(true)
            .build(Manager::new(config, NoTls))?;
        let mut conn = pool.get()?;
        migrations::migrate_client(&mut conn)?;
        let id: String = conn
            .query_one("SELECT store_id FROM zanzi_meta WHERE id = 1", &[])?
            .try_get(0)?;
        drop(conn);
        Ok(PostgresStore { pool, id })
    }

    fn conn(&self) -> Result<Connection, StoreError> {
        Ok(self.pool.get()?)
    }

    /// This database's migration status.
    pub fn migration_status(&self) -> Result<crate::store::MigrationStatus, StoreError> {
        let mut conn = self.conn()?;
        migrations::client_status(&mut conn)
    }
}

impl TupleStore for PostgresStore {
    fn snapshot(&self, at: Revision) -> Result<Box<dyn Reader + '_>, StoreError> {
        Ok(Box::new(PostgresReader::new(self.conn()?, at)?))
    }

    fn head_revision(&self) -> Result<Revision, StoreError> {
        let head: i64 = self
            .conn()?
            .query_typed_one("SELECT head FROM zanzi_meta WHERE id = 1", &[])?
            .try_get(0)?;
        Ok(to_revision(head))
    }

    fn apply(&self, changes: &ChangeSet<'_>) -> Result<Revision, StoreError> {
        check_all(changes.inserts)?;
        check_all(changes.deletes)?;
        let kept: HashSet<&Tuple> = changes.inserts.iter().collect();
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        // The row lock taken here orders this transaction after every
        // writer that holds it; it is released at commit.
        let rev: i64 = tx
            .query_typed_one(
                "UPDATE zanzi_meta SET head = head + 1 WHERE id = 1 RETURNING head",
                &[],
            )?
            .try_get(0)?;
        tx.query_typed(
            "INSERT INTO zanzi_revisions (rev, committed_at)
             VALUES ($1, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)",
            &[(&rev, Type::INT8)],
        )?;
        if let Some(filter) = changes.delete_matching {
            let (conditions, values) = reads::filter_sql(filter, 2);
            let sql = format!(
                "UPDATE zanzi_tuples SET deleted_rev = $1 WHERE deleted_rev IS NULL{conditions}"
            );
            let mut params: Vec<(&(dyn ToSql + Sync), Type)> = vec![(&rev, Type::INT8)];
            params.extend(values.iter().map(|v| v.param()));
            tx.query_typed(&sql, &params)?;
        }
        let deletes = column_arrays(changes.deletes.iter().filter(|t| !kept.contains(t)));
        if !deletes[0].is_empty() {
            tx.query_typed(DELETE, &array_params(&deletes, &[(&rev, Type::INT8)]))?;
        }
        let inserts = column_arrays(changes.inserts.iter());
        if !inserts[0].is_empty() {
            tx.query_typed(INSERT, &array_params(&inserts, &[(&rev, Type::INT8)]))?;
        }
        tx.commit()?;
        Ok(to_revision(rev))
    }

    fn store_id(&self) -> Result<String, StoreError> {
        Ok(self.id.clone())
    }
}

impl Maintenance for PostgresStore {
    fn gc(&self, before: Revision) -> Result<u64, StoreError> {
        let mut conn = self.conn()?;
        // Raise the horizon first, in its own transaction: a reader whose
        // snapshot sees the removals below also sees the new horizon.
        let raised = conn.query_typed_opt(
            "UPDATE zanzi_meta SET gc_horizon = LEAST($1, head)
             WHERE id = 1 AND gc_horizon < LEAST($1, head)
             RETURNING gc_horizon",
            &[(&rev_param(before), Type::INT8)],
        )?;
        let Some(row) = raised else {
            return Ok(0);
        };
        let horizon: i64 = row.try_get(0)?;
        let removed = conn.execute(
            "DELETE FROM zanzi_tuples WHERE deleted_rev <= $1",
            &[&horizon],
        )?;
        Ok(removed)
    }

    fn gc_horizon(&self) -> Result<Revision, StoreError> {
        let horizon: i64 = self
            .conn()?
            .query_typed_one("SELECT gc_horizon FROM zanzi_meta WHERE id = 1", &[])?
            .try_get(0)?;
        Ok(to_revision(horizon))
    }

    fn revision_as_of(&self, unix_millis: i64) -> Result<Option<Revision>, StoreError> {
        let row = self.conn()?.query_typed_opt(
            "SELECT rev FROM zanzi_revisions WHERE committed_at <= $1
             ORDER BY rev DESC LIMIT 1",
            &[(&unix_millis, Type::INT8)],
        )?;
        row.map(|row| Ok(to_revision(row.try_get(0)?))).transpose()
    }

    fn live_count(&self) -> Result<u64, StoreError> {
        self.count_live()
    }
}
