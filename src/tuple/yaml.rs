//! A YAML (and so JSON) document as a tree whose nodes know where they
//! stand, for the foreign files that are YAML or JSON: OpenFGA and Keto
//! tuple files here, SpiceDB and OpenFGA validation files above.
//!
//! Positions are byte offsets into the text (yaml-rust2 counts characters),
//! so that every problem can be pointed at on its line. Aliases are refused
//! rather than expanded: none of these formats uses them, and expanding
//! them is how a small file becomes a large one.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A YAML node; `at` is the byte offset of its first character (for a
/// block scalar, of its first content line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Scalar {
        value: String,
        style: TScalarStyle,
        at: usize,
        /// The 1-based line of `at`.
        line: usize,
    },
    Seq(Vec<Node>, usize),
    Map(Vec<(Node, Node)>, usize),
}

/// A scalar as JSON by YAML 1.2's core schema: quoted scalars are strings;
/// plain `true`, `false`, `null`, `~`, nothing, integers and finite floats
/// are typed; any other plain scalar (`1h`) is a string.
pub fn scalar_json(value: &str, style: TScalarStyle) -> serde_json::Value {
    use serde_json::Value;
    if style != TScalarStyle::Plain {
        return Value::String(value.to_owned());
    }
    match value {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "null" | "~" | "" => Value::Null,
        plain => {
            if let Ok(n) = plain.parse::<i64>() {
                Value::from(n)
            } else if let Ok(n) = plain.parse::<u64>() {
                Value::from(n)
            } else if let Some(n) = plain
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .and_then(serde_json::Number::from_f64)
            {
                Value::Number(n)
            } else {
                Value::String(plain.to_owned())
            }
        }
    }
}

impl Node {
    /// The byte offset where the node starts.
    pub fn at(&self) -> usize {
        match self {
            Node::Scalar { at, .. } | Node::Seq(_, at) | Node::Map(_, at) => *at,
        }
    }

    /// What the node is, for "expected a list, found …".
    pub fn describe(&self) -> &'static str {
        match self {
            Node::Scalar { .. } => "a single value",
            Node::Seq(..) => "a list",
            Node::Map(..) => "a mapping",
        }
    }

    /// The text of a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    /// Whether the node is YAML's null (`~`, `null`, or nothing at all).
    pub fn is_null(&self) -> bool {
        matches!(self, Node::Scalar { value, style: TScalarStyle::Plain, .. }
            if value.is_empty() || value == "~" || value == "null")
    }

    /// The value of `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries, _) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The byte range a node's first line of source covers: a plain scalar
    /// its text, a quoted one up to its closing quote, anything else the
    /// rest of its line (trailing blanks and comments aside).
    pub fn range(&self, text: &str) -> std::ops::Range<usize> {
        let start = self.at().min(text.len());
        let line = text
            .get(start..)
            .and_then(|t| t.lines().next())
            .unwrap_or("");
        let len = match self {
            Node::Scalar {
                value,
                style: TScalarStyle::Plain,
                ..
            } if line.starts_with(value.as_str()) => value.len(),
            Node::Scalar {
                style: TScalarStyle::DoubleQuoted | TScalarStyle::SingleQuoted,
                ..
            } => {
                let quote = line.chars().next().unwrap_or('"');
                line.get(1..)
                    .and_then(|rest| rest.find(quote))
                    .map_or(line.len(), |end| end + 2)
            }
            _ => {
                let content = line.split(" #").next().unwrap_or(line);
                content.trim_end().len()
            }
        };
        start..(start + len.max(usize::from(start < text.len()))).min(text.len())
    }
}

/// Why a text is not a YAML document these readers take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YamlError {
    /// Byte offset of the problem.
    pub at: usize,
    pub message: String,
}

/// Builds [`Node`]s from parser events.
struct TreeBuilder<'t> {
    text: &'t str,
    /// Byte offset of every character index seen so far, computed lazily.
    chars: Vec<usize>,
    stack: Vec<Node>,
    keys: Vec<Option<Node>>,
    root: Option<Node>,
    alias: Option<usize>,
}

impl TreeBuilder<'_> {
    fn offset(&mut self, marker: Marker) -> usize {
        if self.chars.is_empty() {
            self.chars = self.text.char_indices().map(|(i, _)| i).collect();
        }
        self.chars
            .get(marker.index())
            .copied()
            .unwrap_or(self.text.len())
    }

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

impl MarkedEventReceiver for TreeBuilder<'_> {
    fn on_event(&mut self, event: Event, marker: Marker) {
        let at = self.offset(marker);
        match event {
            Event::Scalar(value, style, _, _) => self.add(Node::Scalar {
                value,
                style,
                at,
                line: marker.line(),
            }),
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

/// Parses the first document of `text`; `None` for an empty document.
pub fn parse(text: &str) -> Result<Option<Node>, YamlError> {
    let mut builder = TreeBuilder {
        text,
        chars: Vec::new(),
        stack: Vec::new(),
        keys: Vec::new(),
        root: None,
        alias: None,
    };
    if let Err(err) = Parser::new_from_str(text).load(&mut builder, false) {
        let at = builder.offset(*err.marker());
        return Err(YamlError {
            at,
            message: err.info().to_owned(),
        });
    }
    if let Some(at) = builder.alias {
        return Err(YamlError {
            at,
            message: "YAML aliases are not supported here".to_owned(),
        });
    }
    Ok(builder.root)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn nodes_know_their_place() {
        let text = "a: 1\nlist:\n  - \"x y\"\n  - plain # c\nblock: |\n  one\n  two\n";
        let root = parse(text).unwrap().unwrap();
        let list = root.get("list").unwrap();
        let Node::Seq(items, _) = list else { panic!() };
        assert_eq!(&text[items[0].range(text)], "\"x y\"");
        assert_eq!(&text[items[1].range(text)], "plain");
        let block = root.get("block").unwrap();
        let Node::Scalar { line, at, .. } = block else {
            panic!()
        };
        assert_eq!(*line, 6, "a block scalar starts on its first content line");
        assert!(text[*at..].starts_with("  one") || text[*at..].starts_with("one"));
    }

    #[test]
    fn json_is_yaml() {
        let text = "[{\"user\": \"user:anne\", \"relation\": \"viewer\"}]";
        let root = parse(text).unwrap().unwrap();
        let Node::Seq(items, _) = root else { panic!() };
        assert_eq!(items[0].get("user").unwrap().as_str(), Some("user:anne"));
    }

    #[test]
    fn errors_and_aliases_are_reported() {
        assert!(parse("a: [").is_err());
        assert!(parse("a: &x 1\nb: *x\n").is_err());
        assert_eq!(parse("").unwrap(), None);
    }
}
