//! The tuple data model: objects, subjects and tuples, and what a store
//! needs of them whatever the schema.

use serde::{Deserialize, Serialize};

/// The longest object ID, in bytes of UTF-8.
pub const MAX_ID_BYTES: usize = 1024;

/// The longest namespace or relation name, in bytes: foreign systems'
/// names are kept verbatim, and OpenFGA allows type names of 254 bytes.
pub const MAX_NAME_BYTES: usize = 254;

/// The largest stored context of a tuple's condition, in bytes of JSON.
pub const MAX_CONTEXT_BYTES: usize = 64 * 1024;

/// An object: `namespace:id`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Object {
    pub namespace: String,
    pub id: String,
}

impl Object {
    pub fn new(namespace: impl Into<String>, id: impl Into<String>) -> Object {
        Object {
            namespace: namespace.into(),
            id: id.into(),
        }
    }
}

/// The subject of a tuple, or of a check.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Subject {
    /// `user:alice`
    Object(Object),
    /// `group:eng#member`: every subject of that set, and the set itself.
    Set { object: Object, relation: String },
    /// `user:*`: every object subject of the namespace (never a subject set).
    Wildcard { namespace: String },
}

impl Subject {
    /// The subject `namespace:id`.
    pub fn object(namespace: impl Into<String>, id: impl Into<String>) -> Subject {
        Subject::Object(Object::new(namespace, id))
    }

    /// The subject set `namespace:id#relation`.
    pub fn set(
        namespace: impl Into<String>,
        id: impl Into<String>,
        relation: impl Into<String>,
    ) -> Subject {
        Subject::Set {
            object: Object::new(namespace, id),
            relation: relation.into(),
        }
    }

    /// The wildcard `namespace:*`.
    pub fn wildcard(namespace: impl Into<String>) -> Subject {
        Subject::Wildcard {
            namespace: namespace.into(),
        }
    }

    /// The namespace of the subject.
    pub fn namespace(&self) -> &str {
        match self {
            Subject::Object(object) | Subject::Set { object, .. } => &object.namespace,
            Subject::Wildcard { namespace } => namespace,
        }
    }
}

/// A borrowed [`Subject`]: how stores hand subjects to the engine without
/// copying their strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SubjectRef<'a> {
    /// `namespace:id`
    Object { namespace: &'a str, id: &'a str },
    /// `namespace:id#relation`
    Set {
        namespace: &'a str,
        id: &'a str,
        relation: &'a str,
    },
    /// `namespace:*`
    Wildcard { namespace: &'a str },
}

impl<'a> SubjectRef<'a> {
    pub fn namespace(self) -> &'a str {
        match self {
            SubjectRef::Object { namespace, .. }
            | SubjectRef::Set { namespace, .. }
            | SubjectRef::Wildcard { namespace } => namespace,
        }
    }

    /// An owned copy.
    pub fn to_subject(self) -> Subject {
        match self {
            SubjectRef::Object { namespace, id } => Subject::object(namespace, id),
            SubjectRef::Set {
                namespace,
                id,
                relation,
            } => Subject::set(namespace, id, relation),
            SubjectRef::Wildcard { namespace } => Subject::wildcard(namespace),
        }
    }
}

impl Subject {
    /// This subject, borrowed.
    pub fn borrowed(&self) -> SubjectRef<'_> {
        match self {
            Subject::Object(object) => SubjectRef::Object {
                namespace: &object.namespace,
                id: &object.id,
            },
            Subject::Set { object, relation } => SubjectRef::Set {
                namespace: &object.namespace,
                id: &object.id,
                relation,
            },
            Subject::Wildcard { namespace } => SubjectRef::Wildcard { namespace },
        }
    }
}

/// A relation tuple `object#relation@subject`, with an optional condition
/// and expiry (docs/language.md, "Tuples with a condition or an expiry").
///
/// Its identity is `object#relation@subject` ([`Tuple::key`]): a store
/// holds at most one live tuple per key, and writing the same key with
/// another condition or expiry replaces it. A tuple with neither is
/// *plain*; stores answer their plain reads from plain tuples only and hand
/// out the others through [`Reader::for_each_attributed`](crate::store::Reader::for_each_attributed),
/// so that a condition is never skipped by a read that does not look for one.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Tuple {
    pub object: Object,
    pub relation: String,
    pub subject: Subject,
    /// The condition that must hold for the tuple to count, with the part
    /// of its context fixed when the tuple was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<Box<TupleCondition>>,
    /// The instant from which the tuple no longer holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Expiry>,
}

/// A tuple's condition: its name and the stored part of its context.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TupleCondition {
    pub name: String,
    #[serde(default, skip_serializing_if = "Context::is_empty")]
    pub context: Context,
}

/// A JSON object of condition parameters, kept in canonical text (keys
/// sorted at every level, no whitespace) so that equal contexts compare,
/// hash and order equal and a store can keep the text as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Context(Box<str>);

impl Context {
    /// The canonical form of `object`.
    pub fn from_map(object: serde_json::Map<String, serde_json::Value>) -> Context {
        // One empty context, so that `{}` and no context compare equal.
        if object.is_empty() {
            return Context::default();
        }
        let canonical = canonical(serde_json::Value::Object(object));
        // Serializing a JSON value with string keys cannot fail.
        Context(serde_json::to_string(&canonical).unwrap_or_default().into())
    }

    /// Parses a JSON object (refusing anything else).
    pub fn parse(text: &str) -> Result<Context, String> {
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(map)) => Ok(Context::from_map(map)),
            Ok(_) => Err("a context is a JSON object".to_owned()),
            Err(e) => Err(format!("invalid JSON: {e}")),
        }
    }

    /// The parameters and their values.
    pub fn to_map(&self) -> serde_json::Map<String, serde_json::Value> {
        if self.0.is_empty() {
            return serde_json::Map::new();
        }
        match serde_json::from_str(&self.0) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        }
    }

    /// The canonical JSON text (`{}` when empty).
    pub fn as_json(&self) -> &str {
        if self.0.is_empty() {
            "{}"
        } else {
            &self.0
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty() || &*self.0 == "{}"
    }
}

/// Sorts the keys of every object in `value` (serde_json keeps insertion
/// order when another crate enables `preserve_order`).
fn canonical(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, canonical(v)))
                    .collect(),
            )
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(canonical).collect())
        }
        other => other,
    }
}

impl Serialize for Context {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serde_json::Value::Object(self.to_map()).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Context {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Context, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::Object(map) => Ok(Context::from_map(map)),
            serde_json::Value::Null => Ok(Context::default()),
            _ => Err(serde::de::Error::custom("a context is a JSON object")),
        }
    }
}

/// When a tuple stops holding: an instant in UTC, to the microsecond,
/// written in RFC 3339 (`2027-01-01T00:00:00Z`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Expiry {
    /// Microseconds since the Unix epoch.
    pub micros: i64,
}

impl Expiry {
    pub fn from_micros(micros: i64) -> Expiry {
        Expiry { micros }
    }

    /// Parses RFC 3339 (any offset; kept in UTC, to the microsecond).
    pub fn parse(text: &str) -> Result<Expiry, String> {
        let time = chrono::DateTime::parse_from_rfc3339(text.trim())
            .map_err(|e| format!("`{text}` is not an RFC 3339 time ({e})"))?;
        Ok(Expiry {
            micros: time.timestamp_micros(),
        })
    }

    /// Whether the tuple no longer holds at `now`.
    pub fn has_passed(self, now: Expiry) -> bool {
        self.micros <= now.micros
    }

    /// The time now, from the system clock.
    pub fn now() -> Expiry {
        Expiry {
            micros: chrono::Utc::now().timestamp_micros(),
        }
    }

    pub fn to_datetime(self) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp_micros(self.micros).unwrap_or_default()
    }
}

/// RFC 3339 in UTC, with as many fractional digits as needed.
impl std::fmt::Display for Expiry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(
            &self
                .to_datetime()
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        )
    }
}

impl Serialize for Expiry {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Expiry {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Expiry, D::Error> {
        let text = String::deserialize(deserializer)?;
        Expiry::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl Tuple {
    pub fn new(object: Object, relation: impl Into<String>, subject: Subject) -> Tuple {
        Tuple {
            object,
            relation: relation.into(),
            subject,
            condition: None,
            expires_at: None,
        }
    }

    /// This tuple with a condition and its stored context.
    pub fn with_condition(mut self, name: impl Into<String>, context: Context) -> Tuple {
        self.condition = Some(Box::new(TupleCondition {
            name: name.into(),
            context,
        }));
        self
    }

    /// This tuple with an expiry.
    pub fn with_expiry(mut self, expires_at: Expiry) -> Tuple {
        self.expires_at = Some(expires_at);
        self
    }

    /// Whether it has neither a condition nor an expiry.
    pub fn is_plain(&self) -> bool {
        self.condition.is_none() && self.expires_at.is_none()
    }

    /// The tuple's identity, without its condition and expiry.
    pub fn key(&self) -> Tuple {
        Tuple::new(
            self.object.clone(),
            self.relation.clone(),
            self.subject.clone(),
        )
    }

    /// Whether `self` and `other` are the same tuple, whatever their
    /// conditions and expiries.
    pub fn same_key(&self, other: &Tuple) -> bool {
        self.object == other.object
            && self.relation == other.relation
            && self.subject == other.subject
    }

    /// Whether it holds at all at `now` (an expired tuple is invisible).
    pub fn live_at(&self, now: Expiry) -> bool {
        self.expires_at.is_none_or(|e| !e.has_passed(now))
    }

    /// Checks what a store needs from a tuple whatever the schema: names are
    /// identifiers, IDs are 1..=1024 bytes without control characters and the
    /// object is not the wildcard.
    pub fn check_well_formed(&self) -> Result<(), String> {
        check_name(&self.object.namespace, "namespace name")?;
        check_id(&self.object.id, "object id")?;
        check_name(&self.relation, "relation name")?;
        match &self.subject {
            Subject::Object(object) => {
                check_name(&object.namespace, "subject namespace name")?;
                check_id(&object.id, "subject id")
            }
            Subject::Set { object, relation } => {
                check_name(&object.namespace, "subject namespace name")?;
                check_id(&object.id, "subject id")?;
                check_name(relation, "subject relation name")
            }
            Subject::Wildcard { namespace } => check_name(namespace, "subject namespace name"),
        }?;
        if let Some(condition) = &self.condition {
            check_name(&condition.name, "condition name")?;
            if condition.context.as_json().len() > MAX_CONTEXT_BYTES {
                return Err(format!(
                    "the context of condition `{}` is {} bytes of JSON; the limit is {MAX_CONTEXT_BYTES}",
                    condition.name,
                    condition.context.as_json().len()
                ));
            }
        }
        Ok(())
    }
}

/// `name` as a namespace or relation name, or why it cannot be one.
pub(super) fn check_name(name: &str, what: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(format!("empty {what}"));
    }
    match name_problem(name) {
        None => Ok(()),
        Some(problem) => Err(format!("invalid {what} `{name}`: {problem}")),
    }
}

/// `id` as an object ID, or why it cannot be one.
pub(super) fn check_id(id: &str, what: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err(format!("empty {what}"));
    }
    if id.len() > MAX_ID_BYTES {
        return Err(format!(
            "{what} is {} bytes long; the limit is {MAX_ID_BYTES}",
            id.len()
        ));
    }
    if let Some(c) = id.chars().find(|c| c.is_control()) {
        return Err(format!(
            "control character U+{:04X} in the {what}",
            c as u32
        ));
    }
    Ok(())
}

/// Why `name` cannot be a namespace or relation name, `None` when it can.
///
/// The rule is the verbatim-name rule, wide on purpose: names read from
/// Keto (`File`), SpiceDB (`example/user`) and OpenFGA are kept as those
/// systems store them, so only what would make the tuple notation
/// ambiguous is refused: `:`, `#`, `@`, `*`, a backtick, whitespace,
/// control characters, and more than [`MAX_NAME_BYTES`] bytes. zanzi's own
/// snake_case rule for its source files is the analysis' business.
pub fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("a name cannot be empty".to_owned());
    }
    if name.len() > MAX_NAME_BYTES {
        return Some(format!("names are at most {MAX_NAME_BYTES} bytes long"));
    }
    let c = name.chars().find(|c| {
        matches!(c, ':' | '#' | '@' | '`' | '*') || c.is_whitespace() || c.is_control()
    })?;
    Some(match c {
        ':' | '#' | '@' => format!("`{c}` separates the parts of a tuple, so no name can hold it"),
        '*' => "`*` is the wildcard, so no name can hold it".to_owned(),
        '`' => "a name cannot hold a backtick".to_owned(),
        _ => format!(
            "a name cannot hold whitespace or control characters (U+{:04X})",
            c as u32
        ),
    })
}

/// Whether `name` is a namespace or relation name (see [`name_problem`]).
pub fn is_name(name: &str) -> bool {
    name_problem(name).is_none()
}
