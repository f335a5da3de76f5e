//! The PostgreSQL database's layout, versioned in the `zanzi_migrations`
//! table (one row per applied migration): the embedded migrations, applying
//! them, and reporting where a database stands.
//!
//! Several replicas may start against one new database at once: each
//! migration run holds a transaction-scoped advisory lock, so exactly one
//! of them applies a migration and the others then find it applied.

use postgres::{Client, GenericClient};

use super::{connect_client, StoreError};
use crate::store::MigrationStatus;

/// The embedded migrations, in order, as (name, up, down); migration `i`
/// (1-based) is recorded as version `i`, and its down SQL reverts it.
/// Never edit one that has shipped: append.
pub(super) const MIGRATIONS: &[(&str, &str, &str)] = &[
    (
        "0001_tuples",
        // Text columns compare bytewise (`COLLATE "C"`), as Rust strings do,
        // whatever the database's locale. A subject is (`subject_ns`,
        // `subject_id`, `subject_rel`): `subject_rel` is '' for an object
        // subject and '*' (never a relation name) for a wildcard, whose
        // `subject_id` is ''.
        r#"CREATE TABLE zanzi_meta (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        head       BIGINT NOT NULL,
        gc_horizon BIGINT NOT NULL,
        store_id   TEXT NOT NULL
    );
    INSERT INTO zanzi_meta (id, head, gc_horizon, store_id)
        VALUES (1, 0, 0, replace(gen_random_uuid()::text, '-', ''));
    CREATE TABLE zanzi_revisions (
        rev          BIGINT PRIMARY KEY,
        committed_at BIGINT NOT NULL
    );
    CREATE SEQUENCE zanzi_tuple_seq;
    CREATE TABLE zanzi_tuples (
        namespace   TEXT COLLATE "C" NOT NULL,
        object_id   TEXT COLLATE "C" NOT NULL,
        relation    TEXT COLLATE "C" NOT NULL,
        subject_ns  TEXT COLLATE "C" NOT NULL,
        subject_id  TEXT COLLATE "C" NOT NULL,
        subject_rel TEXT COLLATE "C" NOT NULL,
        created_rev BIGINT NOT NULL,
        deleted_rev BIGINT,
        seq         BIGINT NOT NULL DEFAULT nextval('zanzi_tuple_seq'),
        PRIMARY KEY (namespace, object_id, relation, subject_ns, subject_id, subject_rel,
                     created_rev)
    );
    CREATE UNIQUE INDEX zanzi_tuples_live
        ON zanzi_tuples (namespace, object_id, relation, subject_ns, subject_id, subject_rel)
        WHERE deleted_rev IS NULL;
    CREATE INDEX zanzi_tuples_reverse
        ON zanzi_tuples (subject_ns, subject_id, subject_rel, namespace, relation)
        INCLUDE (object_id, created_rev, deleted_rev);
    CREATE UNIQUE INDEX zanzi_tuples_seq ON zanzi_tuples (seq);
    CREATE INDEX zanzi_tuples_deleted ON zanzi_tuples (deleted_rev)
        WHERE deleted_rev IS NOT NULL;
    CREATE TABLE zanzi_schema (
        id       INTEGER PRIMARY KEY CHECK (id = 1),
        hash     TEXT NOT NULL,
        ir       TEXT NOT NULL,
        saved_at BIGINT NOT NULL
    );"#,
        "DROP TABLE zanzi_schema, zanzi_tuples, zanzi_revisions, zanzi_meta;
         DROP SEQUENCE zanzi_tuple_seq;",
    ),
    (
        "0002_feed_and_schema_history",
        // The change feed reads versions by the revision that created them
        // (deletes have `zanzi_tuples_deleted`). Every schema ever stored is
        // kept, with the head revision it was stored at.
        r#"CREATE INDEX zanzi_tuples_created ON zanzi_tuples (created_rev);
    CREATE TABLE zanzi_schema_history (
        id       BIGSERIAL PRIMARY KEY,
        hash     TEXT NOT NULL,
        ir       TEXT NOT NULL,
        saved_at BIGINT NOT NULL,
        revision BIGINT NOT NULL
    );
    INSERT INTO zanzi_schema_history (hash, ir, saved_at, revision)
        SELECT hash, ir, saved_at, (SELECT head FROM zanzi_meta WHERE id = 1)
        FROM zanzi_schema;"#,
        "DROP TABLE zanzi_schema_history;
         DROP INDEX zanzi_tuples_created;",
    ),
    (
        "0003_history_chain",
        // Each revision's history chain (`chain.rs`), and the fingerprint
        // of the secret the servers sign snapshot tokens with.
        "ALTER TABLE zanzi_revisions ADD COLUMN chain BYTEA;
    ALTER TABLE zanzi_meta ADD COLUMN secret_fingerprint TEXT;",
        "ALTER TABLE zanzi_meta DROP COLUMN secret_fingerprint;
    ALTER TABLE zanzi_revisions DROP COLUMN chain;",
    ),
    (
        "0004_conditions",
        // A version's condition (its name; NULL for none), the stored part
        // of its context (canonical JSON text, kept as written; NULL when
        // empty) and its expiry (UTC microseconds). The reverse index
        // carries `condition` and `expires_at`, so that the plain reverse
        // read (`condition IS NULL AND expires_at IS NULL`) stays answered
        // from it; `zanzi_tuples_expiry` finds the expired live tuples.
        r#"ALTER TABLE zanzi_tuples
        ADD COLUMN condition TEXT COLLATE "C",
        ADD COLUMN context TEXT,
        ADD COLUMN expires_at BIGINT;
    DROP INDEX zanzi_tuples_reverse;
    CREATE INDEX zanzi_tuples_reverse
        ON zanzi_tuples (subject_ns, subject_id, subject_rel, namespace, relation)
        INCLUDE (object_id, created_rev, deleted_rev, condition, expires_at);
    CREATE INDEX zanzi_tuples_expiry ON zanzi_tuples (expires_at)
        WHERE deleted_rev IS NULL AND expires_at IS NOT NULL;"#,
        // Older layouts cannot hold a condition or an expiry: the versions
        // with one go (`migrate_down` refuses unless that loss is allowed),
        // never turned into plain tuples that would grant unconditionally.
        "DELETE FROM zanzi_tuples WHERE condition IS NOT NULL OR expires_at IS NOT NULL;
    DROP INDEX zanzi_tuples_expiry;
    DROP INDEX zanzi_tuples_reverse;
    ALTER TABLE zanzi_tuples
        DROP COLUMN condition, DROP COLUMN context, DROP COLUMN expires_at;
    CREATE INDEX zanzi_tuples_reverse
        ON zanzi_tuples (subject_ns, subject_id, subject_rel, namespace, relation)
        INCLUDE (object_id, created_rev, deleted_rev);",
    ),
];

/// The layout version this program writes.
pub const LATEST_VERSION: u32 = MIGRATIONS.len() as u32;

/// Creates the bookkeeping table when missing. Safe to run concurrently
/// only under the migration lock (or when it already exists).
const MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS zanzi_migrations (
        version    INTEGER PRIMARY KEY,
        name       TEXT NOT NULL,
        applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )";

/// The advisory lock key that serialises migration runs ("zanzimig").
const MIGRATION_LOCK: i64 = 0x7a61_6e7a_696d_6967;

/// The status of a database at layout version `current`.
pub fn status_of(current: u32) -> MigrationStatus {
    let names = MIGRATIONS.iter().map(|(name, _, _)| *name);
    MigrationStatus {
        current,
        latest: LATEST_VERSION,
        applied: names.clone().take(current as usize).collect(),
        pending: names.skip(current as usize).collect(),
    }
}

/// The highest applied version (0 for a database zanzi never touched).
fn current_version(client: &mut Client) -> Result<u32, StoreError> {
    let exists: bool = client
        .query_one("SELECT to_regclass('zanzi_migrations') IS NOT NULL", &[])?
        .try_get(0)?;
    if !exists {
        return Ok(0);
    }
    let version: i32 = client
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM zanzi_migrations",
            &[],
        )?
        .try_get(0)?;
    Ok(u32::try_from(version).unwrap_or_default())
}

/// A database zanzi never touched that already has tables in its `public`
/// schema belongs to another application: zanzi refuses to add its own
/// beside them (as it does for SQLite), and writes nothing.
fn refuse_foreign(client: &mut impl GenericClient) -> Result<(), StoreError> {
    let tables: Vec<String> = client
        .query(
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = 'public' AND table_name NOT LIKE 'zanzi\\_%'
             ORDER BY table_name LIMIT 5",
            &[],
        )?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()?;
    if tables.is_empty() {
        return Ok(());
    }
    Err(StoreError::NotZanzi {
        tables: tables.join(", "),
    })
}

pub(super) fn client_status(client: &mut Client) -> Result<MigrationStatus, StoreError> {
    let current = current_version(client)?;
    if current == 0 {
        refuse_foreign(client)?;
    }
    if current > LATEST_VERSION {
        return Err(StoreError::NewerDatabase {
            found: current,
            supported: LATEST_VERSION,
        });
    }
    Ok(status_of(current))
}

/// Applies every pending migration, each in its own transaction under the
/// migration lock.
pub(super) fn migrate_client(client: &mut Client) -> Result<MigrationStatus, StoreError> {
    for (index, (name, sql, _)) in MIGRATIONS.iter().enumerate() {
        let version = i32::try_from(index + 1).unwrap_or(i32::MAX);
        let mut tx = client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
        let tracked: bool = tx
            .query_one("SELECT to_regclass('zanzi_migrations') IS NOT NULL", &[])?
            .try_get(0)?;
        if !tracked {
            refuse_foreign(&mut tx)?;
        }
        tx.batch_execute(MIGRATIONS_TABLE)?;
        let applied: i32 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM zanzi_migrations",
                &[],
            )?
            .try_get(0)?;
        if applied > i32::try_from(LATEST_VERSION).unwrap_or(i32::MAX) {
            return Err(StoreError::NewerDatabase {
                found: u32::try_from(applied).unwrap_or_default(),
                supported: LATEST_VERSION,
            });
        }
        if applied >= version {
            continue;
        }
        tx.batch_execute(sql)?;
        tx.execute(
            "INSERT INTO zanzi_migrations (version, name) VALUES ($1, $2)",
            &[&version, name],
        )?;
        tx.commit()?;
    }
    client_status(client)
}

/// The migration status of the database at `url`.
pub fn migration_status(url: &str) -> Result<MigrationStatus, StoreError> {
    client_status(&mut connect_client(url)?)
}

/// Applies every pending migration to the database at `url` (which must
/// exist; zanzi creates tables, not databases).
pub fn migrate_up(url: &str) -> Result<MigrationStatus, StoreError> {
    migrate_client(&mut connect_client(url)?)
}

/// What reverting from version `from` to `to` would delete: the tuples
/// and the stored schema, when the first migration is reverted; earlier
/// schemas with the second; the tuples with a condition or an expiry with
/// the fourth.
fn loss(client: &mut impl GenericClient, from: u32, to: u32) -> Result<Vec<String>, StoreError> {
    let mut lost = Vec::new();
    if to < 4 && from >= 4 && to > 0 {
        let attributed: i64 = client
            .query_one(
                "SELECT COUNT(*) FROM zanzi_tuples
                 WHERE condition IS NOT NULL OR expires_at IS NOT NULL",
                &[],
            )?
            .try_get(0)?;
        if attributed > 0 {
            lost.push(format!(
                "{attributed} stored tuple version(s) with a condition or an expiry"
            ));
        }
    }
    if to == 0 && from >= 1 {
        let row = client.query_one(
            "SELECT (SELECT COUNT(*) FROM zanzi_tuples), (SELECT COUNT(*) FROM zanzi_schema)",
            &[],
        )?;
        let versions: i64 = row.try_get(0)?;
        let schemas: i64 = row.try_get(1)?;
        if versions > 0 {
            lost.push(format!("{versions} stored tuple version(s)"));
        }
        if schemas > 0 {
            lost.push("the stored schema".to_owned());
        }
    } else if to < 2 && from >= 2 {
        // The current schema stays in `zanzi_schema`; its predecessors
        // exist only in the history.
        let earlier: i64 = client
            .query_one(
                "SELECT GREATEST(COUNT(*) - 1, 0) FROM zanzi_schema_history",
                &[],
            )?
            .try_get(0)?;
        if earlier > 0 {
            lost.push(format!("{earlier} earlier schema(s) of the history"));
        }
    }
    Ok(lost)
}

/// Reverts the migrations above version `to`, newest first, in one
/// transaction under the migration lock; at version 0 no zanzi table is
/// left. Refuses ([`StoreError::WouldLoseData`]) when that would delete
/// tuples or the stored schema, unless `allow_loss`.
pub fn migrate_down(url: &str, to: u32, allow_loss: bool) -> Result<MigrationStatus, StoreError> {
    let mut client = connect_client(url)?;
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    let tracked: bool = tx
        .query_one("SELECT to_regclass('zanzi_migrations') IS NOT NULL", &[])?
        .try_get(0)?;
    if !tracked {
        drop(tx);
        return client_status(&mut client);
    }
    let current: i32 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM zanzi_migrations",
            &[],
        )?
        .try_get(0)?;
    let current = u32::try_from(current).unwrap_or_default();
    if current > LATEST_VERSION {
        return Err(StoreError::NewerDatabase {
            found: current,
            supported: LATEST_VERSION,
        });
    }
    if to >= current {
        drop(tx);
        return client_status(&mut client);
    }
    let lost = loss(&mut tx, current, to)?;
    if !lost.is_empty() && !allow_loss {
        return Err(StoreError::WouldLoseData {
            to,
            what: lost.join(" and "),
        });
    }
    let reverted = MIGRATIONS
        .iter()
        .take(current as usize)
        .skip(to as usize)
        .rev();
    for (_, _, down) in reverted {
        tx.batch_execute(down)?;
    }
    if to == 0 {
        tx.batch_execute("DROP TABLE zanzi_migrations")?;
    } else {
        let to = i32::try_from(to).unwrap_or(i32::MAX);
        tx.execute("DELETE FROM zanzi_migrations WHERE version > $1", &[&to])?;
    }
    tx.commit()?;
    client_status(&mut client)
}
