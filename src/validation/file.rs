//! Reading a validation file (docs/language.md, "Validation files") into its parts, each with the
//! line it stands on, so that every result can point back into the YAML.

use std::path::{Path, PathBuf};

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::errors::ValidationError;
use crate::diagnostics::suggest::closest;
use crate::diagnostics::{Diagnostic, ToDiagnostic};
use crate::source::{FileId, SourceMap, Span};
use crate::tuple::Expiry;

/// A string from the YAML with where it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    pub text: String,
    pub span: Span,
}

/// Where the schema of a validation file comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchemaSource {
    /// `schema_file:`, resolved against the YAML file's directory.
    File { path: PathBuf, span: Span },
    /// `schema: |`; `offset` is the byte where the text starts in the YAML.
    Inline { text: String, span: Span },
}

/// One check assertion: the question, with what its request carries.
#[derive(Clone, Debug, PartialEq)]
pub struct Assertion {
    /// The question, `object#relation@subject`.
    pub check: Located,
    /// `context:`: values for conditions' parameters.
    pub context: serde_json::Map<String, serde_json::Value>,
    /// `tuples:`: contextual tuples, for this assertion only.
    pub tuples: Vec<Located>,
    /// `missing:` of a `conditional` assertion: the parameters expected to
    /// be missing (`None`: any).
    pub missing: Option<Vec<Located>>,
}

impl Assertion {
    fn plain(check: Located) -> Assertion {
        Assertion {
            check,
            context: serde_json::Map::new(),
            tuples: Vec::new(),
            missing: None,
        }
    }
}

/// The parts of one validation file.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidationFile {
    pub schema: SchemaSource,
    /// Tuples written inline (blank lines and `//` comments already skipped).
    pub tuples: Vec<Located>,
    /// `tuple_files:`, resolved against the YAML file's directory.
    pub tuple_files: Vec<(PathBuf, Span)>,
    pub allowed: Vec<Assertion>,
    pub denied: Vec<Assertion>,
    /// Expected to depend on missing condition parameters.
    pub conditional: Vec<Assertion>,
    /// `now:`: the read time of every assertion (expiry is judged by it);
    /// the clock when absent.
    pub now: Option<Expiry>,
    /// `object#permission` with the exact set of object subjects expected.
    pub expected_subjects: Vec<(Located, Vec<Located>)>,
}

/// A YAML node with the position of its first character.
#[derive(Clone, Debug)]
enum Node {
    Scalar {
        value: String,
        style: TScalarStyle,
        at: Marker,
    },
    Seq(Vec<Node>, Marker),
    Map(Vec<(Node, Node)>, Marker),
}

impl Node {
    fn at(&self) -> Marker {
        match self {
            Node::Scalar { at, .. } | Node::Seq(_, at) | Node::Map(_, at) => *at,
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            Node::Scalar { .. } => "a single value",
            Node::Seq(..) => "a list",
            Node::Map(..) => "a mapping",
        }
    }
}

/// Builds [`Node`]s from parser events.
#[derive(Default)]
struct TreeBuilder {
    stack: Vec<Node>,
    keys: Vec<Option<Node>>,
    root: Option<Node>,
    alias: Option<Marker>,
}

impl TreeBuilder {
    fn add(&mut self, node: Node) {
        match self.stack.last_mut() {
            Some(Node::Seq(items, _)) => items.push(node),
            Some(Node::Map(entries, _)) => match self.keys.last_mut() {
                Some(slot @ None) => *slot = Some(node),
                Some(slot) => {
                    if let Some(key) = slot.take() {
                        entries.push((key, node));
                    }
                }
                None => {}
            },
            _ => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
        }
    }
}

impl MarkedEventReceiver for TreeBuilder {
    fn on_event(&mut self, event: Event, at: Marker) {
        match event {
            Event::Scalar(value, style, _, _) => self.add(Node::Scalar { value, style, at }),
            Event::SequenceStart(..) => self.stack.push(Node::Seq(Vec::new(), at)),
            Event::MappingStart(..) => {
                self.stack.push(Node::Map(Vec::new(), at));
                self.keys.push(None);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if matches!(self.stack.last(), Some(Node::Map(..))) {
                    self.keys.pop();
                }
                if let Some(node) = self.stack.pop() {
                    self.add(node);
                }
            }
            Event::Alias(_) => self.alias = self.alias.or(Some(at)),
            _ => {}
        }
    }
}

/// The keys of an assertion written as a mapping.
const ASSERTION_KEYS: &[&str] = &["check", "context", "tuples", "missing"];

/// A YAML value as JSON, by YAML 1.2's core schema: unquoted `true`,
/// `false`, `null`, integers and floats are typed, everything else is a
/// string.
fn yaml_json(node: &Node) -> Result<serde_json::Value, String> {
    use serde_json::Value;
    Ok(match node {
        Node::Scalar { value, style, .. } => crate::tuple::yaml::scalar_json(value, *style),
        Node::Seq(items, _) => Value::Array(items.iter().map(yaml_json).collect::<Result<_, _>>()?),
        Node::Map(entries, _) => {
            let mut map = serde_json::Map::new();
            for (key, value) in entries {
                let Node::Scalar { value: key, .. } = key else {
                    return Err("the keys of a context are names, not lists or mappings".to_owned());
                };
                map.insert(key.clone(), yaml_json(value)?);
            }
            Value::Object(map)
        }
    })
}

/// The keys a validation file may have.
const KEYS: &[&str] = &[
    "schema_file",
    "schema",
    "tuples",
    "tuple_files",
    "assertions",
    "expected_subjects",
    "now",
];

struct Reader<'a> {
    file: FileId,
    text: &'a str,
    dir: &'a Path,
    diags: Vec<Diagnostic>,
}

impl Reader<'_> {
    /// The byte span of a marker (yaml-rust2 counts characters).
    fn span_at(&self, at: Marker, len: usize) -> Span {
        let start = self
            .text
            .char_indices()
            .nth(at.index())
            .map_or(self.text.len(), |(i, _)| i);
        let end = self
            .text
            .get(start..)
            .and_then(|rest| rest.char_indices().nth(len).map(|(i, _)| start + i))
            .unwrap_or(self.text.len());
        Span::new(
            self.file,
            crate::source::offset(start),
            crate::source::offset(end.max(start)),
        )
    }

    fn node_span(&self, node: &Node) -> Span {
        match node {
            Node::Scalar { value, style, at } if *style == TScalarStyle::Plain => {
                self.span_at(*at, value.chars().count())
            }
            other => self.span_at(other.at(), 1),
        }
    }

    fn error(&mut self, error: ValidationError) {
        self.diags.push(error.to_diagnostic(()));
    }

    fn scalar(&mut self, node: &Node, what: &str) -> Option<Located> {
        match node {
            Node::Scalar { value, .. } => Some(Located {
                text: value.clone(),
                span: self.node_span(node),
            }),
            other => {
                let span = self.node_span(other);
                self.error(ValidationError::NotSingleValue {
                    span,
                    what: what.to_owned(),
                    found: other.describe(),
                });
                None
            }
        }
    }

    fn list(&mut self, node: &Node, what: &str) -> Vec<Located> {
        match node {
            Node::Seq(items, _) => items.iter().filter_map(|i| self.scalar(i, what)).collect(),
            // `allowed:` with nothing after it is an empty list.
            Node::Scalar { value, .. } if value.is_empty() || value == "~" || value == "null" => {
                Vec::new()
            }
            other => {
                let span = self.node_span(other);
                self.error(ValidationError::NotAList {
                    span,
                    what: what.to_owned(),
                    found: other.describe(),
                });
                Vec::new()
            }
        }
    }

    /// A list of assertions: each a question (`- doc:d#view@user:bob`) or a
    /// mapping with `check` and what its request carries (`context`,
    /// `tuples`) or expects (`missing`).
    fn assertions(&mut self, node: &Node, what: &str) -> Vec<Assertion> {
        let items = match node {
            Node::Seq(items, _) => items,
            Node::Scalar { value, .. } if value.is_empty() || value == "~" || value == "null" => {
                return Vec::new()
            }
            other => {
                let span = self.node_span(other);
                self.error(ValidationError::NotAList {
                    span,
                    what: what.to_owned(),
                    found: other.describe(),
                });
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for item in items {
            let Node::Map(entries, _) = item else {
                out.extend(self.scalar(item, what).map(Assertion::plain));
                continue;
            };
            let mut assertion = Assertion::plain(Located {
                text: String::new(),
                span: self.node_span(item),
            });
            let mut check = None;
            for (key, value) in entries {
                let Some(key) = self.scalar(key, "a key") else {
                    continue;
                };
                match key.text.as_str() {
                    "check" => check = self.scalar(value, "`check`"),
                    "context" => match yaml_json(value) {
                        Ok(serde_json::Value::Object(map)) => assertion.context = map,
                        Ok(_) => {
                            let span = self.node_span(value);
                            self.error(ValidationError::BadValue {
                                span,
                                what: "`context`".to_owned(),
                                reason: "a context is a mapping of parameter names to values"
                                    .to_owned(),
                            });
                        }
                        Err(reason) => {
                            let span = self.node_span(value);
                            self.error(ValidationError::BadValue {
                                span,
                                what: "`context`".to_owned(),
                                reason,
                            });
                        }
                    },
                    "tuples" => {
                        assertion.tuples = match value {
                            Node::Scalar { .. } => self.lines_of(value),
                            _ => self.list(value, "each contextual tuple"),
                        }
                    }
                    "missing" => assertion.missing = Some(self.list(value, "`missing`")),
                    other => self.error(ValidationError::UnknownKey {
                        span: key.span,
                        key: other.to_owned(),
                        keys: ASSERTION_KEYS,
                        suggestion: closest(other, ASSERTION_KEYS.iter().copied()),
                    }),
                }
            }
            match check {
                Some(check) => {
                    assertion.check = check;
                    out.push(assertion);
                }
                None => {
                    let span = self.node_span(item);
                    self.error(ValidationError::BadValue {
                        span,
                        what: what.to_owned(),
                        reason: "an assertion written as a mapping needs `check: object#relation@subject`"
                            .to_owned(),
                    });
                }
            }
        }
        out
    }

    /// Splits a block of lines (tuples or schema text) keeping each line's place.
    /// The marker of a block scalar (`|`) is on its first content line.
    fn lines_of(&self, node: &Node) -> Vec<Located> {
        let Node::Scalar { value, style, at } = node else {
            return Vec::new();
        };
        let block = matches!(style, TScalarStyle::Literal | TScalarStyle::Folded);
        let mut out = Vec::new();
        for (i, line) in value.lines().enumerate() {
            // The same comment rule as tuple files.
            let trimmed = crate::tuple::strip_comment(line).trim();
            if trimmed.is_empty() {
                continue;
            }
            let span = if block {
                self.line_span(at.line() + i, trimmed)
            } else {
                self.node_span(node)
            };
            out.push(Located {
                text: trimmed.to_owned(),
                span,
            });
        }
        out
    }

    /// The span of `needle` on 1-based line `line` of the YAML text.
    fn line_span(&self, line: usize, needle: &str) -> Span {
        let start_of_line = self
            .text
            .split_inclusive('\n')
            .take(line.saturating_sub(1))
            .map(str::len)
            .sum::<usize>();
        let line_text = self
            .text
            .get(start_of_line..)
            .and_then(|rest| rest.lines().next())
            .unwrap_or("");
        let column = line_text.find(needle).unwrap_or(0);
        let start = start_of_line + column;
        Span::new(
            self.file,
            crate::source::offset(start),
            crate::source::offset(start + needle.len().min(line_text.len())),
        )
    }
}

/// Reads a validation file; problems with its shape are diagnostics (E0501).
/// `Ok` holds what could be read with the problems found in the rest (an
/// unknown key, a part of the wrong shape), so that one run reports them
/// all; `Err` when nothing could be read (no mapping, no schema).
pub fn read(
    sources: &SourceMap,
    file: FileId,
    dir: &Path,
) -> Result<(ValidationFile, Vec<Diagnostic>), Vec<Diagnostic>> {
    let text = sources.text(file);
    let mut reader = Reader {
        file,
        text,
        dir,
        diags: Vec::new(),
    };
    let mut builder = TreeBuilder::default();
    if let Err(err) = Parser::new_from_str(text).load(&mut builder, false) {
        let span = reader.span_at(*err.marker(), 1);
        reader.error(ValidationError::InvalidYaml {
            span,
            info: err.info().to_owned(),
        });
        return Err(reader.diags);
    }
    if let Some(at) = builder.alias {
        let span = reader.span_at(at, 1);
        reader.error(ValidationError::Alias { span });
        return Err(reader.diags);
    }
    let Some(Node::Map(entries, _)) = builder.root else {
        let span = Span::new(file, 0, 0);
        reader.error(ValidationError::NotAMapping { span });
        return Err(reader.diags);
    };

    let mut schema = None;
    let mut tuples = Vec::new();
    let mut tuple_files = Vec::new();
    let mut allowed = Vec::new();
    let mut denied = Vec::new();
    let mut conditional = Vec::new();
    let mut now = None;
    let mut expected_subjects = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for (key, value) in &entries {
        let Some(key_text) = reader.scalar(key, "a key") else {
            continue;
        };
        let key_span = key_text.span;
        if seen.contains(&key_text.text) {
            reader.error(ValidationError::DuplicateKey {
                span: key_span,
                key: key_text.text.clone(),
            });
            continue;
        }
        seen.push(key_text.text.clone());
        match key_text.text.as_str() {
            "schema_file" => {
                if let Some(path) = reader.scalar(value, "`schema_file`") {
                    schema = Some(SchemaSource::File {
                        path: reader.dir.join(&path.text),
                        span: path.span,
                    });
                }
            }
            "schema" => {
                if let Node::Scalar {
                    value: text,
                    style,
                    at,
                } = value
                {
                    let block = matches!(style, TScalarStyle::Literal | TScalarStyle::Folded);
                    let span = if block {
                        reader.line_span(at.line(), text.lines().next().unwrap_or("").trim())
                    } else {
                        reader.node_span(value)
                    };
                    schema = Some(SchemaSource::Inline {
                        text: text.clone(),
                        span,
                    });
                } else {
                    reader.scalar(value, "`schema`");
                }
            }
            "tuples" => match value {
                Node::Seq(..) => tuples = reader.list(value, "each tuple"),
                Node::Scalar { .. } => tuples = reader.lines_of(value),
                other => {
                    let span = reader.node_span(other);
                    reader.error(ValidationError::TuplesShape { span });
                }
            },
            "tuple_files" => {
                tuple_files = reader
                    .list(value, "`tuple_files`")
                    .into_iter()
                    .map(|l| (reader.dir.join(&l.text), l.span))
                    .collect();
            }
            "assertions" => {
                let Node::Map(sections, _) = value else {
                    let span = reader.node_span(value);
                    reader.error(ValidationError::AssertionsShape { span });
                    continue;
                };
                for (section, items) in sections {
                    let Some(name) = reader.scalar(section, "a key") else {
                        continue;
                    };
                    match name.text.as_str() {
                        "allowed" => allowed = reader.assertions(items, "`allowed`"),
                        "denied" => denied = reader.assertions(items, "`denied`"),
                        "conditional" => {
                            conditional = reader.assertions(items, "`conditional`");
                        }
                        other => {
                            reader.error(ValidationError::UnknownAssertionKind {
                                span: name.span,
                                kind: other.to_owned(),
                                suggestion: super::errors::zanzi_name_of(other).or_else(|| {
                                    closest(other, ["allowed", "denied", "conditional"])
                                }),
                            });
                        }
                    }
                }
            }
            "now" => {
                if let Some(time) = reader.scalar(value, "`now`") {
                    match Expiry::parse(&time.text) {
                        Ok(time) => now = Some(time),
                        Err(reason) => reader.error(ValidationError::BadValue {
                            span: time.span,
                            what: "`now`".to_owned(),
                            reason,
                        }),
                    }
                }
            }
            "expected_subjects" => {
                let Node::Map(expectations, _) = value else {
                    let span = reader.node_span(value);
                    reader.error(ValidationError::ExpectedSubjectsShape { span });
                    continue;
                };
                for (target, subjects) in expectations {
                    let Some(target) = reader.scalar(target, "a key") else {
                        continue;
                    };
                    let subjects = reader.list(subjects, "the expected subjects");
                    expected_subjects.push((target, subjects));
                }
            }
            other => {
                reader.error(ValidationError::UnknownKey {
                    span: key_span,
                    key: other.to_owned(),
                    keys: KEYS,
                    suggestion: super::errors::zanzi_name_of(other)
                        .or_else(|| closest(other, KEYS.iter().copied())),
                });
            }
        }
    }
    if seen.iter().any(|k| k == "schema") && seen.iter().any(|k| k == "schema_file") {
        reader.error(ValidationError::BothSchemas {
            span: Span::new(file, 0, 0),
        });
    }
    let Some(schema) = schema else {
        if reader.diags.is_empty() {
            reader.error(ValidationError::NoSchema {
                span: Span::new(file, 0, 0),
            });
        }
        return Err(reader.diags);
    };
    Ok((
        ValidationFile {
            schema,
            tuples,
            tuple_files,
            allowed,
            denied,
            conditional,
            now,
            expected_subjects,
        },
        reader.diags,
    ))
}
