//! The history chain of the SQLite store ([`crate::store::history`]): each
//! revision's chain is computed inside its write transaction, from the
//! versions it really created and deleted, and kept in `revisions.chain`.
//! A database written before chains existed has none; its head at the
//! upgrade counts as seeded ([`history::seed`]), and the first write after
//! it stores that seed in the head's row.

use rusqlite::{Connection, OptionalExtension};

use crate::store::history::{self, Chain};
use crate::store::{Revision, StoreError};
use crate::tuple::{Context, Expiry, Object, Subject, Tuple};

/// The tuples of the `table` rows matching `condition` (on `?1`), with
/// their strings, conditions and expiries.
fn tuples_where(
    conn: &Connection,
    table: &str,
    condition: &str,
    value: i64,
) -> Result<Vec<Tuple>, StoreError> {
    let sql = format!(
        "SELECT n.value, o.value, r.value, sn.value, so.value, sr.value, t.s_obj, t.s_rel,
                c.value, t.context, t.expires_at
         FROM {table} t
         JOIN strings n ON n.id = t.ns
         JOIN strings o ON o.id = t.obj
         JOIN strings r ON r.id = t.rel
         JOIN strings sn ON sn.id = t.s_ns
         LEFT JOIN strings so ON so.id = t.s_obj
         LEFT JOIN strings sr ON sr.id = t.s_rel
         LEFT JOIN strings c ON c.id = t.cond
         WHERE {condition}"
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map([value], |row| {
        let namespace: String = row.get(3)?;
        let s_obj: i64 = row.get(6)?;
        let s_rel: i64 = row.get(7)?;
        let subject = if s_obj == 0 {
            Subject::Wildcard { namespace }
        } else {
            let object = Object::new(namespace, row.get::<_, String>(4)?);
            if s_rel == 0 {
                Subject::Object(object)
            } else {
                Subject::Set {
                    object,
                    relation: row.get(5)?,
                }
            }
        };
        let tuple = Tuple::new(
            Object::new(row.get::<_, String>(0)?, row.get::<_, String>(1)?),
            row.get::<_, String>(2)?,
            subject,
        );
        Ok((
            tuple,
            row.get::<_, Option<String>>(8)?,
            row.get::<_, Option<String>>(9)?,
            row.get::<_, Option<i64>>(10)?,
        ))
    })?;
    let rows: Vec<_> = rows.collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(mut tuple, name, context, expires_at)| {
            if let Some(name) = name {
                let context = match context {
                    Some(text) => crate::store::stored_context(&text)?,
                    None => Context::default(),
                };
                tuple = tuple.with_condition(name, context);
            }
            tuple.expires_at = expires_at.map(Expiry::from_micros);
            Ok(tuple)
        })
        .collect()
}

/// The stored chain of `rev`: `Some(None)` when its row has none.
fn stored(conn: &Connection, rev: i64) -> Result<Option<Option<Chain>>, StoreError> {
    let row: Option<Option<Vec<u8>>> = conn
        .prepare_cached("SELECT chain FROM revisions WHERE rev = ?1")?
        .query_row([rev], |row| row.get(0))
        .optional()?;
    Ok(row.map(|chain| chain.and_then(|bytes| Chain::try_from(bytes.as_slice()).ok())))
}

/// The chain of `rev` in a database at `head` (see the module's
/// documentation for revisions without one).
pub(super) fn chain_at(
    conn: &Connection,
    store_id: &str,
    rev: u64,
    head: u64,
) -> Result<Option<Chain>, StoreError> {
    if rev == 0 {
        return Ok(Some(history::genesis()));
    }
    if rev > head {
        return Ok(None);
    }
    let param = super::rev_param(rev);
    Ok(match stored(conn, param)? {
        Some(Some(chain)) => Some(chain),
        Some(None) if rev == head => Some(history::seed(store_id, Revision(rev))),
        _ => None,
    })
}

/// Computes and stores the chain of `rev`, in its write transaction: after
/// its writes, whose new versions have a `seq` above `first_seq`.
pub(super) fn record(
    tx: &rusqlite::Transaction<'_>,
    store_id: &str,
    rev: i64,
    first_seq: i64,
) -> Result<(), StoreError> {
    let previous_rev = rev - 1;
    let previous = if previous_rev <= 0 {
        history::genesis()
    } else {
        match stored(tx, previous_rev)? {
            Some(Some(chain)) => chain,
            // The head when the database was upgraded: seeded now.
            _ => {
                let seed = history::seed(
                    store_id,
                    Revision(u64::try_from(previous_rev).unwrap_or_default()),
                );
                tx.prepare_cached("UPDATE revisions SET chain = ?1 WHERE rev = ?2")?
                    .execute(rusqlite::params![seed.as_slice(), previous_rev])?;
                seed
            }
        }
    };
    let inserted = tuples_where(tx, "live", "t.seq > ?1", first_seq)?;
    let deleted = tuples_where(tx, "history", "t.deleted_rev = ?1", rev)?;
    let revision = Revision(u64::try_from(rev).unwrap_or_default());
    let chain = history::next(&previous, revision, &deleted, &inserted);
    tx.prepare_cached("UPDATE revisions SET chain = ?1 WHERE rev = ?2")?
        .execute(rusqlite::params![chain.as_slice(), rev])?;
    Ok(())
}
