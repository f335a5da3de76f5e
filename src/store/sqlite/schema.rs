//! Schema storage in the SQLite store: the `schema` table holds at most
//! one compiled schema ([`ir::Schema`] as its JSON, with its hash).

use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::{now_millis, SqliteStore};
use crate::ir;
use crate::store::{SchemaStore, StoreError};

impl SchemaStore for SqliteStore {
    /// Stores `schema` as the database's schema, replacing any other.
    /// Returns whether it changed (false when the same schema was stored).
    fn save_schema(&self, schema: &ir::Schema) -> Result<bool, StoreError> {
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
    fn load_schema(&self) -> Result<Option<ir::Schema>, StoreError> {
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
    fn schema_hash(&self) -> Result<Option<String>, StoreError> {
        let mut inner = self.lock()?;
        inner.end_read_transaction()?;
        Ok(inner
            .conn
            .query_row("SELECT hash FROM schema WHERE id = 1", [], |row| row.get(0))
            .optional()?)
    }
}
