//! Tuples as the peers write them: SpiceDB relationship strings, OpenFGA
//! tuple keys and tuple files (`fga tuple write --file`: a YAML or JSON
//! list, JSON lines or CSV), and Keto's relation-tuple JSON. Reading and
//! writing, without a schema (Keto's bare `subject_id` needs one: it is
//! resolved above, in `api::keto`).
//!
//! IDs are kept as each system stores them. SpiceDB's IDs never hold `%`,
//! `:`, `#`, `@` or spaces, so its relationship strings are zanzi's tuple
//! notation (percent-encoding is a compatible extension that lets any ID
//! through); OpenFGA's and Keto's fields are literal strings.

use std::ops::Range;

use thiserror::Error;

use super::csv;
use super::model::{check_id, check_name, Context, Expiry, Object, Subject, Tuple, TupleCondition};
use super::notation::parse_tuple_with_spans;
use super::yaml::{self, Node};

/// Why a foreign tuple was not read. `at` is a byte range in the text that
/// was parsed (a line, or a whole file for the document formats).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct ForeignTupleError {
    pub at: Range<usize>,
    pub message: String,
}

impl ForeignTupleError {
    fn new(at: Range<usize>, message: impl Into<String>) -> Self {
        ForeignTupleError {
            at,
            message: message.into(),
        }
    }

    fn shift(mut self, by: usize) -> Self {
        self.at = self.at.start + by..self.at.end + by;
        self
    }
}

// ---------------------------------------------------------------------------
// SpiceDB.

/// Parses a SpiceDB relationship string: `document:d#viewer@user:bob`,
/// `@group:eng#member`, `@user:bob#...` (the object itself), `@user:*`,
/// with a caveat (`[name:{…}]`) and an expiration (`[expiration:…]`),
/// which are zanzi's condition and expiry. Places count from the start of
/// `text`.
pub fn parse_spicedb(text: &str) -> Result<Tuple, ForeignTupleError> {
    const ITSELF: &str = "#...";
    let body = text.trim_end();
    let subject_start = body.find('@').unwrap_or(body.len());
    // `#...` ends the subject: at the end, or before a suffix.
    let itself = body
        .get(subject_start..)
        .and_then(|subject| subject.find(ITSELF))
        .map(|at| subject_start + at)
        .filter(|&at| {
            body.get(at + ITSELF.len()..)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('['))
        });
    let (zanzi, removed_at) = match itself {
        Some(at) => (
            format!(
                "{}{}",
                body.get(..at).unwrap_or(""),
                body.get(at + ITSELF.len()..).unwrap_or("")
            ),
            at,
        ),
        None => (body.to_owned(), usize::MAX),
    };
    // Places after the removed `#...` move back to where they are in `text`.
    let place = |n: usize| if n >= removed_at { n + ITSELF.len() } else { n };
    parse_tuple_with_spans(&zanzi)
        .map(|(tuple, _)| tuple)
        .map_err(|e| {
            let at = e.span().range();
            ForeignTupleError::new(place(at.start)..place(at.end), e.to_string())
        })
}

/// `tuple` as a SpiceDB relationship string (zanzi's notation: an ID that
/// SpiceDB would refuse is percent-encoded).
pub fn to_spicedb(tuple: &Tuple) -> String {
    tuple.to_string()
}

// ---------------------------------------------------------------------------
// OpenFGA.

/// An OpenFGA tuple key, as its files and APIs write it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OpenFgaKey {
    pub user: String,
    pub relation: String,
    pub object: String,
    /// OpenFGA's `RelationshipCondition`: `{name, context}`, the context
    /// left out when empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<TupleCondition>,
}

/// `type:id`, split at the first `:` as OpenFGA does.
fn openfga_object(text: &str, what: &str) -> Result<Object, String> {
    let Some((namespace, id)) = text.split_once(':') else {
        return Err(format!("`{text}` is not `type:id`: the {what} has no `:`"));
    };
    check_name(namespace, &format!("{what} type"))?;
    check_id(id, &format!("{what} id"))?;
    Ok(Object::new(namespace, id))
}

/// An OpenFGA user: `user:anne`, `user:*` or `group:eng#member` (the
/// relation after the last `#`, as OpenFGA splits it).
pub fn openfga_user(user: &str) -> Result<Subject, String> {
    let Some((namespace, rest)) = user.split_once(':') else {
        return Err(format!("`{user}` is not `type:id`: the user has no `:`"));
    };
    check_name(namespace, "user type")?;
    if rest == "*" {
        return Ok(Subject::wildcard(namespace));
    }
    if let Some((id, relation)) = rest.rsplit_once('#') {
        check_id(id, "user id")?;
        check_name(relation, "user relation")?;
        return Ok(Subject::set(namespace, id, relation));
    }
    check_id(rest, "user id")?;
    Ok(Subject::object(namespace, rest))
}

/// Reads an OpenFGA tuple key.
pub fn from_openfga(user: &str, relation: &str, object: &str) -> Result<Tuple, String> {
    let subject = openfga_user(user)?;
    check_name(relation, "relation")?;
    let object = openfga_object(object, "object")?;
    if object.id == "*" {
        return Err("the object of a tuple cannot be the wildcard `*`".to_owned());
    }
    Ok(Tuple::new(object, relation, subject))
}

/// An OpenFGA user string.
pub fn openfga_user_string(subject: &Subject) -> String {
    match subject {
        Subject::Object(o) => format!("{}:{}", o.namespace, o.id),
        Subject::Set { object, relation } => {
            format!("{}:{}#{relation}", object.namespace, object.id)
        }
        Subject::Wildcard { namespace } => format!("{namespace}:*"),
    }
}

/// `tuple` as an OpenFGA tuple key, its condition included; an error for
/// an expiry (OpenFGA has none) and for what OpenFGA would read back as
/// another tuple (a user ID with `#`, or `*`).
pub fn to_openfga(tuple: &Tuple) -> Result<OpenFgaKey, String> {
    // Refused rather than dropped: an export must not widen a grant.
    if let Some(expires_at) = tuple.expires_at {
        return Err(format!(
            "`{tuple}` expires at {expires_at}, and OpenFGA's tuples cannot expire"
        ));
    }
    if let Subject::Object(o) | Subject::Set { object: o, .. } = &tuple.subject {
        if o.id.contains('#') || o.id == "*" {
            return Err(format!(
                "the subject ID `{}` of `{tuple}` cannot be written as an OpenFGA user: \
                 OpenFGA would read it back as another user",
                o.id
            ));
        }
    }
    Ok(OpenFgaKey {
        user: openfga_user_string(&tuple.subject),
        relation: tuple.relation.clone(),
        object: format!("{}:{}", tuple.object.namespace, tuple.object.id),
        condition: tuple.condition.as_deref().cloned(),
    })
}

/// One item of a document format: where it is in the file, and what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item<T> {
    pub at: Range<usize>,
    pub value: Result<T, ForeignTupleError>,
}

/// The string at `key` of an item, or why not.
fn field<'n>(item: &'n Node, key: &str, text: &str) -> Result<&'n str, ForeignTupleError> {
    match item.get(key) {
        Some(Node::Scalar { value, .. }) => Ok(value),
        Some(other) => Err(ForeignTupleError::new(
            other.range(text),
            format!("`{key}` must be a string, not {}", other.describe()),
        )),
        None => Err(ForeignTupleError::new(
            item.range(text),
            format!("missing `{key}`"),
        )),
    }
}

/// An OpenFGA tuple key from a YAML or JSON mapping.
pub fn openfga_item(item: &Node, text: &str) -> Result<Tuple, ForeignTupleError> {
    if !matches!(item, Node::Map(..)) {
        return Err(ForeignTupleError::new(
            item.range(text),
            format!(
                "a tuple is a mapping with `user`, `relation` and `object`, not {}",
                item.describe()
            ),
        ));
    }
    let user = field(item, "user", text)?;
    let relation = field(item, "relation", text)?;
    let object = field(item, "object", text)?;
    let condition = match item.get("condition").filter(|c| !c.is_null()) {
        Some(node) => Some(openfga_condition(node, text)?),
        None => None,
    };
    let tuple = from_openfga(user, relation, object)
        .map_err(|m| ForeignTupleError::new(item.range(text), m))?;
    Ok(match condition {
        Some(TupleCondition { name, context }) => tuple.with_condition(name, context),
        None => tuple,
    })
}

/// A tuple's `condition: {name, context}`, as OpenFGA writes it.
fn openfga_condition(node: &Node, text: &str) -> Result<TupleCondition, ForeignTupleError> {
    if !matches!(node, Node::Map(..)) {
        return Err(ForeignTupleError::new(
            node.range(text),
            format!(
                "`condition` is a mapping with `name` and `context`, not {}",
                node.describe()
            ),
        ));
    }
    let name = field(node, "name", text).map_err(|e| ForeignTupleError {
        message: format!("the tuple's condition: {}", e.message),
        ..e
    })?;
    if name.is_empty() {
        return Err(ForeignTupleError::new(
            node.range(text),
            "the tuple's condition has an empty `name`",
        ));
    }
    let context = match node.get("context").filter(|c| !c.is_null()) {
        None => Context::default(),
        Some(context @ Node::Map(..)) => match openfga_json(context, text)? {
            serde_json::Value::Object(map) => Context::from_map(map),
            _ => Context::default(),
        },
        Some(other) => {
            return Err(ForeignTupleError::new(
                other.range(text),
                format!(
                    "the condition's `context` is a mapping of parameter names to values, not {}",
                    other.describe()
                ),
            ))
        }
    };
    Ok(TupleCondition {
        name: name.to_owned(),
        context,
    })
}

/// A YAML or JSON value as OpenFGA's CLI reads it into a context: quoted
/// scalars are strings; plain ones are typed by YAML's core schema
/// (`true`, `false`, `null`, `~`, integers, floats), else strings (`1h`).
pub fn openfga_json(node: &Node, text: &str) -> Result<serde_json::Value, ForeignTupleError> {
    use serde_json::Value;
    Ok(match node {
        Node::Scalar { value, style, .. } => yaml::scalar_json(value, *style),
        Node::Seq(items, _) => Value::Array(
            items
                .iter()
                .map(|item| openfga_json(item, text))
                .collect::<Result<_, _>>()?,
        ),
        Node::Map(entries, _) => {
            let mut map = serde_json::Map::new();
            for (key, value) in entries {
                let Some(key) = key.as_str() else {
                    return Err(ForeignTupleError::new(
                        key.range(text),
                        format!("the keys of a context are names, not {}", key.describe()),
                    ));
                };
                map.insert(key.to_owned(), openfga_json(value, text)?);
            }
            Value::Object(map)
        }
    })
}

/// The items of a list document (YAML or JSON), each read by `read`.
fn list_items<T>(
    text: &str,
    what: &str,
    read: impl Fn(&Node, &str) -> Result<T, ForeignTupleError>,
) -> Result<Vec<Item<T>>, ForeignTupleError> {
    let root = yaml::parse(text).map_err(|e| {
        ForeignTupleError::new(e.at..e.at, format!("invalid {what}: {}", e.message))
    })?;
    match root {
        None => Ok(Vec::new()),
        Some(Node::Seq(items, _)) => Ok(items
            .iter()
            .map(|item| Item {
                at: item.range(text),
                value: read(item, text),
            })
            .collect()),
        Some(other) => Err(ForeignTupleError::new(
            other.range(text),
            format!("{what} is a list of tuples, not {}", other.describe()),
        )),
    }
}

/// An OpenFGA tuple file in YAML or JSON: a list of tuple keys.
pub fn parse_openfga_list(text: &str) -> Result<Vec<Item<Tuple>>, ForeignTupleError> {
    list_items(text, "an OpenFGA tuple file", openfga_item)
}

/// An OpenFGA tuple file in JSON lines: one tuple key per line.
pub fn parse_openfga_jsonl(text: &str) -> Vec<Item<Tuple>> {
    let mut out = Vec::new();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let content = line.trim_end();
        if !content.trim().is_empty() {
            let at = start..start + content.len();
            let value = match yaml::parse(content) {
                Ok(Some(node)) => openfga_item(&node, content).map_err(|e| e.shift(start)),
                Ok(None) => Err(ForeignTupleError::new(at.clone(), "empty line")),
                Err(e) => Err(ForeignTupleError::new(
                    at.clone(),
                    format!("invalid JSON: {}", e.message),
                )),
            };
            out.push(Item { at, value });
        }
        start += line.len();
    }
    out
}

/// The columns of an OpenFGA CSV tuple file, as `fga tuple write` reads
/// them and its export writes them.
pub const OPENFGA_CSV_HEADER: &str =
    "user_type,user_id,user_relation,relation,object_type,object_id,condition_name,condition_context";

const CSV_COLUMNS: [&str; 8] = [
    "user_type",
    "user_id",
    "user_relation",
    "relation",
    "object_type",
    "object_id",
    "condition_name",
    "condition_context",
];

/// The places of [`CSV_COLUMNS`] in a CSV file's header.
type CsvIndex = [Option<usize>; 8];

/// The column indexes of a CSV header, or why it is not one.
fn csv_header(header: &csv::Record) -> Result<CsvIndex, ForeignTupleError> {
    let mut index: CsvIndex = [None; 8];
    for (column, (at, name)) in header.fields.iter().enumerate() {
        let name = name.trim();
        match CSV_COLUMNS.iter().position(|c| *c == name) {
            Some(i) => {
                if let Some(slot) = index.get_mut(i) {
                    *slot = Some(column);
                }
            }
            None => {
                return Err(ForeignTupleError::new(
                    *at..at + name.len(),
                    format!(
                        "invalid header `{name}`, valid headers are {}",
                        CSV_COLUMNS.join(",")
                    ),
                ))
            }
        }
    }
    let whole = header.at
        ..header.at
            + header
                .fields
                .last()
                .map_or(0, |(a, f)| a - header.at + f.len());
    for (i, required) in CSV_COLUMNS.iter().enumerate() {
        let optional = matches!(
            *required,
            "user_relation" | "condition_name" | "condition_context"
        );
        if !optional && index.get(i).copied().flatten().is_none() {
            return Err(ForeignTupleError::new(
                whole,
                format!("the CSV header has no `{required}` column"),
            ));
        }
    }
    // As `fga` does: a context means nothing without the name of its condition.
    let has = |i: usize| index.get(i).copied().flatten().is_some();
    if has(7) && !has(6) {
        return Err(ForeignTupleError::new(
            whole,
            "the CSV header has a `condition_context` column but no `condition_name` column",
        ));
    }
    Ok(index)
}

/// The cell of column `i` (of [`CSV_COLUMNS`]) in `row`, with where it
/// starts; `""` when the header or the row has no such column.
fn csv_cell<'r>(index: &CsvIndex, row: &'r csv::Record, i: usize) -> (usize, &'r str) {
    index
        .get(i)
        .copied()
        .flatten()
        .and_then(|c| row.fields.get(c))
        .map_or((row.at, ""), |(at, f)| (*at, f.as_str()))
}

/// One data row (the `number`th, counting from 1 after the header) as a tuple.
fn csv_tuple(
    index: &CsvIndex,
    row: &csv::Record,
    number: usize,
) -> Result<Tuple, ForeignTupleError> {
    let end = row.fields.last().map_or(row.at, |(a, f)| a + f.len());
    let whole = row.at..end.max(row.at);
    let cell = |i: usize| csv_cell(index, row, i).1;
    let mut user = format!("{}:{}", cell(0), cell(1));
    if !cell(2).is_empty() {
        user.push('#');
        user.push_str(cell(2));
    }
    let object = format!("{}:{}", cell(4), cell(5));
    let mut tuple = from_openfga(&user, cell(3), &object)
        .map_err(|m| ForeignTupleError::new(whole.clone(), m))?;
    let name = cell(6);
    let (context_at, context) = csv_cell(index, row, 7);
    // The cell's text is no longer than what it is written with (quotes,
    // doubled quotes), so this range stays inside the row.
    let context_range = context_at..context_at + context.len();
    if name.is_empty() {
        if !context.trim().is_empty() {
            return Err(ForeignTupleError::new(
                context_range,
                format!("row {number} has a `condition_context` but no `condition_name`"),
            ));
        }
        return Ok(tuple);
    }
    let context = if context.trim().is_empty() {
        Context::default()
    } else {
        Context::parse(context).map_err(|m| {
            ForeignTupleError::new(
                context_range,
                format!("the `condition_context` of row {number} is wrong: {m}"),
            )
        })?
    };
    tuple = tuple.with_condition(name, context);
    tuple
        .check_well_formed()
        .map_err(|m| ForeignTupleError::new(whole, m))?;
    Ok(tuple)
}

/// An OpenFGA tuple file in CSV, with the header `fga tuple write` takes
/// (see [`OPENFGA_CSV_HEADER`]: the columns in any order, `user_relation`,
/// `condition_name` and `condition_context` optional; the context is a
/// JSON object, an empty cell an empty context).
pub fn parse_openfga_csv(text: &str) -> Result<Vec<Item<Tuple>>, ForeignTupleError> {
    let rows = csv::records(text).map_err(|csv::Unterminated(at)| {
        ForeignTupleError::new(at..at + 1, "unterminated quoted field")
    })?;
    let mut rows = rows.into_iter();
    let Some(header) = rows.next() else {
        return Ok(Vec::new());
    };
    let index = csv_header(&header)?;
    Ok(rows
        .enumerate()
        .map(|(i, row)| {
            let end = row.fields.last().map_or(row.at, |(a, f)| a + f.len());
            Item {
                at: row.at..end.max(row.at),
                value: csv_tuple(&index, &row, i + 1),
            }
        })
        .collect())
}

/// `tuple` as a row of an OpenFGA CSV file (see [`OPENFGA_CSV_HEADER`]).
pub fn to_openfga_csv(tuple: &Tuple) -> Result<String, String> {
    to_openfga(tuple)?;
    let (user_type, user_id, user_relation) = match &tuple.subject {
        Subject::Object(o) => (o.namespace.as_str(), o.id.as_str(), ""),
        Subject::Set { object, relation } => (
            object.namespace.as_str(),
            object.id.as_str(),
            relation.as_str(),
        ),
        Subject::Wildcard { namespace } => (namespace.as_str(), "*", ""),
    };
    let (condition_name, condition_context) = match &tuple.condition {
        Some(c) if c.context.is_empty() => (c.name.as_str(), ""),
        Some(c) => (c.name.as_str(), c.context.as_json()),
        None => ("", ""),
    };
    Ok([
        user_type,
        user_id,
        user_relation,
        &tuple.relation,
        &tuple.object.namespace,
        &tuple.object.id,
        condition_name,
        condition_context,
    ]
    .iter()
    .map(|f| csv::field(f))
    .collect::<Vec<_>>()
    .join(","))
}

// ---------------------------------------------------------------------------
// Keto.

/// A Keto relation tuple as its JSON writes it (`keto relation-tuple
/// create` reads one, or a list); the subject is resolved against a schema
/// above.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KetoTuple {
    pub namespace: String,
    pub object: String,
    pub relation: String,
    pub subject_id: Option<String>,
    /// `(namespace, object, relation)`.
    pub subject_set: Option<(String, String, String)>,
    /// zanzi's fields, as its API writes them: `condition: {name, context}`.
    pub condition: Option<TupleCondition>,
    /// zanzi's `expires_at`.
    pub expires_at: Option<Expiry>,
}

fn keto_item(item: &Node, text: &str) -> Result<KetoTuple, ForeignTupleError> {
    if !matches!(item, Node::Map(..)) {
        return Err(ForeignTupleError::new(
            item.range(text),
            format!("a relation tuple is a JSON object, not {}", item.describe()),
        ));
    }
    let subject_set = match item.get("subject_set").filter(|s| !s.is_null()) {
        Some(set) => Some((
            field(set, "namespace", text)?.to_owned(),
            field(set, "object", text)?.to_owned(),
            set.get("relation")
                .and_then(Node::as_str)
                .unwrap_or("")
                .to_owned(),
        )),
        None => None,
    };
    let subject_id = match item.get("subject_id").filter(|s| !s.is_null()) {
        Some(_) => Some(field(item, "subject_id", text)?.to_owned()),
        None => None,
    };
    if subject_id.is_some() == subject_set.is_some() {
        return Err(ForeignTupleError::new(
            item.range(text),
            "exactly one of `subject_id` or `subject_set` has to be provided",
        ));
    }
    let condition = match item.get("condition").filter(|c| !c.is_null()) {
        None => None,
        Some(condition) => {
            let context = match condition.get("context").map(node_to_json) {
                None | Some(serde_json::Value::Null) => Context::default(),
                Some(serde_json::Value::Object(map)) => Context::from_map(map),
                Some(_) => {
                    return Err(ForeignTupleError::new(
                        condition.range(text),
                        "a condition's `context` is a JSON object",
                    ))
                }
            };
            Some(TupleCondition {
                name: field(condition, "name", text)?.to_owned(),
                context,
            })
        }
    };
    let expires_at = match item.get("expires_at").filter(|e| !e.is_null()) {
        None => None,
        Some(node) => Some(
            Expiry::parse(field(item, "expires_at", text)?)
                .map_err(|m| ForeignTupleError::new(node.range(text), m))?,
        ),
    };
    Ok(KetoTuple {
        namespace: field(item, "namespace", text)?.to_owned(),
        object: field(item, "object", text)?.to_owned(),
        relation: field(item, "relation", text)?.to_owned(),
        subject_id,
        subject_set,
        condition,
        expires_at,
    })
}

/// A node of a JSON document as JSON: quoted scalars are strings, plain
/// ones numbers, booleans or null (JSON has no other plain scalars).
fn node_to_json(node: &Node) -> serde_json::Value {
    match node {
        Node::Scalar { value, style, .. } => {
            if *style == yaml_rust2::scanner::TScalarStyle::Plain {
                serde_json::from_str(value)
                    .unwrap_or_else(|_| serde_json::Value::String(value.clone()))
            } else {
                serde_json::Value::String(value.clone())
            }
        }
        Node::Seq(items, _) => serde_json::Value::Array(items.iter().map(node_to_json).collect()),
        Node::Map(entries, _) => serde_json::Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.as_str().unwrap_or("").to_owned(), node_to_json(v)))
                .collect(),
        ),
    }
}

/// A Keto relation-tuple JSON file: one tuple, a list of them, or what
/// `keto relation-tuple get --format json` prints (`{"relation_tuples": […]}`).
pub fn parse_keto_json(text: &str) -> Result<Vec<Item<KetoTuple>>, ForeignTupleError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        let root = yaml::parse(text).map_err(|e| {
            ForeignTupleError::new(e.at..e.at, format!("invalid JSON: {}", e.message))
        })?;
        let listed = match &root {
            Some(Node::Map(entries, _)) => entries.iter().find_map(|(key, value)| match key {
                Node::Scalar { value: k, .. } if k == "relation_tuples" => Some(value),
                _ => None,
            }),
            _ => None,
        };
        if let Some(listed) = listed {
            return match listed {
                Node::Seq(items, _) => Ok(items
                    .iter()
                    .map(|item| Item {
                        at: item.range(text),
                        value: keto_item(item, text),
                    })
                    .collect()),
                other => Err(ForeignTupleError::new(
                    other.range(text),
                    format!(
                        "`relation_tuples` is a list of tuples, not {}",
                        other.describe()
                    ),
                )),
            };
        }
        return Ok(root
            .map(|node| Item {
                at: node.range(text),
                value: keto_item(&node, text),
            })
            .into_iter()
            .collect());
    }
    list_items(text, "a Keto relation-tuple file", keto_item)
}

// ---------------------------------------------------------------------------
// Telling the formats apart.

/// A tuple file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    /// zanzi's tuple notation, one per line.
    Zanzi,
    /// SpiceDB relationship strings, one per line.
    SpiceDb,
    /// An OpenFGA list of tuple keys, YAML or JSON.
    OpenFgaList,
    /// OpenFGA tuple keys as JSON lines.
    OpenFgaJsonl,
    /// OpenFGA's CSV.
    OpenFgaCsv,
    /// Keto's relation-tuple JSON.
    KetoJson,
}

impl FileFormat {
    /// The format of a file from its name and the start of its text: `.csv`,
    /// `.jsonl`, `.yaml` and `.yml` are OpenFGA's; `.json` is Keto's when
    /// its objects have `namespace` and `subject_id`/`subject_set`, else
    /// OpenFGA's; any other file is lines of tuples, SpiceDB's when one
    /// ends in `#...`, else zanzi's (the two notations agree on everything
    /// else, caveats and expirations included).
    pub fn detect(name: &str, head: &str) -> FileFormat {
        let extension = name.rsplit_once('.').map_or("", |(_, e)| e);
        match extension.to_ascii_lowercase().as_str() {
            "csv" => FileFormat::OpenFgaCsv,
            "jsonl" => FileFormat::OpenFgaJsonl,
            "yaml" | "yml" => FileFormat::OpenFgaList,
            "json" => {
                if head.contains("\"namespace\"")
                    && (head.contains("\"subject_id\"") || head.contains("\"subject_set\""))
                {
                    FileFormat::KetoJson
                } else {
                    FileFormat::OpenFgaList
                }
            }
            _ => {
                let spicedb = head.lines().any(|l| {
                    let l = l.trim();
                    !l.starts_with("//") && (l.ends_with("#...") || l.contains("#...["))
                });
                if spicedb {
                    FileFormat::SpiceDb
                } else {
                    FileFormat::Zanzi
                }
            }
        }
    }

    /// Whether the format is read a line at a time (else as one document).
    pub fn is_line_based(self) -> bool {
        matches!(self, FileFormat::Zanzi | FileFormat::SpiceDb)
    }
}

#[cfg(test)]
#[path = "foreign_tests.rs"]
mod tests;
