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
//! A version also holds its condition (`condition`, `context`) and expiry
//! (`expires_at`, microseconds), NULL when it has none. The live unique
//! index is still on the tuple's key, so writing a live key with other
//! attributes first marks the old version deleted at the write's revision
//! and then inserts the new one; the plain reads select `condition IS
//! NULL AND expires_at IS NULL`.
//!
//! A reader (`reads.rs`) holds one pooled connection in a read-only
//! `REPEATABLE READ` transaction for its life: garbage collection that
//! starts after the snapshot was taken cannot remove what it reads.
//!
//! The client is the synchronous `postgres` crate behind a small pool
//! (`pool.rs`):
//! the store traits are synchronous (SQLite's and the engine's reads are
//! blocking calls), so an async driver would only be wrapped back into
//! blocking calls. Its calls must not be made on an async runtime's
//! worker thread (it runs its own small runtime); callers use blocking
//! threads, as [`TupleStore::reads_from_memory`] tells them to.
//!
//! TLS follows the URL's `sslmode` and `sslrootcert` as libpq reads them
//! (`tls.rs`); connections are pooled and retried as `pool.rs` says.
//!
//! Reads may also be served by hot standbys: see [`ReplicatedStore`]
//! (`replicas.rs`).
//!
//! Every backend failure is [`StoreError::Backend`], or
//! [`StoreError::Unavailable`] when the server cannot be reached or went
//! away, with the driver's error as its source: a read either answers from
//! the database or fails.

mod chain;
mod feed;
mod import;
mod migrations;
mod objects;
mod pool;
mod reads;
mod replicas;
mod schema;
mod tls;
mod versions;

use std::collections::HashSet;
use std::sync::Arc;

use postgres::types::{ToSql, Type};
use postgres::{Client, Config};

use super::{
    check_all, check_inserts, check_preconditions, ChangeSet, ImportReport, KeyRef, Maintenance,
    Reader, Revision, StoreError, TupleStore,
};
use crate::tuple::{Context, Expiry, SubjectRef, Tuple, TupleCondition};

pub use self::migrations::{migrate_down, migrate_up, migration_status, status_of, LATEST_VERSION};
pub use self::reads::PostgresReader;
pub use self::replicas::{ReadCounts, ReplicaError, ReplicatedStore};

use self::pool::{Connection, Pool};

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
        if tls::is_tls_failure(&error) {
            // A refused certificate or a server without TLS: the URL's
            // settings, not the network.
            StoreError::Backend(Box::new(error))
        } else if error.is_closed() || away {
            StoreError::Unavailable(Box::new(error))
        } else if let Some(db) = error.as_db_error() {
            // The server's own message ("FATAL: password authentication
            // failed …"), without the driver's "db error" wrapping.
            StoreError::Backend(Box::new(db.clone()))
        } else {
            StoreError::Backend(Box::new(error))
        }
    }
}

/// A `--db` URL that does not parse: a mistake in the setting, not an
/// unreachable database.
#[derive(Debug, thiserror::Error)]
#[error("malformed URL")]
struct MalformedUrl(#[source] postgres::Error);

/// The pool of connections a URL describes, TLS included (`tls.rs`).
fn pool_for(url: &str) -> Result<Pool, StoreError> {
    let settings = tls::TlsSettings::from_url(url)?;
    let config: Config = settings
        .url
        .parse()
        .map_err(|e| StoreError::Backend(Box::new(MalformedUrl(e))))?;
    Ok(Pool::new(config, settings.connector()?))
}

/// One unpooled connection (migrations and their status).
pub(super) fn connect_client(url: &str) -> Result<Client, StoreError> {
    pool_for(url)?.connect_now()
}

/// A PostgreSQL tuple store: a pool of connections to one database.
pub struct PostgresStore {
    /// Always `Some` until dropped (see the `Drop` implementation).
    pool: Option<Arc<Pool>>,
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

/// A tuple's `condition` and `context` columns (the context NULL when
/// empty) and its `expires_at`.
pub(super) fn attribute_columns(tuple: &Tuple) -> (Option<&str>, Option<&str>, Option<i64>) {
    let (name, context) = match &tuple.condition {
        Some(c) => (
            Some(c.name.as_str()),
            (!c.context.is_empty()).then(|| c.context.as_json()),
        ),
        None => (None, None),
    };
    (name, context, tuple.expires_at.map(|e| e.micros))
}

/// A version's condition and expiry from its three columns from `first`.
pub(super) fn attributes(
    row: &postgres::Row,
    first: usize,
) -> Result<(Option<Box<TupleCondition>>, Option<Expiry>), StoreError> {
    let name: Option<String> = row.try_get(first)?;
    let context: Option<&str> = row.try_get(first + 1)?;
    let expires_at: Option<i64> = row.try_get(first + 2)?;
    let condition = match name {
        Some(name) => {
            let context = match context {
                Some(text) => crate::store::stored_context(text)?,
                None => Context::default(),
            };
            Some(Box::new(TupleCondition { name, context }))
        }
        None => None,
    };
    Ok((condition, expires_at.map(Expiry::from_micros)))
}

/// `tuple` with the condition and expiry of a row's three columns from
/// `first`.
pub(super) fn with_attributes(
    mut tuple: Tuple,
    row: &postgres::Row,
    first: usize,
) -> Result<Tuple, StoreError> {
    let (condition, expires_at) = attributes(row, first)?;
    tuple.condition = condition;
    tuple.expires_at = expires_at;
    Ok(tuple)
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

/// The attribute columns of many tuples, column by column (for `unnest`).
type AttributeArrays<'a> = (Vec<Option<&'a str>>, Vec<Option<&'a str>>, Vec<Option<i64>>);

fn attribute_arrays<'a>(tuples: impl Iterator<Item = &'a Tuple>) -> AttributeArrays<'a> {
    let mut arrays = AttributeArrays::default();
    for tuple in tuples {
        let (name, context, expires_at) = attribute_columns(tuple);
        arrays.0.push(name);
        arrays.1.push(context);
        arrays.2.push(expires_at);
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

/// The inserts, with their attributes `$8` to `$10`, at revision `$7`; a
/// key already live is left alone (see [`REPLACE`]).
const INSERT: &str = "INSERT INTO zanzi_tuples
        (namespace, object_id, relation, subject_ns, subject_id, subject_rel,
         condition, context, expires_at, created_rev)
    SELECT n, o, r, sn, si, sr, c, x, e, $7
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                $8::text[], $9::text[], $10::int8[])
        WITH ORDINALITY AS t(n, o, r, sn, si, sr, c, x, e, i)
    ORDER BY i
    ON CONFLICT (namespace, object_id, relation, subject_ns, subject_id, subject_rel)
        WHERE deleted_rev IS NULL DO NOTHING";

/// Before [`INSERT`]: the live tuples that the inserts replace (their key
/// with another condition or expiry) are deleted at revision `$7`.
const REPLACE: &str = "UPDATE zanzi_tuples t SET deleted_rev = $7
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                $8::text[], $9::text[], $10::int8[])
        AS d(n, o, r, sn, si, sr, c, x, e)
    WHERE t.deleted_rev IS NULL
      AND t.namespace = d.n AND t.object_id = d.o AND t.relation = d.r
      AND t.subject_ns = d.sn AND t.subject_id = d.si AND t.subject_rel = d.sr
      AND (t.condition IS DISTINCT FROM d.c OR t.context IS DISTINCT FROM d.x
           OR t.expires_at IS DISTINCT FROM d.e)";

const DELETE: &str = "UPDATE zanzi_tuples t SET deleted_rev = $7
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
        AS d(n, o, r, sn, si, sr)
    WHERE t.deleted_rev IS NULL
      AND t.namespace = d.n AND t.object_id = d.o AND t.relation = d.r
      AND t.subject_ns = d.sn AND t.subject_id = d.si AND t.subject_rel = d.sr";

/// Takes the next revision for the write transaction `tx`: the head row's
/// lock orders it after every writer that holds it (released at commit),
/// its commit time is recorded, and followers of the feed are notified
/// when it commits.
fn next_revision(tx: &mut impl postgres::GenericClient) -> Result<i64, StoreError> {
    Ok(tx
        .query_typed_one(
            "WITH h AS (
                 UPDATE zanzi_meta SET head = head + 1 WHERE id = 1 RETURNING head),
             r AS (
                 INSERT INTO zanzi_revisions (rev, committed_at)
                 SELECT head, (extract(epoch FROM clock_timestamp()) * 1000)::bigint FROM h
                 RETURNING rev)
             SELECT rev, pg_notify('zanzi_changes', rev::text) FROM r",
            &[],
        )?
        .try_get(0)?)
}

impl PostgresStore {
    /// Connects to the database at `url` (as libpq takes it:
    /// `postgres://user@host:port/db?…`) and applies any pending migration.
    pub fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        let pool = Arc::new(pool_for(url)?);
        let mut conn = pool.get()?;
        migrations::migrate_client(&mut conn)?;
        let id: String = conn
            .query_one("SELECT store_id FROM zanzi_meta WHERE id = 1", &[])?
            .try_get(0)?;
        drop(conn);
        Ok(PostgresStore {
            pool: Some(pool),
            id,
        })
    }

    /// A connection for writes and upkeep (tested before it is handed
    /// out: see `pool.rs`).
    fn conn(&self) -> Result<Connection, StoreError> {
        self.pool()?.get_tested()
    }

    fn pool(&self) -> Result<&Arc<Pool>, StoreError> {
        self.pool
            .as_ref()
            .ok_or_else(|| StoreError::Backend("the store was closed".into()))
    }

    /// A connection of its own, outside the pool (the feed's listener).
    fn connect_unpooled(&self) -> Result<Client, StoreError> {
        self.pool()?.connect_now()
    }

    /// Runs `read` on a connection, and once more on a fresh one when the
    /// first dropped mid-way: reads are idempotent (see `pool.rs`).
    fn read<T>(
        &self,
        read: impl Fn(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.pool()?.get()?;
        match read(&mut conn) {
            Err(StoreError::Unavailable(_)) => {
                conn.forget();
                drop(conn);
                // Tested: the idle ones most likely went with it.
                read(&mut self.pool()?.get_tested()?)
            }
            result => result,
        }
    }

    /// This database's migration status.
    pub fn migration_status(&self) -> Result<crate::store::MigrationStatus, StoreError> {
        let mut conn = self.conn()?;
        migrations::client_status(&mut conn)
    }
}

/// Closing a connection blocks on the driver's own runtime, which panics
/// on a thread that drives an async runtime (a server dropping its state at
/// shutdown): the pool is closed on a thread of its own.
impl Drop for PostgresStore {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                let _ = std::thread::Builder::new()
                    .name("zanzi-pg-close".into())
                    .spawn(move || drop(pool));
            }
        }
    }
}

impl TupleStore for PostgresStore {
    fn snapshot(&self, at: Revision) -> Result<Box<dyn Reader + '_>, StoreError> {
        Ok(Box::new(PostgresReader::new(Arc::clone(self.pool()?), at)?))
    }

    fn head_revision(&self) -> Result<Revision, StoreError> {
        self.read(|conn| {
            let head: i64 = conn
                .query_typed_one("SELECT head FROM zanzi_meta WHERE id = 1", &[])?
                .try_get(0)?;
            Ok(to_revision(head))
        })
    }

    fn apply(&self, changes: &ChangeSet<'_>) -> Result<Revision, StoreError> {
        check_inserts(changes.inserts)?;
        check_all(changes.deletes)?;
        let kept: HashSet<KeyRef<'_>> = changes.inserts.iter().map(KeyRef::of).collect();
        let mut conn = self.conn()?;
        // READ COMMITTED (PostgreSQL's default, named so that a server
        // configured otherwise does not change it): every statement reads
        // a snapshot taken when it starts, so the checks below, which start
        // after `next_revision` took the head row's lock, see every
        // transaction that held that lock before (they committed to release
        // it) and no other writer can commit until this one does. So the
        // preconditions are checked against exactly the state at `rev - 1`,
        // whichever server or connection the other writers use.
        let mut tx = conn
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::ReadCommitted)
            .start()?;
        let rev = next_revision(&mut tx)?;
        check_preconditions(changes.preconditions, |filter| {
            let (conditions, values) = reads::filter_sql(filter, 1);
            let sql = format!(
                "SELECT EXISTS (SELECT 1 FROM zanzi_tuples WHERE deleted_rev IS NULL{conditions})"
            );
            let params: Vec<(&(dyn ToSql + Sync), Type)> =
                values.iter().map(|v| v.param()).collect();
            Ok(tx.query_typed_one(&sql, &params)?.try_get(0)?)
        })?;
        if let Some(filter) = changes.delete_matching {
            let (conditions, values) = reads::filter_sql(filter, 2);
            let sql = format!(
                "UPDATE zanzi_tuples SET deleted_rev = $1 WHERE deleted_rev IS NULL{conditions}"
            );
            let mut params: Vec<(&(dyn ToSql + Sync), Type)> = vec![(&rev, Type::INT8)];
            params.extend(values.iter().map(|v| v.param()));
            tx.query_typed(&sql, &params)?;
        }
        let deletes = column_arrays(
            changes
                .deletes
                .iter()
                .filter(|t| !kept.contains(&KeyRef::of(t))),
        );
        if !deletes[0].is_empty() {
            tx.query_typed(DELETE, &array_params(&deletes, &[(&rev, Type::INT8)]))?;
        }
        let inserts = column_arrays(changes.inserts.iter());
        if !inserts[0].is_empty() {
            let (names, contexts, expiries) = attribute_arrays(changes.inserts.iter());
            let params = array_params(
                &inserts,
                &[
                    (&rev, Type::INT8),
                    (&names, Type::TEXT_ARRAY),
                    (&contexts, Type::TEXT_ARRAY),
                    (&expiries, Type::INT8_ARRAY),
                ],
            );
            tx.query_typed(REPLACE, &params)?;
            tx.query_typed(INSERT, &params)?;
        }
        chain::record(&mut tx, &self.id, rev)?;
        tx.commit()?;
        Ok(to_revision(rev))
    }

    fn store_id(&self) -> Result<String, StoreError> {
        Ok(self.id.clone())
    }

    fn history_chain(&self, at: Revision) -> Result<Option<super::history::Chain>, StoreError> {
        self.chain_at(at)
    }

    fn secret_fingerprint(&self) -> Result<Option<String>, StoreError> {
        self.stored_fingerprint()
    }

    fn set_secret_fingerprint(&self, fingerprint: &str) -> Result<(), StoreError> {
        self.store_fingerprint(fingerprint)
    }

    fn changes_since(
        &self,
        after: Revision,
        limit: usize,
    ) -> Result<super::ChangeBatch, StoreError> {
        self.read_changes(after, limit)
    }

    fn wakeup(&self) -> Result<Box<dyn super::feed::Wakeup>, StoreError> {
        self.listener()
    }

    /// Each batch through `COPY` (`import.rs`).
    fn import(&self, tuples: &[Tuple], batch_size: usize) -> Result<ImportReport, StoreError> {
        self.copy_import(tuples, batch_size)
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
        self.read(|conn| {
            let horizon: i64 = conn
                .query_typed_one("SELECT gc_horizon FROM zanzi_meta WHERE id = 1", &[])?
                .try_get(0)?;
            Ok(to_revision(horizon))
        })
    }

    fn revision_as_of(&self, unix_millis: i64) -> Result<Option<Revision>, StoreError> {
        self.read(|conn| {
            let row = conn.query_typed_opt(
                "SELECT rev FROM zanzi_revisions WHERE committed_at <= $1
                 ORDER BY rev DESC LIMIT 1",
                &[(&unix_millis, Type::INT8)],
            )?;
            row.map(|row| Ok(to_revision(row.try_get(0)?))).transpose()
        })
    }

    fn live_count(&self) -> Result<u64, StoreError> {
        self.count_live()
    }

    fn gc_expired(&self, now: Expiry, limit: usize) -> Result<u64, StoreError> {
        let mut conn = self.conn()?;
        // Found through `zanzi_tuples_expiry`; no revision is spent when
        // none is.
        let any: bool = conn
            .query_typed_one(
                "SELECT EXISTS (SELECT 1 FROM zanzi_tuples
                 WHERE deleted_rev IS NULL AND expires_at <= $1)",
                &[(&now.micros, Type::INT8)],
            )?
            .try_get(0)?;
        if !any || limit == 0 {
            return Ok(0);
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // As `apply`: after the head row's lock, every statement sees every
        // earlier writer's commit.
        let mut tx = conn
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::ReadCommitted)
            .start()?;
        let rev = next_revision(&mut tx)?;
        let removed = tx.execute_typed(
            "UPDATE zanzi_tuples SET deleted_rev = $1
             WHERE (namespace, object_id, relation, subject_ns, subject_id, subject_rel,
                    created_rev) IN (
                 SELECT namespace, object_id, relation, subject_ns, subject_id, subject_rel,
                        created_rev
                 FROM zanzi_tuples WHERE deleted_rev IS NULL AND expires_at <= $2
                 ORDER BY expires_at LIMIT $3)",
            &[
                (&rev, Type::INT8),
                (&now.micros, Type::INT8),
                (&limit, Type::INT8),
            ],
        )?;
        if removed == 0 {
            // Another server collected them first: no empty revision.
            tx.rollback()?;
            return Ok(0);
        }
        chain::record(&mut tx, &self.id, rev)?;
        tx.commit()?;
        Ok(removed)
    }
}
