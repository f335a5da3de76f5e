//! The SQLite database's layout, versioned with `PRAGMA user_version`: the
//! embedded migrations, applying them, and reporting where a database
//! stands.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};
use serde::Serialize;

use super::configure;
use crate::store::StoreError;

/// The embedded migrations, in order, as (name, up, down); migration `i`
/// (1-based) brings the database to `user_version = i`, and its down SQL
/// back to `i - 1`. Never edit one that has shipped: append.
pub(super) const MIGRATIONS: &[(&str, &str, &str)] = &[
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
        "DROP TABLE tuples; DROP TABLE revisions; DROP TABLE strings;",
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
        "DROP TABLE schema;",
    ),
    (
        "0003_meta",
        // Store-wide settings: the store id and the garbage-collection horizon.
        "CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );",
        "DROP TABLE meta;",
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
        // Back to one table: a version's `seq` becomes its `tuples.id`.
        "CREATE TABLE tuples (
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
    INSERT INTO tuples (id, ns, obj, rel, s_ns, s_obj, s_rel, created_rev, deleted_rev)
        SELECT seq, ns, obj, rel, s_ns, s_obj, s_rel, created_rev, NULL FROM live
        UNION ALL
        SELECT seq, ns, obj, rel, s_ns, s_obj, s_rel, created_rev, deleted_rev FROM history;
    DROP TABLE live;
    DROP TABLE history;
    CREATE UNIQUE INDEX tuples_live
        ON tuples (ns, obj, rel, s_rel, s_ns, s_obj) WHERE deleted_rev IS NULL;
    CREATE INDEX tuples_history
        ON tuples (ns, obj, rel, s_rel, s_ns, s_obj, created_rev, deleted_rev)
        WHERE deleted_rev IS NOT NULL;
    CREATE INDEX tuples_reverse
        ON tuples (s_ns, s_obj, s_rel, ns, rel, obj, created_rev, deleted_rev);",
    ),
    (
        "0005_history_chain",
        // Each revision's history chain (`chain.rs`), and the deletes of a
        // revision found by it, to compute the chain inside its write.
        "ALTER TABLE revisions ADD COLUMN chain BLOB;
    CREATE INDEX history_deleted ON history (deleted_rev);",
        "DROP INDEX history_deleted;
    ALTER TABLE revisions DROP COLUMN chain;
    DELETE FROM meta WHERE key = 'secret_fingerprint';",
    ),
    (
        "0006_conditions",
        // A version's condition (`cond`, an interned name; NULL for none),
        // the stored part of its context (canonical JSON; NULL when empty)
        // and its expiry (`expires_at`, UTC microseconds). The reverse
        // indexes carry `cond` and `expires_at`, so that the plain reverse
        // read (`cond IS NULL AND expires_at IS NULL`) stays covered by
        // them; `live_expiry` finds the expired tuples for `gc_expired`.
        "ALTER TABLE live ADD COLUMN cond INTEGER;
    ALTER TABLE live ADD COLUMN context TEXT;
    ALTER TABLE live ADD COLUMN expires_at INTEGER;
    ALTER TABLE history ADD COLUMN cond INTEGER;
    ALTER TABLE history ADD COLUMN context TEXT;
    ALTER TABLE history ADD COLUMN expires_at INTEGER;
    DROP INDEX IF EXISTS live_reverse;
    CREATE INDEX live_reverse
        ON live (s_ns, s_obj, s_rel, ns, rel, obj, created_rev, cond, expires_at);
    DROP INDEX history_reverse;
    CREATE INDEX history_reverse
        ON history (s_ns, s_obj, s_rel, ns, rel, obj, created_rev, deleted_rev, cond, expires_at);
    CREATE INDEX live_expiry ON live (expires_at) WHERE expires_at IS NOT NULL;",
        // Older layouts cannot hold a condition or an expiry: the versions
        // with one go (`migrate_down` refuses unless that loss is allowed),
        // never turned into plain tuples that would grant unconditionally.
        "DELETE FROM live WHERE cond IS NOT NULL OR expires_at IS NOT NULL;
    DELETE FROM history WHERE cond IS NOT NULL OR expires_at IS NOT NULL;
    DROP INDEX live_expiry;
    DROP INDEX IF EXISTS live_reverse;
    DROP INDEX history_reverse;
    ALTER TABLE live DROP COLUMN cond;
    ALTER TABLE live DROP COLUMN context;
    ALTER TABLE live DROP COLUMN expires_at;
    ALTER TABLE history DROP COLUMN cond;
    ALTER TABLE history DROP COLUMN context;
    ALTER TABLE history DROP COLUMN expires_at;
    CREATE INDEX live_reverse
        ON live (s_ns, s_obj, s_rel, ns, rel, obj, created_rev);
    CREATE INDEX history_reverse
        ON history (s_ns, s_obj, s_rel, ns, rel, obj, created_rev, deleted_rev);",
    ),
    (
        "0007_attributed_relations",
        // The relations that hold (or held) a version with a condition or
        // an expiry: the plain reads of every other relation need not
        // test `cond` and `expires_at` row by row. A relation stays listed
        // once marked (a superset only costs that test).
        "CREATE TABLE attributed_relations (
        ns INTEGER NOT NULL,
        rel INTEGER NOT NULL,
        PRIMARY KEY (ns, rel)
    ) WITHOUT ROWID;
    INSERT OR IGNORE INTO attributed_relations (ns, rel)
        SELECT ns, rel FROM live WHERE cond IS NOT NULL OR expires_at IS NOT NULL
        UNION
        SELECT ns, rel FROM history WHERE cond IS NOT NULL OR expires_at IS NOT NULL;",
        "DROP TABLE attributed_relations;",
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
        .map(|(name, _, _)| *name)
        .collect();
    let pending = MIGRATIONS
        .iter()
        .skip(current as usize)
        .map(|(name, _, _)| *name)
        .collect();
    MigrationStatus {
        current,
        latest: LATEST_VERSION,
        applied,
        pending,
    }
}

pub(super) fn user_version(conn: &Connection) -> Result<u32, StoreError> {
    Ok(conn.query_row("PRAGMA user_version", [], |row| row.get(0))?)
}

pub(super) fn connection_status(conn: &Connection) -> Result<MigrationStatus, StoreError> {
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
pub(super) fn migrate_connection(conn: &mut Connection) -> Result<MigrationStatus, StoreError> {
    let status = connection_status(conn)?;
    if status.current == 0 {
        refuse_foreign(conn)?;
    }
    for (index, (_, sql, _)) in MIGRATIONS.iter().enumerate().skip(status.current as usize) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as u32 + 1)?;
        tx.commit()?;
    }
    connection_status(conn)
}

/// A database at version 0 that already has tables belongs to another
/// application: zanzi refuses to add its own beside them.
fn refuse_foreign(conn: &Connection) -> Result<(), StoreError> {
    let tables: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             ORDER BY name LIMIT 5",
        )?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    if tables.is_empty() {
        return Ok(());
    }
    Err(StoreError::NotZanzi {
        tables: tables.join(", "),
    })
}

/// What reverting from version `from` to `to` would delete: tuples when
/// the first migration is reverted, the stored schema with the second,
/// the tuples with a condition or an expiry with the sixth.
fn loss(conn: &Connection, from: u32, to: u32) -> Result<Vec<String>, StoreError> {
    let mut lost = Vec::new();
    if to < 6 && from >= 6 && to > 0 {
        let attributed: i64 = conn.query_row(
            "SELECT (SELECT COUNT(*) FROM live WHERE cond IS NOT NULL OR expires_at IS NOT NULL)
                  + (SELECT COUNT(*) FROM history
                     WHERE cond IS NOT NULL OR expires_at IS NOT NULL)",
            [],
            |row| row.get(0),
        )?;
        if attributed > 0 {
            lost.push(format!(
                "{attributed} stored tuple version(s) with a condition or an expiry"
            ));
        }
    }
    if to == 0 && from >= 1 {
        let versions: i64 = if from >= 4 {
            conn.query_row(
                "SELECT (SELECT COUNT(*) FROM live) + (SELECT COUNT(*) FROM history)",
                [],
                |row| row.get(0),
            )?
        } else {
            conn.query_row("SELECT COUNT(*) FROM tuples", [], |row| row.get(0))?
        };
        if versions > 0 {
            lost.push(format!("{versions} stored tuple version(s)"));
        }
    }
    if to < 2 && from >= 2 {
        let schemas: i64 = conn.query_row("SELECT COUNT(*) FROM schema", [], |row| row.get(0))?;
        if schemas > 0 {
            lost.push("the stored schema".to_owned());
        }
    }
    Ok(lost)
}

/// Reverts the migrations above version `to`, newest first, in one
/// transaction. Refuses ([`StoreError::WouldLoseData`]) when that would
/// delete tuples or the stored schema, unless `allow_loss`.
pub fn migrate_down(path: &Path, to: u32, allow_loss: bool) -> Result<MigrationStatus, StoreError> {
    let mut conn = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    configure(&conn)?;
    let status = connection_status(&conn)?;
    if to >= status.current {
        return Ok(status);
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let lost = loss(&tx, status.current, to)?;
    if !lost.is_empty() && !allow_loss {
        return Err(StoreError::WouldLoseData {
            to,
            what: lost.join(" and "),
        });
    }
    let reverted = MIGRATIONS
        .iter()
        .take(status.current as usize)
        .skip(to as usize)
        .rev();
    for (_, _, down) in reverted {
        tx.execute_batch(down)?;
    }
    tx.pragma_update(None, "user_version", to)?;
    tx.commit()?;
    connection_status(&conn)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Revision, SqliteStore, SubjectKind, TupleStore};
    use crate::tuple::Tuple;

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
            for (_, sql, _) in MIGRATIONS.iter().take(3) {
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
                .snapshot(Revision(rev))
                .unwrap()
                .subjects("doc", "readme", "viewer", SubjectKind::All)
                .unwrap()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(viewers(2), ["user:alice", "user:bob"]);
        assert_eq!(viewers(3), ["user:alice"]);
        let at_2 = store.snapshot(Revision(2)).unwrap();
        assert!(at_2.contains(&t("doc:readme#viewer@user:bob")).unwrap());
        assert_eq!(
            at_2.objects_with_subject("doc", "viewer", &t("doc:x#viewer@user:bob").subject)
                .unwrap(),
            ["readme"]
        );
        drop(at_2);
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
