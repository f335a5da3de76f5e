//! The tuple data model: objects, subjects and tuples, and what a store
//! needs of them whatever the schema.

use serde::{Deserialize, Serialize};

/// The longest object ID, in bytes of UTF-8.
pub const MAX_ID_BYTES: usize = 1024;

/// The longest namespace or relation name, in bytes: foreign systems'
/// names are kept verbatim, and OpenFGA allows type names of 254 bytes.
pub const MAX_NAME_BYTES: usize = 254;

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

/// A relation tuple `object#relation@subject`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Tuple {
    pub object: Object,
    pub relation: String,
    pub subject: Subject,
}

impl Tuple {
    pub fn new(object: Object, relation: impl Into<String>, subject: Subject) -> Tuple {
        Tuple {
            object,
            relation: relation.into(),
            subject,
        }
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
        }
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
