//! Writes checked against a schema: the one place where the store layer
//! meets the schema. Tuple stores themselves check only that tuples are
//! well formed; anything facing users writes through [`write_validated`].

use thiserror::Error;

use super::{Revision, StoreError, TupleStore};
use crate::ir::Schema;
use crate::tuple::{validate_tuple, Tuple, WriteError};

/// Why [`write_validated`] wrote nothing.
#[derive(Debug, Error)]
pub enum ValidatedWriteError {
    /// Every tuple the schema rejects, with its index in the inserts.
    #[error("{} tuple(s) rejected by the schema; the first: {}", .0.len(), .0.first().map(|(_, e)| e.to_string()).unwrap_or_default())]
    Rejected(Vec<(usize, WriteError)>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Validates every insert against `schema` and writes only when all pass.
/// Deletes are not validated, so tuples left over from an older schema can
/// still be removed.
pub fn write_validated(
    store: &dyn TupleStore,
    schema: &Schema,
    inserts: &[Tuple],
    deletes: &[Tuple],
) -> Result<Revision, ValidatedWriteError> {
    let rejected: Vec<(usize, WriteError)> = inserts
        .iter()
        .enumerate()
        .filter_map(|(i, t)| validate_tuple(schema, t).err().map(|e| (i, e)))
        .collect();
    if !rejected.is_empty() {
        return Err(ValidatedWriteError::Rejected(rejected));
    }
    Ok(store.write(inserts, deletes)?)
}
