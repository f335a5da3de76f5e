//! Schema storage in the PostgreSQL store: `zanzi_schema` holds at most one
//! compiled schema ([`ir::Schema`] as its JSON, with its hash).

use postgres::types::Type;

use super::PostgresStore;
use crate::ir;
use crate::store::{SchemaRecord, SchemaStore, StoreError};

impl SchemaStore for PostgresStore {
    /// One statement: replaces the stored schema unless it has the same
    /// hash, and returns a row only when it wrote.
    /// One statement: replaces the stored schema unless it has the same
    /// hash, appends it to the history and wakes the other servers, and
    /// returns a row only when it wrote.
    fn save_schema(&self, schema: &ir::Schema) -> Result<bool, StoreError> {
        let json = schema.to_json();
        let written = self.conn()?.query_typed(
            "WITH saved AS (
                 INSERT INTO zanzi_schema (id, hash, ir, saved_at)
                 VALUES (1, $1, $2, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)
                 ON CONFLICT (id) DO UPDATE
                 SET hash = excluded.hash, ir = excluded.ir, saved_at = excluded.saved_at
                 WHERE zanzi_schema.hash <> excluded.hash
                 RETURNING hash, ir, saved_at),
             history AS (
                 INSERT INTO zanzi_schema_history (hash, ir, saved_at, revision)
                 SELECT hash, ir, saved_at, (SELECT head FROM zanzi_meta WHERE id = 1)
                 FROM saved
                 RETURNING 1)
             SELECT pg_notify('zanzi_changes', 'schema') FROM history",
            &[(&schema.hash, Type::TEXT), (&json, Type::TEXT)],
        )?;
        Ok(!written.is_empty())
    }

    fn schema_history(&self) -> Result<Vec<SchemaRecord>, StoreError> {
        let rows = self.conn()?.query_typed(
            "SELECT hash, saved_at, revision FROM zanzi_schema_history ORDER BY id",
            &[],
        )?;
        rows.iter()
            .map(|row| {
                Ok(SchemaRecord {
                    hash: row.try_get(0)?,
                    saved_at_millis: Some(row.try_get(1)?),
                    revision: Some(super::to_revision(row.try_get(2)?)),
                })
            })
            .collect()
    }

    /// The stored schema, re-validated as any IR file is
    /// ([`ir::Schema::from_json`]); `None` when none was stored.
    fn load_schema(&self) -> Result<Option<ir::Schema>, StoreError> {
        let row = self.read(|conn| {
            Ok(conn.query_typed_opt("SELECT ir FROM zanzi_schema WHERE id = 1", &[])?)
        })?;
        let json: Option<String> = row.map(|row| row.try_get(0)).transpose()?;
        json.map(|json| ir::Schema::from_json(&json).map_err(StoreError::StoredSchema))
            .transpose()
    }

    /// The hash of the stored schema, without loading it.
    fn schema_hash(&self) -> Result<Option<String>, StoreError> {
        let row = self.read(|conn| {
            Ok(conn.query_typed_opt("SELECT hash FROM zanzi_schema WHERE id = 1", &[])?)
        })?;
        Ok(row.map(|row| row.try_get(0)).transpose()?)
    }
}
