//! A [`TupleFilter`] as SQL conditions over interned ids, shared by
//! listing and deleting.

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
