//! A durable [`TupleStore`] on SQLite (bundled, so there is nothing to
//! install).
//!
//! Layout: every string (namespace, ID, relation) is interned once in
//! `strings`, and a tuple is a row of integers. A subject's `s_obj` is 0 for
//! a wildcard and its `s_rel` is 0 for an object subject; real string ids
//! start at 1. Two tables (migration `0004_live_history`; databases written
//! before it had one `tuples` table), both clustered on the tuple
//! (`WITHOUT ROWID`), so that a forward read is one range of one b-tree with
//! every column at hand:
//!
//! - `live` holds the live tuples, keyed `(namespace, object, relation,
//!   subject…)`, with `created_rev`. The key makes inserts idempotent
//!   (`INSERT OR IGNORE`, never a duplicate) and serves forward reads;
//!   `live_reverse`, keyed `(subject…, namespace, relation, object)` and
//!   covering `created_rev`, serves reverse reads. An insert touches these
//!   two b-trees and `live_seq` (below), which it appends to (bulk imports
//!   are dominated by b-tree maintenance).
//! - `history` holds the deleted versions (`created_rev`, `deleted_rev`),
//!   keyed the same way plus `created_rev`, with `history_reverse`; a delete
//!   moves the row from `live` to `history`. Empty until something is
//!   deleted, so it costs imports nothing.
//! - Every version has a `seq`, increasing in the order of writing (a
//!   version moved to `history` keeps it); `live_seq` and `history_seq`
//!   serve listings, which follow that order a page at a time.
//!
//! Both tables also hold each version's condition (`cond`, an interned
//! name), stored context (`context`, canonical JSON) and expiry
//! (`expires_at`, microseconds), NULL when it has none (migration
//! `0006_conditions`). The key is still the tuple's, so a key has one live
//! row: writing it with other attributes moves the old row to `history`
//! and inserts the new one. The plain reads select `cond IS NULL AND
//! expires_at IS NULL`, which the clustered tables and the reverse indexes
//! answer without another lookup, but only in the relations listed in
//! `attributed_relations` (migration `0007_attributed_relations`): those
//! that hold or held a version with traits, marked by the transaction that
//! writes it. Every other relation is read without the test, as before
//! tuples had traits. A read scope reads the list when its snapshot's head
//! differs from the one it last read it at.
//!
//! A read at revision `R` sees the live rows created by `R` and the history
//! rows with `created_rev <= R < deleted_rev`. A read at the head of its
//! snapshot needs neither condition nor `history`: within a read scope (see
//! `reads.rs`) the store knows that head, and such reads are plain key lookups.
//! `revisions` records one row per write transaction (with its commit time);
//! `meta` holds the store's random id and its garbage-collection horizon.
//!
//! [`Maintenance::gc`] deletes from `history` the versions deleted at or
//! before a revision, in small batches, releasing the connection between
//! batches so that reads interleave with it.
//!
//! The `schema` table holds at most one compiled schema (`schema.rs`).
//! The database's own layout is versioned ([`migrations`]). The database
//! runs in WAL mode, so readers in other processes are not blocked by a
//! writer.
//!
//! One connection behind a mutex serves every call. The module is split by
//! job: `reads.rs` (the read scope, its memo, the [`Reader`]),
//! `interning.rs` (strings to ids), `sql.rs` (statement text), `filter.rs`,
//! `import.rs`, `schema.rs` and [`migrations`]; this file holds the store,
//! its writes and its upkeep.

mod chain;
mod filter;
mod import;
mod interning;
pub mod migrations;
mod reads;
mod schema;
mod sql;

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, params_from_iter, Connection, OptionalExtension, TransactionBehavior};
use rustc_hash::FxHashMap as HashMap;

use self::filter::{any_live, filter_sql};
use self::interning::{Interner, StoredAttributes};
use self::migrations::{connection_status, migrate_connection, LATEST_VERSION};
use self::reads::ObjectRows;
use self::sql::{ANY_EXPIRED, ARCHIVE, EXPIRED, INSERT, LIVE_REVERSE, REMOVE, SAME_ATTRIBUTES};
use super::revision::ensure_readable;
use super::{
    check_all, check_inserts, check_preconditions, ChangeBatch, ChangeSet, ImportReport, KeyRef,
    Maintenance, Reader, Revision, StoreError, TupleStore,
};
use crate::tuple::{Expiry, Object, Tuple};

pub use self::migrations::{
    migrate_down, migrate_up, migration_status, status_of, MigrationStatus,
};
pub use self::reads::SqliteReader;

/// The backend's errors, kept as the source of [`StoreError::Backend`].
impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> StoreError {
        StoreError::Backend(Box::new(error))
    }
}

/// A SQLite tuple store.
pub struct SqliteStore {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

struct Inner {
    conn: Connection,
    /// Committed interned strings, both ways.
    ids: HashMap<String, i64>,
    strings: HashMap<i64, String>,
    /// The highest revision known to be committed (heads only grow).
    known_head: u64,
    /// Live [`SqliteReader`]s: open read scopes.
    scopes: u32,
    /// Reads made in the current read transaction.
    reads_in_transaction: u32,
    /// The head revision of the open read transaction's snapshot.
    snapshot: Option<u64>,
    /// Whole objects read within scopes, by (ns, obj, revision): their
    /// tuples as (rel, s_ns, s_obj, s_rel), sorted by relation, then as
    /// [`Reader::subjects`] orders subjects; `None` for an object with
    /// more than [`sql::OBJECT_READ_LIMIT`] tuples.
    objects: HashMap<(i64, i64, i64), Option<ObjectRows>>,
    /// The garbage-collection horizon (see [`Maintenance::gc_horizon`]).
    horizon: u64,
    id: String,
    /// The relations whose plain reads filter out rows with traits.
    attributed: reads::Attributed,
}

/// The connection settings every store connection runs with.
fn configure(conn: &Connection) -> Result<(), StoreError> {
    // `journal_mode` answers with the mode in force (`memory` for `:memory:`).
    let _: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // 64 MiB of page cache (the default is 2 MiB): index inserts during an
    // import and reads of large relations stay in memory.
    conn.pragma_update(None, "cache_size", -65_536)?;
    // Reads map the file instead of copying pages through read(2): a check
    // is tens of index lookups, and at a million tuples the database
    // outgrows the page cache. (SQLite caps this at its compile-time limit.)
    let _: i64 = conn.query_row("PRAGMA mmap_size = 1073741824", [], |row| row.get(0))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}

/// The span of `seq` one [`Maintenance::gc`] transaction covers: at most
/// this many versions are read or removed while it holds the lock.
const GC_WINDOW: i64 = 4_096;

fn meta(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |row| row.get(0))
        .optional()?)
}

/// The store id, created on first use.
fn ensure_store_id(conn: &Connection) -> Result<String, StoreError> {
    conn.prepare_cached("INSERT OR IGNORE INTO meta (key, value) VALUES ('store_id', ?1)")?
        .execute([super::random_id()])?;
    Ok(meta(conn, "store_id")?.unwrap_or_default())
}

impl Inner {
    /// The versions `(tuple, created, deleted)` of `live` rows matching
    /// `live_condition` and `history` rows matching `history_condition`
    /// (SQL over the tables' columns, with `params`), in creation order.
    #[allow(clippy::type_complexity)]
    fn versions_where(
        &mut self,
        live_condition: &str,
        history_condition: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<(Tuple, Revision, Option<Revision>)>, StoreError> {
        let sql = format!(
            "SELECT ns, obj, rel, s_ns, s_obj, s_rel, created_rev, NULL, seq,
                    cond, context, expires_at
             FROM live WHERE {live_condition}
             UNION ALL
             SELECT ns, obj, rel, s_ns, s_obj, s_rel, created_rev, deleted_rev, seq,
                    cond, context, expires_at
             FROM history WHERE {history_condition}
             ORDER BY 9"
        );
        #[allow(clippy::type_complexity)]
        let rows: Vec<([i64; 6], i64, Option<i64>, StoredAttributes)> = self
            .conn
            .prepare_cached(&sql)?
            .query_map(params, |row| {
                Ok((
                    [
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                        row.get(5)?,
                    ],
                    row.get(6)?,
                    row.get(7)?,
                    (row.get(9)?, row.get(10)?, row.get(11)?),
                ))
            })?
            .collect::<Result<_, _>>()?;
        let rev = |r: i64| Revision(u64::try_from(r).unwrap_or_default());
        rows.into_iter()
            .map(|(row, created, deleted, attributes)| {
                Ok((
                    self.tuple_from(row, attributes)?,
                    rev(created),
                    deleted.map(rev),
                ))
            })
            .collect()
    }

    /// The tuple of a row: its six ids and its attribute columns.
    pub(super) fn tuple_from(
        &mut self,
        [ns, obj, rel, s_ns, s_obj, s_rel]: [i64; 6],
        attributes: StoredAttributes,
    ) -> Result<Tuple, StoreError> {
        let (condition, expires_at) = self.attributes_from(attributes)?;
        Ok(Tuple {
            object: Object {
                namespace: self.string(ns)?,
                id: self.string(obj)?,
            },
            relation: self.string(rel)?,
            subject: self.subject_from(s_ns, s_obj, s_rel)?,
            condition,
            expires_at,
        })
    }

    fn new(conn: Connection) -> Result<Inner, StoreError> {
        let id = ensure_store_id(&conn)?;
        let horizon = meta(&conn, "gc_horizon")?
            .and_then(|h| h.parse().ok())
            .unwrap_or(0);
        Ok(Inner {
            conn,
            ids: HashMap::default(),
            strings: HashMap::default(),
            known_head: 0,
            scopes: 0,
            reads_in_transaction: 0,
            snapshot: None,
            objects: HashMap::default(),
            horizon,
            id,
            attributed: reads::Attributed::default(),
        })
    }

    /// Runs `body` in a write transaction at a new revision, and keeps the
    /// strings it interned once it has committed.
    fn transaction<T>(
        &mut self,
        body: impl FnOnce(&rusqlite::Transaction<'_>, i64, &mut Interner<'_>) -> Result<T, StoreError>,
    ) -> Result<(Revision, T), StoreError> {
        self.end_read_transaction()?;
        let store_id = self.id.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.prepare_cached("INSERT INTO revisions (committed_at) VALUES (?1)")?
            .execute([now_millis()])?;
        let rev = tx.last_insert_rowid();
        // Within the write lock: no other connection assigns from here on.
        let seq: i64 = tx
            .prepare_cached(
                "SELECT MAX(COALESCE((SELECT MAX(seq) FROM live), 0),
                            COALESCE((SELECT MAX(seq) FROM history), 0))",
            )?
            .query_row([], |row| row.get(0))?;
        let mut interner = Interner {
            committed: &self.ids,
            fresh: HashMap::default(),
            seq,
            marked: Vec::new(),
        };
        let value = body(&tx, rev, &mut interner)?;
        chain::record(&tx, &store_id, rev, seq)?;
        let fresh = interner.fresh;
        tx.commit()?;
        self.strings.reserve(fresh.len());
        self.ids.reserve(fresh.len());
        for (value, id) in fresh {
            self.strings.insert(id, value.clone());
            self.ids.insert(value, id);
        }
        let rev = u64::try_from(rev).unwrap_or_default();
        self.known_head = self.known_head.max(rev);
        Ok((Revision(rev), value))
    }
}

/// Writes `tuple` at `rev` in the write transaction `tx`: inserted when its
/// key is not live, replacing the live tuple of its key when that has
/// another condition or expiry, nothing when it is live as it is. Returns
/// whether it was inserted. `insert` is [`INSERT`], prepared once per
/// transaction by the caller (an import writes many).
fn write_tuple(
    tx: &rusqlite::Transaction<'_>,
    insert: &mut rusqlite::CachedStatement<'_>,
    interner: &mut Interner<'_>,
    tuple: &Tuple,
    rev: i64,
) -> Result<bool, StoreError> {
    let [a, b, c, d, e, f] = interner.row(tx, tuple)?;
    let (cond, context, expires_at) = interner.attributes(tx, tuple)?;
    if cond.is_some() || expires_at.is_some() {
        interner.mark_attributed(tx, a, c)?;
    }
    let seq = interner.next_seq();
    let new = params![a, b, c, d, e, f, rev, seq, cond, context, expires_at];
    if insert.execute(new)? > 0 {
        return Ok(true);
    }
    let same: bool = tx.prepare_cached(SAME_ATTRIBUTES)?.query_row(
        params![a, b, c, d, e, f, cond, context, expires_at],
        |row| row.get(0),
    )?;
    if same {
        return Ok(false);
    }
    tx.prepare_cached(ARCHIVE)?
        .execute(params![a, b, c, d, e, f, rev])?;
    tx.prepare_cached(REMOVE)?
        .execute(params![a, b, c, d, e, f])?;
    let seq = interner.next_seq();
    insert.execute(params![
        a, b, c, d, e, f, rev, seq, cond, context, expires_at
    ])?;
    Ok(true)
}

pub(super) fn head_of(conn: &Connection) -> Result<u64, StoreError> {
    let head: Option<i64> = conn
        .prepare_cached("SELECT MAX(rev) FROM revisions")?
        .query_row([], |row| row.get(0))?;
    Ok(head.and_then(|h| u64::try_from(h).ok()).unwrap_or(0))
}

pub(super) fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

pub(super) fn rev_param(at: u64) -> i64 {
    i64::try_from(at).unwrap_or(i64::MAX)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and applies any
    /// pending migration.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let mut conn = Connection::open(path)?;
        configure(&conn)?;
        migrate_connection(&mut conn)?;
        // Left out by an import that did not finish (see `import`).
        conn.execute_batch(LIVE_REVERSE)?;
        SqliteStore::from_connection(conn)
    }

    /// Opens the database at `path` without changing its schema; fails with
    /// [`StoreError::NeedsMigration`] when migrations are pending.
    pub fn open_existing(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open(path)?;
        configure(&conn)?;
        let status = connection_status(&conn)?;
        if status.current != LATEST_VERSION {
            return Err(StoreError::NeedsMigration {
                found: status.current,
                expected: LATEST_VERSION,
            });
        }
        SqliteStore::from_connection(conn)
    }

    /// A private in-memory database, migrated.
    pub fn open_in_memory() -> Result<SqliteStore, StoreError> {
        let mut conn = Connection::open_in_memory()?;
        migrate_connection(&mut conn)?;
        SqliteStore::from_connection(conn)
    }

    fn from_connection(conn: Connection) -> Result<SqliteStore, StoreError> {
        // Every statement of this module is prepared once and kept.
        conn.set_prepared_statement_cache_capacity(128);
        Ok(SqliteStore {
            inner: Mutex::new(Inner::new(conn)?),
        })
    }

    fn lock(&self) -> Result<MutexGuard<'_, Inner>, StoreError> {
        self.inner.lock().map_err(|_| StoreError::Poisoned)
    }

    /// This database's migration status.
    pub fn migration_status(&self) -> Result<MigrationStatus, StoreError> {
        connection_status(&self.lock()?.conn)
    }

    /// Every stored version, in creation order: `(tuple, created, deleted)`.
    /// Used to build an in-memory mirror ([`super::CachedStore`]).
    #[allow(clippy::type_complexity)]
    pub fn versions(&self) -> Result<Vec<(Tuple, Revision, Option<Revision>)>, StoreError> {
        let mut inner = self.lock()?;
        inner.end_read_transaction()?;
        inner.versions_where("1", "1", [])
    }

    /// The change feed's versions: those created or deleted in
    /// `(after, head]`, with the head they were read at (read first, so
    /// that a later write is outside the range rather than half seen).
    #[allow(clippy::type_complexity)]
    fn changed_versions(
        &self,
        after: Revision,
    ) -> Result<(Vec<(Tuple, Revision, Option<Revision>)>, Revision, Revision), StoreError> {
        let mut inner = self.lock()?;
        inner.end_read_transaction()?;
        let head = head_of(&inner.conn)?;
        inner.known_head = inner.known_head.max(head);
        let after = rev_param(after.0);
        let versions = inner.versions_where(
            "created_rev > ?1",
            "created_rev > ?1 OR deleted_rev > ?1",
            [after],
        )?;
        Ok((versions, Revision(head), Revision(inner.horizon)))
    }

    /// How many tuples the write transaction `rev` deleted.
    pub fn deleted_at(&self, rev: Revision) -> Result<u64, StoreError> {
        let mut inner = self.lock()?;
        inner.end_read_transaction()?;
        // Deleted versions are all in `history` (until collected).
        let count: i64 = inner.conn.query_row(
            "SELECT COUNT(*) FROM history WHERE deleted_rev = ?1",
            [rev_param(rev.0)],
            |row| row.get(0),
        )?;
        Ok(u64::try_from(count).unwrap_or_default())
    }

    /// How many tuples are live at the head revision.
    fn count_live(&self) -> Result<u64, StoreError> {
        let mut inner = self.lock()?;
        inner.end_read_transaction()?;
        let count: i64 = inner
            .conn
            .query_row("SELECT COUNT(*) FROM live", [], |row| row.get(0))?;
        Ok(u64::try_from(count).unwrap_or_default())
    }
}

impl TupleStore for SqliteStore {
    fn snapshot(&self, at: Revision) -> Result<Box<dyn Reader + '_>, StoreError> {
        Ok(Box::new(SqliteReader::new(self, at)?))
    }

    fn apply(&self, changes: &ChangeSet<'_>) -> Result<Revision, StoreError> {
        check_inserts(changes.inserts)?;
        check_all(changes.deletes)?;
        let kept: HashSet<KeyRef<'_>> = changes.inserts.iter().map(KeyRef::of).collect();
        let mut inner = self.lock()?;
        // `None`: the filter names a string never stored, so nothing matches.
        let matching = match changes.delete_matching {
            Some(filter) => filter_sql(&mut inner, filter)?,
            None => None,
        };
        let (rev, ()) = inner.transaction(|tx, rev, interner| {
            // Inside the `IMMEDIATE` transaction: the database's write lock
            // is held from its start to its commit, so no other connection
            // writes between this check and the writes below.
            check_preconditions(changes.preconditions, |filter| any_live(tx, filter))?;
            if let Some((conditions, values)) = &matching {
                let conditions: String = conditions.iter().map(|c| format!(" AND {c}")).collect();
                let archive = format!(
                    "INSERT INTO history
                         (ns, obj, rel, s_rel, s_ns, s_obj, created_rev, deleted_rev, seq,
                          cond, context, expires_at)
                     SELECT ns, obj, rel, s_rel, s_ns, s_obj, created_rev, ?, seq,
                            cond, context, expires_at
                     FROM live WHERE 1{conditions}"
                );
                let mut args = vec![rev];
                args.extend(values.iter().copied());
                tx.prepare_cached(&archive)?
                    .execute(params_from_iter(args))?;
                tx.prepare_cached(&format!("DELETE FROM live WHERE 1{conditions}"))?
                    .execute(params_from_iter(values.iter()))?;
            }
            let mut archive = tx.prepare_cached(ARCHIVE)?;
            let mut remove = tx.prepare_cached(REMOVE)?;
            for tuple in changes.deletes {
                if kept.contains(&KeyRef::of(tuple)) {
                    continue;
                }
                if let Some([a, b, c, d, e, f]) = interner.known_row(tx, tuple)? {
                    if archive.execute(params![a, b, c, d, e, f, rev])? > 0 {
                        remove.execute(params![a, b, c, d, e, f])?;
                    }
                }
            }
            drop((archive, remove));
            let mut insert = tx.prepare_cached(INSERT)?;
            for tuple in changes.inserts {
                write_tuple(tx, &mut insert, interner, tuple, rev)?;
            }
            Ok(())
        })?;
        Ok(rev)
    }

    fn head_revision(&self) -> Result<Revision, StoreError> {
        let mut inner = self.lock()?;
        inner.end_read_transaction()?;
        let head = head_of(&inner.conn)?;
        inner.known_head = inner.known_head.max(head);
        Ok(Revision(head))
    }

    fn changes_since(&self, after: Revision, limit: usize) -> Result<ChangeBatch, StoreError> {
        let (versions, head, horizon) = self.changed_versions(after)?;
        ensure_readable(after, head, horizon)?;
        let versions = versions.iter().map(|(t, c, d)| (t, *c, *d));
        Ok(super::feed::from_versions(versions, after, head, limit))
    }

    fn import(&self, tuples: &[Tuple], batch_size: usize) -> Result<ImportReport, StoreError> {
        self.bulk_import(tuples, batch_size)
    }

    fn store_id(&self) -> Result<String, StoreError> {
        Ok(self.lock()?.id.clone())
    }

    fn history_chain(&self, at: Revision) -> Result<Option<super::history::Chain>, StoreError> {
        let mut inner = self.lock()?;
        inner.end_read_transaction()?;
        let head = head_of(&inner.conn)?;
        chain::chain_at(&inner.conn, &inner.id, at.0, head)
    }

    fn secret_fingerprint(&self) -> Result<Option<String>, StoreError> {
        let mut inner = self.lock()?;
        inner.end_read_transaction()?;
        meta(&inner.conn, "secret_fingerprint")
    }

    fn set_secret_fingerprint(&self, fingerprint: &str) -> Result<(), StoreError> {
        let mut inner = self.lock()?;
        inner.end_read_transaction()?;
        inner
            .conn
            .prepare_cached(
                "INSERT INTO meta (key, value) VALUES ('secret_fingerprint', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?
            .execute([fingerprint])?;
        Ok(())
    }
}

impl Maintenance for SqliteStore {
    fn gc_horizon(&self) -> Result<Revision, StoreError> {
        Ok(Revision(self.lock()?.horizon))
    }

    fn revision_as_of(&self, unix_millis: i64) -> Result<Option<Revision>, StoreError> {
        let mut inner = self.lock()?;
        inner.end_read_transaction()?;
        // Newest first: only the revisions inside the window are passed over.
        let rev: Option<i64> = inner
            .conn
            .prepare_cached(
                "SELECT rev FROM revisions WHERE committed_at <= ?1 ORDER BY rev DESC LIMIT 1",
            )?
            .query_row([unix_millis], |row| row.get(0))
            .optional()?;
        Ok(rev.and_then(|r| u64::try_from(r).ok()).map(Revision))
    }

    fn gc(&self, before: Revision) -> Result<u64, StoreError> {
        let before = {
            let mut inner = self.lock()?;
            inner.end_read_transaction()?;
            let head = head_of(&inner.conn)?;
            let before = before.0.min(head);
            if before <= inner.horizon {
                return Ok(0);
            }
            // Raise the horizon first: from now on nobody reads below it.
            inner
                .conn
                .prepare_cached(
                    "INSERT INTO meta (key, value) VALUES ('gc_horizon', ?1)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )?
                .execute([before.to_string()])?;
            inner.horizon = before;
            rev_param(before)
        };
        // Only `history` holds deleted versions; live ones are never
        // collected. It is walked once, in windows of `seq` (the
        // `history_seq` index), one short transaction per window so that
        // readers get the lock between: versions that must stay are read
        // once, not once per batch.
        let bounds: (Option<i64>, Option<i64>) = {
            let mut inner = self.lock()?;
            inner.end_read_transaction()?;
            inner
                .conn
                .query_row("SELECT MIN(seq), MAX(seq) FROM history", [], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })?
        };
        let (Some(low), Some(high)) = bounds else {
            return Ok(0);
        };
        let mut removed = 0u64;
        let mut from = low;
        while from <= high {
            let to = from.saturating_add(GC_WINDOW);
            let mut inner = self.lock()?;
            inner.end_read_transaction()?;
            let count = inner
                .conn
                .prepare_cached(
                    "DELETE FROM history WHERE seq >= ?1 AND seq < ?2 AND deleted_rev <= ?3",
                )?
                .execute(params![from, to, before])?;
            removed += count as u64;
            from = to;
        }
        Ok(removed)
    }

    fn live_count(&self) -> Result<u64, StoreError> {
        self.count_live()
    }

    fn gc_expired(&self, now: Expiry, limit: usize) -> Result<u64, StoreError> {
        let mut inner = self.lock()?;
        inner.end_read_transaction()?;
        // Found through `live_expiry`; no revision is spent when none is.
        let any: bool = inner
            .conn
            .prepare_cached(ANY_EXPIRED)?
            .query_row([now.micros], |row| row.get(0))?;
        if !any || limit == 0 {
            return Ok(0);
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let (_, removed) = inner.transaction(|tx, rev, _| {
            let keys: Vec<[i64; 6]> = tx
                .prepare_cached(EXPIRED)?
                .query_map(params![now.micros, limit], |row| {
                    Ok([
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                        row.get(5)?,
                    ])
                })?
                .collect::<Result<_, _>>()?;
            let mut archive = tx.prepare_cached(ARCHIVE)?;
            let mut remove = tx.prepare_cached(REMOVE)?;
            for [a, b, c, d, e, f] in &keys {
                archive.execute(params![a, b, c, d, e, f, rev])?;
                remove.execute(params![a, b, c, d, e, f])?;
            }
            Ok(keys.len() as u64)
        })?;
        Ok(removed)
    }
}
