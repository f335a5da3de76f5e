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
//! A read at revision `R` sees the live rows created by `R` and the history
//! rows with `created_rev <= R < deleted_rev`. A read at the head of its
//! snapshot needs neither condition nor `history`: within a read scope (see
//! below) the store knows that head, and such reads are plain key lookups.
//! `revisions` records one row per write transaction (with its commit time);
//! `meta` holds the store's random id and its garbage-collection horizon.
//!
//! [`TupleStore::gc`] deletes from `history` the versions deleted at or
//! before a revision, in small batches, releasing the connection between
//! batches so that reads interleave with it.
//!
//! The `schema` table holds at most one compiled schema ([`ir::Schema`] as
//! its JSON, with its hash): the schema the data was last written against,
//! so that a database carries what is needed to answer questions about it.
//! It is not revisioned: a question at an old revision is answered with the
//! current schema.
//!
//! The database's own layout is versioned with `PRAGMA user_version` and the migrations are
//! embedded below; [`migrate_up`] applies the pending ones and
//! [`migration_status`] reports them. The database runs in WAL mode, so
//! readers in other processes are not blocked by a writer.
//!
//! One connection behind a mutex serves every call; interned strings are
//! cached in memory (they are immutable once committed, so the cache stays
//! valid even while other processes write). Within a read scope
//! ([`TupleStore::begin_reads`]) the reads share one read transaction, and
//! each small object's tuples are read whole, once, when a permission of it
//! is evaluated.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{LazyLock, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, params_from_iter, Connection, OptionalExtension, TransactionBehavior};
use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;

use super::{
    check_all, Page, PageRequest, Probe, ProbeHit, ReadScope, Revision, StoreError, SubjectKind,
    TupleFilter, TupleStore,
};
use crate::ir;
use crate::tuple::{Object, Subject, SubjectRef, Tuple};

/// The embedded migrations, in order; migration `i` (1-based) brings the
/// database to `user_version = i`. Never edit one that has shipped: append.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_tuples",
        "CREATE TABLE strings (
        id    INTEGER PRIMARY KEY,
        value TEXT NOT NULL UNIQUE
    );
    CREATE TABLE revisions (
        rev          INTEGER PRIMARY KEY,
        committed_at INTEGER NOT NULL
    );
    CREATE TABLE tuples (
        id          INTEGER PRIMARY KEY,
        ns          INTEGER NOT NULL,
        obj         INTEGER NOT NULL,
        rel         INTEGER NOT NULL,
        s_ns        INTEGER NOT NULL,
        s_obj       INTEGER NOT NULL,
        s_rel       INTEGER NOT NULL,
        created_rev INTEGER NOT NULL,
        deleted_rev INTEGER
    );
    CREATE UNIQUE INDEX tuples_live
        ON tuples (ns, obj, rel, s_rel, s_ns, s_obj) WHERE deleted_rev IS NULL;
    CREATE INDEX tuples_history
        ON tuples (ns, obj, rel, s_rel, s_ns, s_obj, created_rev, deleted_rev)
        WHERE deleted_rev IS NOT NULL;
    CREATE INDEX tuples_reverse
        ON tuples (s_ns, s_obj, s_rel, ns, rel, obj, created_rev, deleted_rev);",
    ),
    (
        "0002_schema",
        // At most one row: the compiled schema the data is written against.
        "CREATE TABLE schema (
        id       INTEGER PRIMARY KEY CHECK (id = 1),
        hash     TEXT NOT NULL,
        ir       TEXT NOT NULL,
        saved_at INTEGER NOT NULL
    );",
    ),
    (
        "0003_meta",
        // Store-wide settings: the store id and the garbage-collection horizon.
        "CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );",
    ),
    (
        "0004_live_history",
        // `tuples` split into the live tuples and their history, each
        // clustered on the tuple; the rows are moved over (a version's `seq`
        // is its `tuples.id`: listings keep their order and their cursors),
        // then `tuples` goes.
        "CREATE TABLE live (
        ns          INTEGER NOT NULL,
        obj         INTEGER NOT NULL,
        rel         INTEGER NOT NULL,
        s_rel       INTEGER NOT NULL,
        s_ns        INTEGER NOT NULL,
        s_obj       INTEGER NOT NULL,
        created_rev INTEGER NOT NULL,
        seq         INTEGER NOT NULL,
        PRIMARY KEY (ns, obj, rel, s_rel, s_ns, s_obj)
    ) WITHOUT ROWID;
    CREATE TABLE history (
        ns          INTEGER NOT NULL,
        obj         INTEGER NOT NULL,
        rel         INTEGER NOT NULL,
        s_rel       INTEGER NOT NULL,
        s_ns        INTEGER NOT NULL,
        s_obj       INTEGER NOT NULL,
        created_rev INTEGER NOT NULL,
        deleted_rev INTEGER NOT NULL,
        seq         INTEGER NOT NULL,
        PRIMARY KEY (ns, obj, rel, s_rel, s_ns, s_obj, created_rev)
    ) WITHOUT ROWID;
    INSERT INTO live (ns, obj, rel, s_rel, s_ns, s_obj, created_rev, seq)
        SELECT ns, obj, rel, s_rel, s_ns, s_obj, created_rev, id
        FROM tuples WHERE deleted_rev IS NULL;
    INSERT INTO history (ns, obj, rel, s_rel, s_ns, s_obj, created_rev, deleted_rev, seq)
        SELECT ns, obj, rel, s_rel, s_ns, s_obj, created_rev, deleted_rev, id
        FROM tuples WHERE deleted_rev IS NOT NULL;
    DROP TABLE tuples;
    CREATE INDEX live_reverse
        ON live (s_ns, s_obj, s_rel, ns, rel, obj, created_rev);
    CREATE INDEX history_reverse
        ON history (s_ns, s_obj, s_rel, ns, rel, obj, created_rev, deleted_rev);
    CREATE INDEX live_seq ON live (seq, created_rev);
    CREATE INDEX history_seq ON history (seq, created_rev, deleted_rev);",
    ),
];

/// The schema version this program writes.
pub const LATEST_VERSION: u32 = MIGRATIONS.len() as u32;

/// Where a database stands with respect to the embedded migrations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MigrationStatus {
    /// The database's `user_version`: how many migrations are applied.
    pub current: u32,
    /// The number of migrations this program knows.
    pub latest: u32,
    /// Names of the migrations that have been applied.
    pub applied: Vec<&'static str>,
    /// Names of the migrations still to apply, in order.
    pub pending: Vec<&'static str>,
}

/// The status of a database at layout version `current`.
pub fn status_of(current: u32) -> MigrationStatus {
    let applied = MIGRATIONS
        .iter()
        .take(current as usize)
        .map(|(name, _)| *name)
        .collect();
    let pending = MIGRATIONS
        .iter()
        .skip(current as usize)
        .map(|(name, _)| *name)
        .collect();
    MigrationStatus {
        current,
        latest: LATEST_VERSION,
        applied,
        pending,
    }
}

fn user_version(conn: &Connection) -> Result<u32, StoreError> {
    Ok(conn.query_row("PRAGMA user_version", [], |row| row.get(0))?)
}

fn connection_status(conn: &Connection) -> Result<MigrationStatus, StoreError> {
    let current = user_version(conn)?;
    if current > LATEST_VERSION {
        return Err(StoreError::NewerDatabase {
            found: current,
            supported: LATEST_VERSION,
        });
    }
    Ok(status_of(current))
}

/// Applies every pending migration, each in its own transaction.
fn migrate_connection(conn: &mut Connection) -> Result<MigrationStatus, StoreError> {
    let status = connection_status(conn)?;
    for (index, (_, sql)) in MIGRATIONS.iter().enumerate().skip(status.current as usize) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as u32 + 1)?;
        tx.commit()?;
    }
    connection_status(conn)
}

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

/// The migration status of the database at `path` (which must exist).
pub fn migration_status(path: &Path) -> Result<MigrationStatus, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection_status(&conn)
}

/// Creates the database at `path` if needed and applies every pending
/// migration.
pub fn migrate_up(path: &Path) -> Result<MigrationStatus, StoreError> {
    let mut conn = Connection::open(path)?;
    configure(&conn)?;
    migrate_connection(&mut conn)
}

/// How an [`SqliteStore::import`] went.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Tuples written (new live tuples).
    pub inserted: u64,
    /// Tuples that were already live.
    pub unchanged: u64,
    /// One revision per batch; the last is the store's head after the import.
    pub revisions: Vec<Revision>,
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
    /// Open [`TupleStore::begin_reads`] scopes.
    scopes: u32,
    /// Reads made in the current read transaction.
    reads_in_transaction: u32,
    /// The head revision of the open read transaction's snapshot.
    snapshot: Option<u64>,
    /// Whole objects read within scopes, by (ns, obj, revision): their
    /// tuples as (rel, s_ns, s_obj, s_rel), sorted by relation, then as
    /// [`TupleStore::subjects`] orders subjects; `None` for an object with
    /// more than [`OBJECT_READ_LIMIT`] tuples.
    objects: HashMap<(i64, i64, i64), Option<ObjectRows>>,
    /// The garbage-collection horizon (see [`TupleStore::gc_horizon`]).
    horizon: u64,
    id: String,
}

/// The span of `seq` one [`TupleStore::gc`] transaction covers: at most
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

/// The tuples of one object as (rel, s_ns, s_obj, s_rel).
type ObjectRows = Vec<[i64; 4]>;

/// An object with at most this many tuples is read whole, in one
/// statement, the first time a scope asks about it; larger ones are read a
/// relation at a time.
const OBJECT_READ_LIMIT: i64 = 64;

/// Objects kept by open scopes before the memo starts over.
const MAX_MEMO_OBJECTS: usize = 200_000;

/// Reads in one read transaction before it is renewed, so that scopes
/// that keep overlapping never hold back WAL checkpoints for long.
const MAX_READS_PER_TRANSACTION: u32 = 10_000;

/// Interned ids of one tuple: (ns, obj, rel, s_ns, s_obj, s_rel).
type Row = [i64; 6];

impl Inner {
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
        })
    }

    /// Called before every read: within a scope, the reads share one read
    /// transaction (begun here when none is open), which spares SQLite
    /// taking and releasing its file locks around every statement.
    fn before_read(&mut self) -> Result<(), StoreError> {
        if self.scopes == 0 {
            return Ok(());
        }
        if self.reads_in_transaction >= MAX_READS_PER_TRANSACTION {
            self.end_read_transaction()?;
        }
        if self.conn.is_autocommit() {
            self.conn.execute_batch("BEGIN")?;
            self.reads_in_transaction = 0;
            // The first read fixes the snapshot; this one tells its head.
            let head = head_of(&self.conn)?;
            self.snapshot = Some(head);
            self.known_head = self.known_head.max(head);
        }
        self.reads_in_transaction += 1;
        Ok(())
    }

    /// Whether a read at `at` is a read at the head of the open read
    /// transaction's snapshot: then the live rows are exactly the visible
    /// ones (every row was created by then, and nothing was deleted after).
    fn at_head(&self, at: i64) -> bool {
        self.snapshot.is_some_and(|head| rev_param(head) == at)
    }

    /// Ends the read transaction, if one is open: before a write, and
    /// before looking for revisions newer than its snapshot.
    fn end_read_transaction(&mut self) -> Result<(), StoreError> {
        self.snapshot = None;
        if !self.conn.is_autocommit() {
            self.conn.execute_batch("COMMIT")?;
        }
        Ok(())
    }

    /// The tuples of object `(ns, obj)` at revision `at` (see
    /// [`Inner::objects`]), read once per scope; `None` outside scopes and
    /// for large objects.
    fn object_rows(
        &mut self,
        ns: i64,
        obj: i64,
        at: i64,
    ) -> Result<Option<&[[i64; 4]]>, StoreError> {
        if self.scopes == 0 {
            return Ok(None);
        }
        let key = (ns, obj, at);
        if !self.objects.contains_key(&key) {
            let row =
                |row: &rusqlite::Row<'_>| Ok([row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?]);
            let mut rows: Vec<[i64; 4]> = if self.at_head(at) {
                self.conn
                    .prepare_cached(&HEAD_OBJECT_ROWS)?
                    .query_map(params![ns, obj], row)?
                    .collect::<Result<_, _>>()?
            } else {
                self.conn
                    .prepare_cached(&OBJECT_ROWS)?
                    .query_map(params![ns, obj, at], row)?
                    .collect::<Result<_, _>>()?
            };
            let entry = if rows.len() as i64 > OBJECT_READ_LIMIT {
                None
            } else {
                rows.sort_unstable_by_key(|&[rel, s_ns, s_obj, s_rel]| (rel, s_rel, s_ns, s_obj));
                Some(rows)
            };
            if self.objects.len() >= MAX_MEMO_OBJECTS {
                self.objects.clear();
            }
            self.objects.insert(key, entry);
        }
        Ok(self.objects.get(&key).and_then(|rows| rows.as_deref()))
    }

    /// Reads the objects `objs` (at most [`PREFETCH_CHUNK`]) of namespace
    /// `ns` whole, in one statement, into the scope's memo.
    fn read_objects(&mut self, ns: i64, objs: &[i64], at: i64) -> Result<(), StoreError> {
        let mut args: Vec<i64> = Vec::with_capacity(PREFETCH_CHUNK + 2);
        args.push(ns);
        args.extend_from_slice(objs);
        // Unused slots hold -1, which no string has.
        args.resize(PREFETCH_CHUNK + 1, -1);
        let head = self.at_head(at);
        if !head {
            args.push(at);
        }
        let sql = if head { &*HEAD_PREFETCH } else { &*PREFETCH };
        let mut rows: HashMap<i64, ObjectRows> = HashMap::default();
        let mut statement = self.conn.prepare_cached(sql)?;
        let mut result = statement.query(params_from_iter(args))?;
        while let Some(row) = result.next()? {
            rows.entry(row.get(0)?).or_default().push([
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
            ]);
        }
        drop(result);
        drop(statement);
        if self.objects.len() + objs.len() > MAX_MEMO_OBJECTS {
            self.objects.clear();
        }
        for &obj in objs {
            let mut tuples = rows.remove(&obj).unwrap_or_default();
            let entry = if tuples.len() as i64 > OBJECT_READ_LIMIT {
                None
            } else {
                tuples.sort_unstable_by_key(|&[rel, s_ns, s_obj, s_rel]| (rel, s_rel, s_ns, s_obj));
                Some(tuples)
            };
            self.objects.insert((ns, obj, at), entry);
        }
        Ok(())
    }

    /// The id of a committed string, if it was ever interned.
    fn lookup(&mut self, value: &str) -> Result<Option<i64>, StoreError> {
        if let Some(&id) = self.ids.get(value) {
            return Ok(Some(id));
        }
        let id: Option<i64> = self
            .conn
            .prepare_cached("SELECT id FROM strings WHERE value = ?1")?
            .query_row([value], |row| row.get(0))
            .optional()?;
        if let Some(id) = id {
            self.remember(value.to_owned(), id);
        }
        Ok(id)
    }

    fn remember(&mut self, value: String, id: i64) {
        self.strings.insert(id, value.clone());
        self.ids.insert(value, id);
    }

    fn string(&mut self, id: i64) -> Result<String, StoreError> {
        self.fetch(id)?;
        Ok(self.cached(id).to_owned())
    }

    /// Brings the string `id` into the cache.
    fn fetch(&mut self, id: i64) -> Result<(), StoreError> {
        if id == 0 || self.strings.contains_key(&id) {
            return Ok(());
        }
        let value: String = self
            .conn
            .prepare_cached("SELECT value FROM strings WHERE id = ?1")?
            .query_row([id], |row| row.get(0))?;
        self.remember(value, id);
        Ok(())
    }

    /// A string brought into the cache by [`Inner::fetch`].
    fn cached(&self, id: i64) -> &str {
        self.strings.get(&id).map_or("", String::as_str)
    }

    /// A subject whose strings are in the cache.
    fn cached_subject(&self, [ns, obj, rel]: [i64; 3]) -> SubjectRef<'_> {
        let namespace = self.cached(ns);
        if obj == 0 {
            return SubjectRef::Wildcard { namespace };
        }
        let id = self.cached(obj);
        if rel == 0 {
            SubjectRef::Object { namespace, id }
        } else {
            SubjectRef::Set {
                namespace,
                id,
                relation: self.cached(rel),
            }
        }
    }

    /// The ids of a tuple whose strings are all interned, or `None` when it
    /// cannot be stored.
    fn lookup_row(&mut self, tuple: &Tuple) -> Result<Option<Row>, StoreError> {
        let mut row = [0i64; 6];
        let parts = row_parts(tuple);
        for (slot, part) in row.iter_mut().zip(parts) {
            if let Some(text) = part {
                match self.lookup(text)? {
                    Some(id) => *slot = id,
                    None => return Ok(None),
                }
            }
        }
        Ok(Some(row))
    }

    fn lookup_subject(&mut self, subject: SubjectRef<'_>) -> Result<Option<[i64; 3]>, StoreError> {
        let (ns, obj, rel) = subject_ref_parts(subject);
        let Some(ns) = self.lookup(ns)? else {
            return Ok(None);
        };
        let obj = match obj {
            Some(obj) => match self.lookup(obj)? {
                Some(id) => id,
                None => return Ok(None),
            },
            None => 0,
        };
        let rel = match rel {
            Some(rel) => match self.lookup(rel)? {
                Some(id) => id,
                None => return Ok(None),
            },
            None => 0,
        };
        Ok(Some([ns, obj, rel]))
    }

    fn subject_from(&mut self, ns: i64, obj: i64, rel: i64) -> Result<Subject, StoreError> {
        let namespace = self.string(ns)?;
        if obj == 0 {
            return Ok(Subject::Wildcard { namespace });
        }
        let object = Object {
            namespace,
            id: self.string(obj)?,
        };
        if rel == 0 {
            return Ok(Subject::Object(object));
        }
        Ok(Subject::Set {
            object,
            relation: self.string(rel)?,
        })
    }

    fn check_revision(&mut self, at: Revision) -> Result<u64, StoreError> {
        if at.0 < self.horizon {
            return Err(StoreError::RevisionCollected {
                requested: at,
                horizon: Revision(self.horizon),
            });
        }
        if at.0 <= self.known_head {
            return Ok(at.0);
        }
        // Another process may have written since: look with a fresh snapshot.
        self.end_read_transaction()?;
        self.before_read()?;
        let head = match self.snapshot {
            Some(head) => head,
            None => head_of(&self.conn)?,
        };
        self.known_head = head;
        if at.0 > head {
            return Err(StoreError::FutureRevision {
                requested: at,
                head: Revision(head),
            });
        }
        Ok(at.0)
    }

    /// Runs `body` in an immediate transaction with a fresh revision; new
    /// interned strings reach the cache only once the transaction commits.
    fn transaction<T>(
        &mut self,
        body: impl FnOnce(&rusqlite::Transaction<'_>, i64, &mut Interner<'_>) -> Result<T, StoreError>,
    ) -> Result<(Revision, T), StoreError> {
        self.end_read_transaction()?;
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
        };
        let value = body(&tx, rev, &mut interner)?;
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

/// Interns strings inside a write transaction, and numbers its new
/// versions.
struct Interner<'a> {
    committed: &'a HashMap<String, i64>,
    fresh: HashMap<String, i64>,
    /// The last `seq` given out.
    seq: i64,
}

impl Interner<'_> {
    /// The `seq` of the next version written.
    fn next_seq(&mut self) -> i64 {
        self.seq += 1;
        self.seq
    }

    fn id(&mut self, tx: &rusqlite::Transaction<'_>, value: &str) -> Result<i64, StoreError> {
        if let Some(&id) = self.committed.get(value).or_else(|| self.fresh.get(value)) {
            return Ok(id);
        }
        // Most misses are new strings (an import), so try the insert first.
        let inserted = tx
            .prepare_cached("INSERT OR IGNORE INTO strings (value) VALUES (?1)")?
            .execute([value])?;
        let id = if inserted == 1 {
            tx.last_insert_rowid()
        } else {
            tx.prepare_cached("SELECT id FROM strings WHERE value = ?1")?
                .query_row([value], |row| row.get(0))?
        };
        self.fresh.insert(value.to_owned(), id);
        Ok(id)
    }

    fn row(&mut self, tx: &rusqlite::Transaction<'_>, tuple: &Tuple) -> Result<Row, StoreError> {
        let mut row = [0i64; 6];
        for (slot, part) in row.iter_mut().zip(row_parts(tuple)) {
            if let Some(text) = part {
                *slot = self.id(tx, text)?;
            }
        }
        Ok(row)
    }

    /// The id of a string interned before or during this transaction.
    fn known(
        &self,
        tx: &rusqlite::Transaction<'_>,
        value: &str,
    ) -> Result<Option<i64>, StoreError> {
        if let Some(&id) = self.committed.get(value).or_else(|| self.fresh.get(value)) {
            return Ok(Some(id));
        }
        Ok(tx
            .prepare_cached("SELECT id FROM strings WHERE value = ?1")?
            .query_row([value], |row| row.get(0))
            .optional()?)
    }

    fn known_row(
        &self,
        tx: &rusqlite::Transaction<'_>,
        tuple: &Tuple,
    ) -> Result<Option<Row>, StoreError> {
        let mut row = [0i64; 6];
        for (slot, part) in row.iter_mut().zip(row_parts(tuple)) {
            if let Some(text) = part {
                match self.known(tx, text)? {
                    Some(id) => *slot = id,
                    None => return Ok(None),
                }
            }
        }
        Ok(Some(row))
    }
}

/// The strings of a tuple in row order; `None` stands for the 0 of a
/// wildcard's object or an object subject's relation.
fn row_parts(tuple: &Tuple) -> [Option<&str>; 6] {
    let (s_ns, s_obj, s_rel) = subject_parts(&tuple.subject);
    [
        Some(tuple.object.namespace.as_str()),
        Some(tuple.object.id.as_str()),
        Some(tuple.relation.as_str()),
        Some(s_ns),
        s_obj,
        s_rel,
    ]
}

fn subject_parts(subject: &Subject) -> (&str, Option<&str>, Option<&str>) {
    subject_ref_parts(subject.borrowed())
}

fn subject_ref_parts(subject: SubjectRef<'_>) -> (&str, Option<&str>, Option<&str>) {
    match subject {
        SubjectRef::Object { namespace, id } => (namespace, Some(id), None),
        SubjectRef::Set {
            namespace,
            id,
            relation,
        } => (namespace, Some(id), Some(relation)),
        SubjectRef::Wildcard { namespace } => (namespace, None, None),
    }
}

fn head_of(conn: &Connection) -> Result<u64, StoreError> {
    let head: Option<i64> = conn
        .prepare_cached("SELECT MAX(rev) FROM revisions")?
        .query_row([], |row| row.get(0))?;
    Ok(head.and_then(|h| u64::try_from(h).ok()).unwrap_or(0))
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn rev_param(at: u64) -> i64 {
    i64::try_from(at).unwrap_or(i64::MAX)
}

/// An insert at revision ?7 as version ?8 (ignored when the tuple is live).
const INSERT: &str =
    "INSERT OR IGNORE INTO live (ns, obj, rel, s_ns, s_obj, s_rel, created_rev, seq)
                      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
/// A delete, first half: the live row moves to `history`, deleted at ?7.
const ARCHIVE: &str =
    "INSERT INTO history (ns, obj, rel, s_rel, s_ns, s_obj, created_rev, deleted_rev, seq)
                       SELECT ns, obj, rel, s_rel, s_ns, s_obj, created_rev, ?7, seq FROM live
                       WHERE ns = ?1 AND obj = ?2 AND rel = ?3 AND s_rel = ?6 AND s_ns = ?4
                         AND s_obj = ?5";
/// A delete, second half.
const REMOVE: &str = "DELETE FROM live
                      WHERE ns = ?1 AND obj = ?2 AND rel = ?3 AND s_rel = ?6 AND s_ns = ?4
                        AND s_obj = ?5";

/// A read at revision `?r`: the `columns` of the rows matching `key` that
/// are visible then, live or deleted later.
fn forward_sql(columns: &str, key: &str) -> String {
    format!(
        "SELECT {columns} FROM live WHERE {key} AND created_rev <= ?r
         UNION ALL
         SELECT {columns} FROM history WHERE {key} AND created_rev <= ?r AND deleted_rev > ?r"
    )
}

/// The same read at the head of the snapshot: the live rows.
fn head_sql(columns: &str, key: &str) -> String {
    format!("SELECT {columns} FROM live WHERE {key}")
}

const KIND_FILTERS: [&str; 3] = ["", " AND s_rel = 0 AND s_obj <> 0", " AND s_rel > 0"];

/// The statement of `statements` (per [`KIND_FILTERS`]) for `kind`.
fn for_kind(statements: &[String; 3], kind: SubjectKind) -> &str {
    let [all, objects, sets] = statements;
    match kind {
        SubjectKind::All => all,
        SubjectKind::Objects => objects,
        SubjectKind::Sets => sets,
    }
}

/// `subjects`, per [`SubjectKind`]: (ns, obj, rel, at).
static SUBJECTS: LazyLock<[String; 3]> = LazyLock::new(|| {
    KIND_FILTERS.map(|filter| {
        format!(
            "{} ORDER BY 3, 1, 2",
            forward_sql(
                "s_ns, s_obj, s_rel",
                &format!("ns = ?1 AND obj = ?2 AND rel = ?3{filter}")
            )
            .replace("?r", "?4")
        )
    })
});

/// `subjects` at the snapshot's head, in key order: (ns, obj, rel).
static HEAD_SUBJECTS: LazyLock<[String; 3]> = LazyLock::new(|| {
    KIND_FILTERS.map(|filter| {
        format!(
            "{} ORDER BY s_rel, s_ns, s_obj",
            head_sql(
                "s_ns, s_obj, s_rel",
                &format!("ns = ?1 AND obj = ?2 AND rel = ?3{filter}")
            )
        )
    })
});

const TUPLE_KEY: &str =
    "ns = ?1 AND obj = ?2 AND rel = ?3 AND s_rel = ?6 AND s_ns = ?4 AND s_obj = ?5";

/// `contains`: (ns, obj, rel, s_ns, s_obj, s_rel, at).
static CONTAINS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT EXISTS ({})",
        forward_sql("1", TUPLE_KEY).replace("?r", "?7")
    )
});

/// `contains` at the snapshot's head: (ns, obj, rel, s_ns, s_obj, s_rel).
static HEAD_CONTAINS: LazyLock<String> =
    LazyLock::new(|| format!("SELECT EXISTS ({})", head_sql("1", TUPLE_KEY)));

/// The three questions of a probe of `live`, each one index seek: the exact
/// subject (?4, ?5, ?6), the wildcard of namespace ?7, the subject sets (only
/// when ?8 is 0: every `s_rel` is above it). An absent subject or wildcard
/// is bound as -1, which no row has. Rows say which question they answer by
/// their subject.
fn probe_arms(visible: &str) -> String {
    let key = "ns = ?1 AND obj = ?2 AND rel = ?3";
    [
        "s_rel = ?6 AND s_ns = ?4 AND s_obj = ?5",
        "s_rel = 0 AND s_ns = ?7 AND s_obj = 0",
        "s_rel > ?8",
    ]
    .map(|subject| {
        format!("SELECT s_ns, s_obj, s_rel FROM live WHERE {key} AND {subject}{visible}")
    })
    .join("\n UNION ALL\n")
}

/// `probe` at revision ?9: the three arms over live rows created by then,
/// and every row of the relation in `history` visible then.
static PROBE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{}\n UNION ALL\n SELECT s_ns, s_obj, s_rel FROM history
         WHERE ns = ?1 AND obj = ?2 AND rel = ?3 AND created_rev <= ?9 AND deleted_rev > ?9",
        probe_arms(" AND created_rev <= ?9")
    )
});

/// `probe` at the snapshot's head, with only the arms a probe needs (an arm
/// is a seek even when it finds nothing): `HEAD_PROBES[mask]` for bit 0 the
/// exact subject (?4, ?5, ?6), bit 1 the wildcard (?7; ?4 to ?6 are then
/// bound too), bit 2 the subject sets. Parameters (ns, obj, rel, …).
static HEAD_PROBES: LazyLock<[String; 8]> = LazyLock::new(|| {
    let key = "ns = ?1 AND obj = ?2 AND rel = ?3";
    let arms = [
        "s_rel = ?6 AND s_ns = ?4 AND s_obj = ?5",
        "s_rel = 0 AND s_ns = ?7 AND s_obj = 0",
        "s_rel > 0",
    ];
    std::array::from_fn(|mask| {
        arms.iter()
            .enumerate()
            .filter(|(bit, _)| mask & (1 << bit) != 0)
            .map(|(_, arm)| format!("SELECT s_ns, s_obj, s_rel FROM live WHERE {key} AND {arm}"))
            .collect::<Vec<_>>()
            .join("\n UNION ALL\n")
    })
});

/// Every tuple of one object, one more than [`OBJECT_READ_LIMIT`] at most:
/// (ns, obj, at). The limit is a literal: SQLite prepares a statement again
/// whenever a parameter that its plan depends on (a `LIMIT`) is bound.
static OBJECT_ROWS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{} LIMIT {}",
        forward_sql("rel, s_ns, s_obj, s_rel", "ns = ?1 AND obj = ?2").replace("?r", "?3"),
        OBJECT_READ_LIMIT + 1
    )
});

/// The same at the snapshot's head: (ns, obj).
static HEAD_OBJECT_ROWS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{} LIMIT {}",
        head_sql("rel, s_ns, s_obj, s_rel", "ns = ?1 AND obj = ?2"),
        OBJECT_READ_LIMIT + 1
    )
});

/// Objects read together by `prefetch`, one statement each chunk.
const PREFETCH_CHUNK: usize = 256;

/// The key of a `prefetch` chunk: namespace ?1, objects ?2 to ?257.
fn prefetch_key() -> String {
    let slots: Vec<String> = (2..PREFETCH_CHUNK + 2).map(|i| format!("?{i}")).collect();
    format!("ns = ?1 AND obj IN ({})", slots.join(", "))
}

/// `prefetch` at revision ?258: (ns, objects…, at).
static PREFETCH: LazyLock<String> = LazyLock::new(|| {
    forward_sql("obj, rel, s_ns, s_obj, s_rel", &prefetch_key())
        .replace("?r", &format!("?{}", PREFETCH_CHUNK + 2))
});

/// `prefetch` at the snapshot's head: (ns, objects…).
static HEAD_PREFETCH: LazyLock<String> =
    LazyLock::new(|| head_sql("obj, rel, s_ns, s_obj, s_rel", &prefetch_key()));

/// `objects_with_subject`: (s_ns, s_obj, s_rel, ns, rel, at).
static OBJECTS_WITH_SUBJECT: LazyLock<String> = LazyLock::new(|| {
    forward_sql(
        "obj",
        "s_ns = ?1 AND s_obj = ?2 AND s_rel = ?3 AND ns = ?4 AND rel = ?5",
    )
    .replace("?r", "?6")
});

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
        conn.set_prepared_statement_cache_capacity(64);
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
        let rows: Vec<([i64; 6], i64, Option<i64>)> = inner
            .conn
            .prepare_cached(
                "SELECT ns, obj, rel, s_ns, s_obj, s_rel, created_rev, NULL, seq FROM live
                 UNION ALL
                 SELECT ns, obj, rel, s_ns, s_obj, s_rel, created_rev, deleted_rev, seq
                 FROM history
                 ORDER BY 9",
            )?
            .query_map([], |row| {
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
                ))
            })?
            .collect::<Result<_, _>>()?;
        let rev = |r: i64| Revision(u64::try_from(r).unwrap_or_default());
        rows.into_iter()
            .map(|([ns, obj, rel, s_ns, s_obj, s_rel], created, deleted)| {
                Ok((
                    Tuple {
                        object: Object {
                            namespace: inner.string(ns)?,
                            id: inner.string(obj)?,
                        },
                        relation: inner.string(rel)?,
                        subject: inner.subject_from(s_ns, s_obj, s_rel)?,
                    },
                    rev(created),
                    deleted.map(rev),
                ))
            })
            .collect()
    }

    /// Bulk insert: writes `tuples` in transactions of `batch_size` (one
    /// revision each), skipping tuples that are already live. Every tuple is
    /// checked to be well formed before anything is written; validate against
    /// the schema first.
    ///
    /// Into an empty store, a large import builds the reverse index once at
    /// the end (sorting beats a million random b-tree inserts) instead of
    /// maintaining it row by row. Until then, reverse reads from other
    /// connections still answer, by scanning; should the import fail, the
    /// index is built all the same, and [`SqliteStore::open`] builds it if it
    /// is missing.
    pub fn import(&self, tuples: &[Tuple], batch_size: usize) -> Result<ImportReport, StoreError> {
        check_all(tuples)?;
        let mut inner = self.lock()?;
        inner.end_read_transaction()?;
        let deferred = tuples.len() >= DEFERRED_INDEX_MIN && is_empty(&inner.conn)?;
        if deferred {
            inner
                .conn
                .execute_batch("DROP INDEX IF EXISTS live_reverse")?;
        }
        let mut report = ImportReport::default();
        let mut load = || -> Result<(), StoreError> {
            for batch in tuples.chunks(batch_size.max(1)) {
                let (rev, inserted) = inner.transaction(|tx, rev, interner| {
                    let mut insert = tx.prepare_cached(INSERT)?;
                    let mut inserted = 0u64;
                    for tuple in batch {
                        let [a, b, c, d, e, f] = interner.row(tx, tuple)?;
                        let seq = interner.next_seq();
                        inserted += insert.execute(params![a, b, c, d, e, f, rev, seq])? as u64;
                    }
                    Ok(inserted)
                })?;
                report.inserted += inserted;
                report.unchanged += batch.len() as u64 - inserted;
                report.revisions.push(rev);
            }
            Ok(())
        };
        let loaded = load();
        if deferred {
            inner.conn.execute_batch(LIVE_REVERSE)?;
        }
        loaded?;
        Ok(report)
    }
}

/// `live`'s reverse index (as migration 0004 creates it), built again after
/// an import that dropped it.
const LIVE_REVERSE: &str = "CREATE INDEX IF NOT EXISTS live_reverse
    ON live (s_ns, s_obj, s_rel, ns, rel, obj, created_rev)";

/// Imports of at least this many tuples into an empty store build the
/// reverse index after loading.
const DEFERRED_INDEX_MIN: usize = 10_000;

/// Schema storage and statistics, beyond the [`TupleStore`] trait.
impl SqliteStore {
    /// Stores `schema` as the database's schema, replacing any other.
    /// Returns whether it changed (false when the same schema was stored).
    pub fn save_schema(&self, schema: &ir::Schema) -> Result<bool, StoreError> {
        let mut inner = self.lock()?;
        inner.end_read_transaction()?;
        let tx = inner
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let stored: Option<String> = tx
            .query_row("SELECT hash FROM schema WHERE id = 1", [], |row| row.get(0))
            .optional()?;
        if stored.as_deref() == Some(schema.hash.as_str()) {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO schema (id, hash, ir, saved_at) VALUES (1, ?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE
             SET hash = excluded.hash, ir = excluded.ir, saved_at = excluded.saved_at",
            params![schema.hash, schema.to_json(), now_millis()],
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// The stored schema, re-validated as any IR file is
    /// ([`ir::Schema::from_json`]); `None` when none was stored.
    pub fn load_schema(&self) -> Result<Option<ir::Schema>, StoreError> {
        let mut inner = self.lock()?;
        inner.end_read_transaction()?;
        let json: Option<String> = inner
            .conn
            .query_row("SELECT ir FROM schema WHERE id = 1", [], |row| row.get(0))
            .optional()?;
        json.map(|json| ir::Schema::from_json(&json).map_err(StoreError::StoredSchema))
            .transpose()
    }

    /// The hash of the stored schema, without loading it.
    pub fn schema_hash(&self) -> Result<Option<String>, StoreError> {
        let mut inner = self.lock()?;
        inner.end_read_transaction()?;
        Ok(inner
            .conn
            .query_row("SELECT hash FROM schema WHERE id = 1", [], |row| row.get(0))
            .optional()?)
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
    pub fn live_count(&self) -> Result<u64, StoreError> {
        let mut inner = self.lock()?;
        inner.end_read_transaction()?;
        let count: i64 = inner
            .conn
            .query_row("SELECT COUNT(*) FROM live", [], |row| row.get(0))?;
        Ok(u64::try_from(count).unwrap_or_default())
    }
}

/// Whether the store has no tuple at all, live or deleted.
fn is_empty(conn: &Connection) -> Result<bool, StoreError> {
    Ok(conn.query_row(
        "SELECT NOT EXISTS (SELECT 1 FROM live) AND NOT EXISTS (SELECT 1 FROM history)",
        [],
        |row| row.get(0),
    )?)
}

impl TupleStore for SqliteStore {
    fn write(&self, inserts: &[Tuple], deletes: &[Tuple]) -> Result<Revision, StoreError> {
        check_all(inserts)?;
        check_all(deletes)?;
        let kept: HashSet<&Tuple> = inserts.iter().collect();
        let mut inner = self.lock()?;
        let (rev, ()) = inner.transaction(|tx, rev, interner| {
            let mut archive = tx.prepare_cached(ARCHIVE)?;
            let mut remove = tx.prepare_cached(REMOVE)?;
            for tuple in deletes.iter().filter(|t| !kept.contains(t)) {
                if let Some([a, b, c, d, e, f]) = interner.known_row(tx, tuple)? {
                    if archive.execute(params![a, b, c, d, e, f, rev])? > 0 {
                        remove.execute(params![a, b, c, d, e, f])?;
                    }
                }
            }
            let mut insert = tx.prepare_cached(INSERT)?;
            for tuple in inserts {
                let [a, b, c, d, e, f] = interner.row(tx, tuple)?;
                let seq = interner.next_seq();
                insert.execute(params![a, b, c, d, e, f, rev, seq])?;
            }
            Ok(())
        })?;
        Ok(rev)
    }

    fn delete_matching(&self, filter: &TupleFilter) -> Result<Revision, StoreError> {
        let mut inner = self.lock()?;
        let Some((conditions, values)) = filter_sql(&mut inner, filter)? else {
            // The filter names a string never stored: nothing matches.
            let (rev, ()) = inner.transaction(|_, _, _| Ok(()))?;
            return Ok(rev);
        };
        let (rev, ()) = inner.transaction(|tx, rev, _| {
            let conditions: String = conditions.iter().map(|c| format!(" AND {c}")).collect();
            let archive = format!(
                "INSERT INTO history
                     (ns, obj, rel, s_rel, s_ns, s_obj, created_rev, deleted_rev, seq)
                 SELECT ns, obj, rel, s_rel, s_ns, s_obj, created_rev, ?, seq FROM live
                 WHERE 1{conditions}"
            );
            let mut args = vec![rev];
            args.extend(values.iter().copied());
            tx.prepare_cached(&archive)?
                .execute(params_from_iter(args))?;
            tx.prepare_cached(&format!("DELETE FROM live WHERE 1{conditions}"))?
                .execute(params_from_iter(values.iter()))?;
            Ok(())
        })?;
        Ok(rev)
    }

    fn begin_reads(&self) -> ReadScope<'_> {
        match self.lock() {
            Ok(mut inner) => {
                inner.scopes += 1;
                ReadScope::of(self)
            }
            Err(_) => ReadScope::none(),
        }
    }

    fn end_reads(&self) {
        if let Ok(mut inner) = self.lock() {
            inner.scopes = inner.scopes.saturating_sub(1);
            if inner.scopes == 0 {
                // A read transaction has nothing to commit; should ending it
                // fail, the next write or head query tries again.
                let _ = inner.end_read_transaction();
                inner.objects.clear();
            }
        }
    }

    fn head_revision(&self) -> Result<Revision, StoreError> {
        let mut inner = self.lock()?;
        inner.end_read_transaction()?;
        let head = head_of(&inner.conn)?;
        inner.known_head = inner.known_head.max(head);
        Ok(Revision(head))
    }

    fn subjects(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        kind: SubjectKind,
        at: Revision,
    ) -> Result<Vec<Subject>, StoreError> {
        let mut out = Vec::new();
        self.for_each_subject(namespace, object_id, relation, kind, at, &mut |subject| {
            out.push(subject.to_subject());
        })?;
        Ok(out)
    }

    fn for_each_subject(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        kind: SubjectKind,
        at: Revision,
        visit: &mut dyn FnMut(SubjectRef<'_>),
    ) -> Result<(), StoreError> {
        let mut inner = self.lock()?;
        inner.before_read()?;
        let at = rev_param(inner.check_revision(at)?);
        let (Some(ns), Some(obj), Some(rel)) = (
            inner.lookup(namespace)?,
            inner.lookup(object_id)?,
            inner.lookup(relation)?,
        ) else {
            return Ok(());
        };
        let rows = match inner.objects.get(&(ns, obj, at)) {
            Some(Some(rows)) => rows
                .iter()
                .filter(|&&[r, _, s_obj, s_rel]| r == rel && kind_matches(kind, s_obj, s_rel))
                .map(|&[_, s_ns, s_obj, s_rel]| [s_ns, s_obj, s_rel])
                .collect(),
            _ => subject_rows(&inner, kind, [ns, obj, rel, at])?,
        };
        for &id in rows.iter().flatten() {
            inner.fetch(id)?;
        }
        for row in rows {
            visit(inner.cached_subject(row));
        }
        Ok(())
    }

    fn probe(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        probe: Probe<'_>,
        at: Revision,
        sets: &mut dyn FnMut(SubjectRef<'_>),
    ) -> Result<ProbeHit, StoreError> {
        let mut inner = self.lock()?;
        inner.before_read()?;
        let at = rev_param(inner.check_revision(at)?);
        let (Some(ns), Some(obj), Some(rel)) = (
            inner.lookup(namespace)?,
            inner.lookup(object_id)?,
            inner.lookup(relation)?,
        ) else {
            return Ok(ProbeHit::default());
        };
        let subject = match probe.subject {
            Some(subject) => inner.lookup_subject(subject)?,
            None => None,
        };
        // -1 is no string: an unknown subject or wildcard matches nothing.
        let [s_ns, s_obj, s_rel] = subject.unwrap_or([-1, -1, -1]);
        let wildcard = match probe.wildcard {
            Some(namespace) => inner.lookup(namespace)?.unwrap_or(-1),
            None => -1,
        };
        let mut hit = ProbeHit::default();
        let mut found_sets: Vec<[i64; 3]> = Vec::new();
        let mut classify = |[a, b, c]: [i64; 3]| {
            hit.subject |= [a, b, c] == [s_ns, s_obj, s_rel];
            hit.wildcard |= [a, b, c] == [wildcard, 0, 0];
            if probe.sets && c > 0 {
                found_sets.push([a, b, c]);
            }
        };
        let whole = if probe.whole_object {
            inner.object_rows(ns, obj, at)?
        } else {
            inner
                .objects
                .get(&(ns, obj, at))
                .and_then(|rows| rows.as_deref())
        };
        if let Some(rows) = whole {
            for &[r, a, b, c] in rows {
                if r == rel {
                    classify([a, b, c]);
                }
            }
        } else if inner.at_head(at) {
            let exact = subject.is_some();
            let wild = wildcard >= 0;
            let mask = usize::from(exact) | usize::from(wild) << 1 | usize::from(probe.sets) << 2;
            let Some(sql) = HEAD_PROBES.get(mask).filter(|_| mask != 0) else {
                return Ok(hit);
            };
            let mut args = vec![ns, obj, rel];
            if exact || wild {
                args.extend([s_ns, s_obj, s_rel]);
            }
            if wild {
                args.push(wildcard);
            }
            let mut statement = inner.conn.prepare_cached(sql)?;
            let mut rows = statement.query(params_from_iter(args))?;
            while let Some(row) = rows.next()? {
                classify([row.get(0)?, row.get(1)?, row.get(2)?]);
            }
        } else {
            let sets_above = if probe.sets { 0 } else { i64::MAX };
            let mut statement = inner.conn.prepare_cached(&PROBE)?;
            let mut rows = statement.query(params![
                ns, obj, rel, s_ns, s_obj, s_rel, wildcard, sets_above, at
            ])?;
            // Every arm's rows (and `history`'s, of any subject) say what
            // they are by their subject; a probed subject set may come twice.
            while let Some(row) = rows.next()? {
                classify([row.get(0)?, row.get(1)?, row.get(2)?]);
            }
        }
        // The order of `subjects`: by relation, namespace, object.
        found_sets.sort_unstable_by_key(|&[ns, obj, rel]| (rel, ns, obj));
        found_sets.dedup();
        if !probe.sets || hit.subject || hit.wildcard {
            return Ok(hit);
        }
        for &id in found_sets.iter().flatten() {
            inner.fetch(id)?;
        }
        for row in found_sets {
            sets(inner.cached_subject(row));
        }
        Ok(hit)
    }

    fn contains(&self, tuple: &Tuple, at: Revision) -> Result<bool, StoreError> {
        let mut inner = self.lock()?;
        inner.before_read()?;
        let at = rev_param(inner.check_revision(at)?);
        let Some([a, b, c, d, e, f]) = inner.lookup_row(tuple)? else {
            return Ok(false);
        };
        let found: bool = if inner.at_head(at) {
            inner
                .conn
                .prepare_cached(&HEAD_CONTAINS)?
                .query_row(params![a, b, c, d, e, f], |row| row.get(0))?
        } else {
            inner
                .conn
                .prepare_cached(&CONTAINS)?
                .query_row(params![a, b, c, d, e, f, at], |row| row.get(0))?
        };
        Ok(found)
    }

    fn prefetch(
        &self,
        namespace: &str,
        object_ids: &[&str],
        at: Revision,
    ) -> Result<(), StoreError> {
        let mut inner = self.lock()?;
        if inner.scopes == 0 || object_ids.is_empty() {
            return Ok(());
        }
        inner.before_read()?;
        let at = rev_param(inner.check_revision(at)?);
        let Some(ns) = inner.lookup(namespace)? else {
            return Ok(());
        };
        let mut objs = Vec::with_capacity(object_ids.len());
        for id in object_ids {
            if let Some(obj) = inner.lookup(id)? {
                if !inner.objects.contains_key(&(ns, obj, at)) {
                    objs.push(obj);
                }
            }
        }
        for chunk in objs.chunks(PREFETCH_CHUNK) {
            inner.read_objects(ns, chunk, at)?;
        }
        Ok(())
    }

    fn objects_with_subject(
        &self,
        namespace: &str,
        relation: &str,
        subject: &Subject,
        at: Revision,
    ) -> Result<Vec<String>, StoreError> {
        let mut ids = Vec::new();
        self.for_each_object_with_subject(namespace, relation, subject, at, &mut |id| {
            ids.push(id.to_owned());
        })?;
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    fn for_each_object_with_subject(
        &self,
        namespace: &str,
        relation: &str,
        subject: &Subject,
        at: Revision,
        visit: &mut dyn FnMut(&str),
    ) -> Result<(), StoreError> {
        let mut inner = self.lock()?;
        inner.before_read()?;
        let at = rev_param(inner.check_revision(at)?);
        let (Some(ns), Some(rel), Some([s_ns, s_obj, s_rel])) = (
            inner.lookup(namespace)?,
            inner.lookup(relation)?,
            inner.lookup_subject(subject.borrowed())?,
        ) else {
            return Ok(());
        };
        let objs: Vec<i64> = inner
            .conn
            .prepare_cached(&OBJECTS_WITH_SUBJECT)?
            .query_map(params![s_ns, s_obj, s_rel, ns, rel, at], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        for &obj in &objs {
            inner.fetch(obj)?;
        }
        for obj in objs {
            visit(inner.cached(obj));
        }
        Ok(())
    }

    fn list(
        &self,
        filter: &TupleFilter,
        page: &PageRequest,
        at: Revision,
    ) -> Result<Page<Tuple>, StoreError> {
        let mut inner = self.lock()?;
        inner.before_read()?;
        let at = rev_param(inner.check_revision(at)?);
        let start: i64 = match &page.cursor {
            None => 0,
            Some(cursor) => cursor
                .parse()
                .map_err(|_| StoreError::InvalidCursor(cursor.clone()))?,
        };
        let Some((conditions, values)) = filter_sql(&mut inner, filter)? else {
            return Ok(Page {
                items: Vec::new(),
                next_cursor: None,
            });
        };
        // Pages follow the order of writing (`seq`, through `live_seq` and
        // `history_seq`); the cursor is the `seq` of the next page's first
        // version.
        let conditions: String = conditions.iter().map(|c| format!(" AND {c}")).collect();
        let limit = i64::try_from(page.limit)
            .unwrap_or(i64::MAX - 1)
            .min(i64::MAX - 1);
        let sql = format!(
            "SELECT seq, ns, obj, rel, s_rel, s_ns, s_obj FROM live
             WHERE seq >= ? AND created_rev <= ?{conditions}
             UNION ALL
             SELECT seq, ns, obj, rel, s_rel, s_ns, s_obj FROM history
             WHERE seq >= ? AND created_rev <= ? AND deleted_rev > ?{conditions}
             ORDER BY 1 LIMIT {}",
            limit + 1
        );
        let mut args = vec![start, at];
        args.extend(values.iter().copied());
        args.extend([start, at, at]);
        args.extend(values.iter().copied());
        let rows: Vec<[i64; 7]> = inner
            .conn
            .prepare_cached(&sql)?
            .query_map(params_from_iter(args), |row| {
                Ok([
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                    row.get(6)?,
                ])
            })?
            .collect::<Result<_, _>>()?;
        let mut items = Vec::new();
        let mut next_cursor = None;
        for [seq, ns, obj, rel, s_rel, s_ns, s_obj] in rows {
            if items.len() == page.limit {
                // There is at least one more: the next page starts at it.
                next_cursor = Some(seq.to_string());
                break;
            }
            items.push(Tuple {
                object: Object {
                    namespace: inner.string(ns)?,
                    id: inner.string(obj)?,
                },
                relation: inner.string(rel)?,
                subject: inner.subject_from(s_ns, s_obj, s_rel)?,
            });
        }
        Ok(Page { items, next_cursor })
    }

    fn store_id(&self) -> Result<String, StoreError> {
        Ok(self.lock()?.id.clone())
    }

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
}

/// Whether a subject (`s_obj`, `s_rel`) is of `kind`.
fn kind_matches(kind: SubjectKind, s_obj: i64, s_rel: i64) -> bool {
    match kind {
        SubjectKind::All => true,
        SubjectKind::Objects => s_rel == 0 && s_obj != 0,
        SubjectKind::Sets => s_rel > 0,
    }
}

/// The subjects of `(ns, obj, rel)` at a revision, of one kind, as ids.
fn subject_rows(
    inner: &Inner,
    kind: SubjectKind,
    [ns, obj, rel, at]: [i64; 4],
) -> Result<Vec<[i64; 3]>, StoreError> {
    let row = |row: &rusqlite::Row<'_>| Ok([row.get(0)?, row.get(1)?, row.get(2)?]);
    let rows = if inner.at_head(at) {
        inner
            .conn
            .prepare_cached(for_kind(&HEAD_SUBJECTS, kind))?
            .query_map(params![ns, obj, rel], row)?
            .collect::<Result<_, _>>()?
    } else {
        inner
            .conn
            .prepare_cached(for_kind(&SUBJECTS, kind))?
            .query_map(params![ns, obj, rel, at], row)?
            .collect::<Result<_, _>>()?
    };
    Ok(rows)
}

/// SQL conditions (`column = ?`) and their values.
type FilterSql = (Vec<String>, Vec<i64>);

/// SQL conditions and their values for a filter, or `None` when it names a
/// string that was never stored (so nothing can match).
fn filter_sql(inner: &mut Inner, filter: &TupleFilter) -> Result<Option<FilterSql>, StoreError> {
    let mut conditions = Vec::new();
    let mut values = Vec::new();
    let fields = [
        ("ns = ?", filter.namespace.as_deref()),
        ("obj = ?", filter.object_id.as_deref()),
        ("rel = ?", filter.relation.as_deref()),
    ];
    for (condition, value) in fields {
        if let Some(value) = value {
            let Some(id) = inner.lookup(value)? else {
                return Ok(None);
            };
            conditions.push(condition.to_owned());
            values.push(id);
        }
    }
    if let Some(subject) = &filter.subject {
        let Some([s_ns, s_obj, s_rel]) = inner.lookup_subject(subject.borrowed())? else {
            return Ok(None);
        };
        conditions.extend(["s_ns = ?", "s_obj = ?", "s_rel = ?"].map(str::to_owned));
        values.extend([s_ns, s_obj, s_rel]);
    }
    if let Some(any) = &filter.subject_object_in {
        let Some(obj) = inner.lookup(&any.id)? else {
            return Ok(None);
        };
        let mut namespaces = Vec::new();
        for ns in &any.namespaces {
            if let Some(id) = inner.lookup(ns)? {
                namespaces.push(id);
            }
        }
        if namespaces.is_empty() {
            return Ok(None);
        }
        conditions.push("s_obj = ?".to_owned());
        conditions.push("s_rel = 0".to_owned());
        conditions.push(format!(
            "s_ns IN ({})",
            vec!["?"; namespaces.len()].join(", ")
        ));
        values.push(obj);
        values.extend(namespaces);
    }
    Ok(Some((conditions, values)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> Tuple {
        text.parse().unwrap()
    }

    /// A database written under the first layout (one `tuples` table) keeps
    /// its live tuples and its history through migration 0004.
    #[test]
    fn migration_0004_moves_live_rows_and_history() {
        let dir = std::env::temp_dir().join(format!("zanzi-migrate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("v3.db");
        let _ = std::fs::remove_file(&path);
        {
            let conn = Connection::open(&path).unwrap();
            for (_, sql) in MIGRATIONS.iter().take(3) {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", 3).unwrap();
            conn.execute_batch(
                "INSERT INTO strings (id, value) VALUES
                    (1, 'doc'), (2, 'readme'), (3, 'viewer'), (4, 'user'), (5, 'alice'), (6, 'bob');
                 INSERT INTO revisions (rev, committed_at) VALUES (1, 0), (2, 0), (3, 0);
                 -- alice from revision 1 on; bob from 1 until deleted at 3
                 INSERT INTO tuples (ns, obj, rel, s_ns, s_obj, s_rel, created_rev, deleted_rev)
                 VALUES (1, 2, 3, 4, 5, 0, 1, NULL), (1, 2, 3, 4, 6, 0, 1, 3);",
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.migration_status().unwrap().current, LATEST_VERSION);
        let viewers = |rev| {
            store
                .subjects("doc", "readme", "viewer", SubjectKind::All, Revision(rev))
                .unwrap()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(viewers(2), ["user:alice", "user:bob"]);
        assert_eq!(viewers(3), ["user:alice"]);
        assert!(store
            .contains(&t("doc:readme#viewer@user:bob"), Revision(2))
            .unwrap());
        assert_eq!(
            store
                .objects_with_subject(
                    "doc",
                    "viewer",
                    &t("doc:x#viewer@user:bob").subject,
                    Revision(2)
                )
                .unwrap(),
            ["readme"]
        );
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
