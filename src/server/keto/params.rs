//! Keto's query parameters: reading them, and the relationship or filter
//! they describe.

use super::super::consistency::Consistency;
use super::super::errors::ApiError;
use super::super::AppState;
use crate::api::keto::subjects::filter_for_query;
use crate::api::keto::{RelationQuery, Relationship, SubjectSet};
use crate::ir::Schema;
use crate::store::TupleFilter;

/// One form-encoded component: `+` a space, `%XX` a byte (a `%` not
/// followed by two hex digits stays as it is); `Err` when the bytes are not
/// UTF-8.
fn decode(component: &str) -> Result<String, ()> {
    let bytes = component.as_bytes();
    // Most components (IDs, names) have nothing to decode.
    if !bytes.iter().any(|&b| b == b'%' || b == b'+') {
        return Ok(component.to_owned());
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |at: usize| bytes.get(at).and_then(|h| (*h as char).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| ())
}

/// Query parameters, in order; the first of a repeated key wins (as Go's
/// `url.Values.Get`).
#[derive(Clone, Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Reads a query string as form encoding does (`+` is a space, `%XX` a
    /// byte), except that bytes which are not UTF-8 are refused, naming the
    /// parameter: replacing them would make distinct IDs collide.
    pub fn parse(raw: Option<&str>) -> Result<Params, ApiError> {
        let raw = raw.unwrap_or("");
        let mut pairs = Vec::with_capacity(raw.bytes().filter(|&b| b == b'&').count() + 1);
        for part in raw.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            let key = decode(key).map_err(|()| {
                ApiError::bad_request(
                    "invalid_query",
                    format!("a query parameter's name is not UTF-8: `{key}`"),
                )
            })?;
            let value = decode(value).map_err(|()| {
                ApiError::bad_request(
                    "invalid_query",
                    format!("the query parameter `{key}` is not UTF-8 once decoded"),
                )
                .with_detail("field", key.clone())
            })?;
            pairs.push((key, value));
        }
        Ok(Params(pairs))
    }

    /// Parameters given as key-value pairs (a gRPC query as REST's).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Params {
        Params(pairs)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `key` (the first, as [`Params::get`]), moved out: the
    /// key stays, with an empty value.
    pub fn take(&mut self, key: &str) -> Option<String> {
        self.0
            .iter_mut()
            .find(|(k, _)| k == key)
            .map(|(_, v)| std::mem::take(v))
    }

    pub fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    pub fn require(&self, key: &str) -> Result<&str, ApiError> {
        self.get(key).ok_or_else(|| {
            ApiError::bad_request(
                "missing_parameter",
                format!("the query parameter `{key}` is required"),
            )
        })
    }

    pub fn max_depth(&self) -> Result<Option<i64>, ApiError> {
        self.get("max-depth")
            .map(|v| {
                v.trim().parse::<i64>().map_err(|_| {
                    ApiError::bad_request(
                        "invalid_max_depth",
                        format!("unable to parse 'max-depth' query parameter to int: `{v}`"),
                    )
                })
            })
            .transpose()
    }

    pub fn consistency(&self, state: &AppState) -> Result<Consistency, ApiError> {
        Consistency::parse(state, self.get("consistency"), self.get("snaptoken"))
    }

    /// Keto dropped the `subject` key for `subject_id` and `subject_set.*`.
    pub fn reject_dropped_subject_key(&self) -> Result<(), ApiError> {
        if self.has("subject") {
            return Err(ApiError::bad_request(
                "dropped_subject_key",
                "provide \"subject_id\" or \"subject_set.*\"; support for \"subject\" was dropped",
            ));
        }
        Ok(())
    }

    /// Whether any `subject_set.*` key is given.
    pub fn has_subject_set(&self) -> bool {
        SUBJECT_SET_KEYS.iter().any(|k| self.has(k))
    }

    /// The `subject_set.*` keys as a subject set: all three or none.
    pub fn subject_set(&self) -> Result<Option<SubjectSet>, ApiError> {
        if !self.has_subject_set() {
            return Ok(None);
        }
        if !SUBJECT_SET_KEYS.iter().all(|k| self.has(k)) {
            return Err(ApiError::bad_request(
                "incomplete_subject",
                "incomplete subject, provide \"subject_id\" or a complete \"subject_set.*\"",
            ));
        }
        let get = |key| self.get(key).unwrap_or_default().to_owned();
        Ok(Some(SubjectSet {
            namespace: get("subject_set.namespace"),
            object: get("subject_set.object"),
            relation: get("subject_set.relation"),
        }))
    }

    pub fn reject_unknown(&self, known: &[&str]) -> Result<(), ApiError> {
        match self.0.iter().find(|(k, _)| !known.contains(&k.as_str())) {
            Some((key, _)) => Err(ApiError::bad_request(
                "unknown_parameter",
                format!(
                    "unknown query parameter `{key}`; allowed: {}",
                    known.join(", ")
                ),
            )),
            None => Ok(()),
        }
    }
}

const SUBJECT_SET_KEYS: [&str; 3] = [
    "subject_set.namespace",
    "subject_set.object",
    "subject_set.relation",
];

/// The query keys of a relation query (as Keto's `RelationQueryKeys`).
pub const RELATION_QUERY_KEYS: &[&str] = &[
    "namespace",
    "object",
    "relation",
    "subject_id",
    "subject_set.namespace",
    "subject_set.object",
    "subject_set.relation",
];

/// The filter of a relation query in URL parameters (list, delete).
pub fn filter_from_params(schema: &Schema, q: &Params) -> Result<TupleFilter, ApiError> {
    q.reject_dropped_subject_key()?;
    if q.has("subject_id") && q.has_subject_set() {
        return Err(ApiError::bad_request(
            "duplicate_subject",
            "exactly one of subject_set or subject_id has to be provided",
        ));
    }
    let text = |key: &str| q.get(key).map(str::to_owned);
    filter_for_query(
        schema,
        &RelationQuery {
            namespace: text("namespace"),
            object: text("object"),
            relation: text("relation"),
            subject_id: text("subject_id"),
            subject_set: q.subject_set()?,
        },
    )
}

/// The tuple a check's query asks about, its IDs moved out of `q` (see
/// [`Params::take`]).
pub fn take_relationship(q: &mut Params) -> Result<Relationship, ApiError> {
    q.reject_dropped_subject_key()?;
    let subject_set = q.subject_set()?;
    if !(q.has("namespace") && q.has("object") && q.has("relation")) {
        return Err(ApiError::bad_request(
            "incomplete_tuple",
            "incomplete tuple, provide \"namespace\", \"object\", \"relation\", and a subject",
        ));
    }
    let mut take = |key| q.take(key).unwrap_or_default();
    Ok(Relationship {
        namespace: take("namespace"),
        object: take("object"),
        relation: take("relation"),
        subject_id: q.take("subject_id"),
        subject_set,
        condition: None,
        expires_at: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any query string reads or is refused, never panics; any text
        /// survives form encoding.
        #[test]
        fn query_strings_never_panic_and_text_round_trips(raw in "\\PC{0,64}", text in "\\PC{0,32}") {
            let _ = Params::parse(Some(&raw));
            let query = serde_urlencoded::to_string([("object", text.as_str())]).unwrap_or_default();
            let params = Params::parse(Some(&query));
            prop_assert_eq!(params.ok().and_then(|p| p.get("object").map(str::to_owned)), Some(text));
        }
    }

    #[test]
    fn bytes_that_are_not_utf8_are_refused() {
        assert!(decode("%FF%FE").is_err());
        assert_eq!(decode("a+b%20c%2"), Ok("a b c%2".to_owned()));
        assert_eq!(decode("%C3%A9"), Ok("é".to_owned()));
    }
}
