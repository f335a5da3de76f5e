//! A [`TupleFilter`] as SQL conditions over interned ids, shared by
//! listing and deleting.

use super::interning::subject_ref_parts;
use super::Inner;
use crate::store::{StoreError, TupleFilter};

/// SQL conditions (`column = ?`) and their values.
pub(super) type FilterSql = (Vec<String>, Vec<i64>);

/// SQL conditions and their values for a filter, or `None` when it names a
/// string that was never stored (so nothing can match).
pub(super) fn filter_sql(
    inner: &mut Inner,
    filter: &TupleFilter,
) -> Result<Option<FilterSql>, StoreError> {
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

/// Whether a live tuple matches `filter`, asked inside the write
/// transaction `tx` (a precondition). Strings are looked up by value in the
/// same query rather than through the interner's cache, so a string that
/// another connection to the file interned since is seen too.
pub(super) fn any_live(
    tx: &rusqlite::Transaction<'_>,
    filter: &TupleFilter,
) -> Result<bool, StoreError> {
    const ID: &str = "(SELECT id FROM strings WHERE value = ?)";
    let mut conditions: Vec<String> = Vec::new();
    let mut values: Vec<&str> = Vec::new();
    // `None`: the column holds 0 (no object ID, no subject relation).
    fn column<'f>(
        (conditions, values): (&mut Vec<String>, &mut Vec<&'f str>),
        name: &str,
        value: Option<&'f str>,
    ) {
        match value {
            Some(value) => {
                conditions.push(format!("{name} = {ID}"));
                values.push(value);
            }
            None => conditions.push(format!("{name} = 0")),
        }
    }
    for (name, value) in [
        ("ns", &filter.namespace),
        ("obj", &filter.object_id),
        ("rel", &filter.relation),
    ] {
        if let Some(value) = value {
            column((&mut conditions, &mut values), name, Some(value));
        }
    }
    if let Some(subject) = &filter.subject {
        let (s_ns, s_obj, s_rel) = subject_ref_parts(subject.borrowed());
        column((&mut conditions, &mut values), "s_ns", Some(s_ns));
        column((&mut conditions, &mut values), "s_obj", s_obj);
        column((&mut conditions, &mut values), "s_rel", s_rel);
    }
    if let Some(any) = &filter.subject_object_in {
        if any.namespaces.is_empty() {
            return Ok(false);
        }
        column((&mut conditions, &mut values), "s_obj", Some(&any.id));
        column((&mut conditions, &mut values), "s_rel", None);
        conditions.push(format!(
            "s_ns IN (SELECT id FROM strings WHERE value IN ({}))",
            vec!["?"; any.namespaces.len()].join(", ")
        ));
        values.extend(any.namespaces.iter().map(String::as_str));
    }
    let conditions: String = conditions.iter().map(|c| format!(" AND {c}")).collect();
    let sql = format!("SELECT EXISTS (SELECT 1 FROM live WHERE 1{conditions})");
    Ok(tx
        .prepare_cached(&sql)?
        .query_row(rusqlite::params_from_iter(values), |row| row.get(0))?)
}
