//! The evaluation IR: the checked schema in the form the engine interprets.
//!
//! It is the contract between the compiler and the engine and servers.
//! Namespaces and relations are interned to dense ids; a relation id is an
//! index into [`Schema::relations`], global across namespaces, so evaluation
//! never looks a string up. Serialized as JSON with a `format_version` and a
//! content hash; [`Schema::from_json`] re-validates everything it loads.
//! What follows from the content (dependency edges, subject namespaces) is
//! computed once on assembly and on load, in `derived`, and never serialized.

pub mod condition;
pub(crate) mod derived;
pub mod graph;
mod hash;
pub mod validate;

use rustc_hash::FxHashMap as HashMap;

use serde::{Deserialize, Serialize};

pub use condition::{Condition, ConditionId, Param, ParamType, TraitedType};
use graph::{Edge, EdgeKind};
pub use validate::IrError;

/// Deeper JSON is refused before parsing (see [`Schema::from_json`]).
const MAX_JSON_DEPTH: usize = 600;

/// The deepest nesting of arrays and objects in a JSON text.
fn json_depth(json: &str) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for byte in json.bytes() {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Bumped on any incompatible change to the serialized form.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NamespaceId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RelationId(pub u32);

/// A compiled schema.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    pub format_version: u32,
    /// `sha256:<hex>` of the canonical JSON of everything but this field.
    pub hash: String,
    pub namespaces: Vec<Namespace>,
    pub relations: Vec<Relation>,
    /// The conditions, in source order; a [`ConditionId`] indexes it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Name lookups, rebuilt on load; not serialized.
    #[serde(skip)]
    index: Index,
    /// Dependency edges and subject namespaces, computed on assembly and on load;
    /// not serialized.
    #[serde(skip)]
    derived: derived::Derived,
}

/// Name lookups. Relations are found per namespace (one map each, indexed
/// by [`NamespaceId`]) so that a lookup by `&str` allocates nothing: the
/// engine resolves names on every question.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Index {
    namespaces: HashMap<String, NamespaceId>,
    relations: Vec<HashMap<String, RelationId>>,
    conditions: HashMap<String, ConditionId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Namespace {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// This namespace's relations and permissions, in source order.
    pub relations: Vec<RelationId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Relation {
    pub namespace: NamespaceId,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    pub kind: RelationKind,
}

impl Relation {
    pub fn is_permission(&self) -> bool {
        matches!(self.kind, RelationKind::Permission { .. })
    }

    /// The subject types a plain tuple of this stored relation may have
    /// (one without condition or expiry; empty for a permission).
    pub fn allowed(&self) -> &[AllowedType] {
        match &self.kind {
            RelationKind::Relation { types, .. } => types,
            RelationKind::Permission { .. } => &[],
        }
    }

    /// Every base type of a stored relation: its plain types, then the
    /// bases of its types with traits (duplicates possible).
    pub fn all_types(&self) -> impl Iterator<Item = AllowedType> + '_ {
        self.allowed()
            .iter()
            .copied()
            .chain(self.traited().iter().map(|t| t.base))
    }

    /// The subject types with a condition or expiry of a stored relation
    /// (empty for a permission).
    pub fn traited(&self) -> &[TraitedType] {
        match &self.kind {
            RelationKind::Relation { with_traits, .. } => with_traits,
            RelationKind::Permission { .. } => &[],
        }
    }

    /// What the relation or permission means when it is computed: a
    /// permission's rewrite, or a relation's rewrite over its own tuples
    /// (`this`); `None` for a relation that is just its tuples.
    pub fn rewrite(&self) -> Option<&Rewrite> {
        match &self.kind {
            RelationKind::Relation { rewrite, .. } => rewrite.as_ref(),
            RelationKind::Permission { rewrite } => Some(rewrite),
        }
    }
}

/// Stored tuples, or a computed rewrite.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum RelationKind {
    /// Tuples of the given types. With a `rewrite`, the relation's set is
    /// that rewrite, in which [`Rewrite::This`] is the set its tuples give
    /// (OpenFGA's `define viewer: [user] or editor`, Zanzibar's `_this`).
    Relation {
        /// The types of plain tuples (without condition or expiry).
        types: Vec<AllowedType>,
        /// The types of tuples with a condition or an expiry.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        with_traits: Vec<TraitedType>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rewrite: Option<Rewrite>,
    },
    Permission {
        rewrite: Rewrite,
    },
}

/// A subject type a relation accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AllowedType {
    /// `user`: object subjects `user:x`.
    Object { namespace: NamespaceId },
    /// `user:*`: the wildcard subject, standing for every `user:x`.
    Wildcard { namespace: NamespaceId },
    /// `group#member`: subject sets `group:x#member`.
    SubjectSet {
        namespace: NamespaceId,
        relation: RelationId,
    },
}

impl AllowedType {
    pub fn namespace(self) -> NamespaceId {
        match self {
            AllowedType::Object { namespace }
            | AllowedType::Wildcard { namespace }
            | AllowedType::SubjectSet { namespace, .. } => namespace,
        }
    }
}

/// A userset rewrite, with every name resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rewrite {
    /// Another relation or permission of the same object.
    Computed {
        relation: RelationId,
    },
    /// Tuple-to-userset: for each object subject `M:x` of `tupleset`, the set
    /// of `M:x#p`. `targets` holds `p` resolved per namespace that has it;
    /// objects of other namespaces contribute nothing.
    Arrow {
        tupleset: RelationId,
        /// The target's name as written, for display.
        target_name: String,
        targets: Vec<ArrowTarget>,
        mode: ArrowMode,
    },
    Union {
        children: Vec<Rewrite>,
    },
    Intersection {
        children: Vec<Rewrite>,
    },
    Exclusion {
        base: Box<Rewrite>,
        subtract: Box<Rewrite>,
    },
    /// The set the enclosing relation's own tuples give (only in a
    /// relation's rewrite).
    This,
    /// The empty set.
    Nil,
    /// The object itself, as its only subject (`doc:d#p@doc:d`).
    #[serde(rename = "self")]
    SelfObject,
}

/// A direct sub-rewrite, and whether it is subtracted (the right side of `-`).
#[derive(Clone, Copy, Debug)]
pub struct Child<'r> {
    pub rewrite: &'r Rewrite,
    pub subtracted: bool,
}

impl Rewrite {
    /// The direct sub-rewrites, in order; none for a leaf. Walks that treat
    /// every operator alike (dependency edges, subject namespaces, id checks)
    /// recurse through this; evaluation matches on the operator instead.
    pub fn children(&self) -> impl Iterator<Item = Child<'_>> {
        let (list, exclusion): (&[Rewrite], _) = match self {
            Rewrite::Computed { .. }
            | Rewrite::Arrow { .. }
            | Rewrite::This
            | Rewrite::Nil
            | Rewrite::SelfObject => (&[], None),
            Rewrite::Union { children } | Rewrite::Intersection { children } => (children, None),
            Rewrite::Exclusion { base, subtract } => (&[], Some((&**base, &**subtract))),
        };
        let kept = |rewrite| Child {
            rewrite,
            subtracted: false,
        };
        list.iter()
            .map(kept)
            .chain(exclusion.into_iter().flat_map(move |(base, subtract)| {
                [
                    kept(base),
                    Child {
                        rewrite: subtract,
                        subtracted: true,
                    },
                ]
            }))
    }

    /// The relations this node reads itself, its children aside, and how.
    pub fn reads(&self) -> impl Iterator<Item = (RelationId, EdgeKind)> + '_ {
        let (own, arrow) = match self {
            Rewrite::Computed { relation } => (Some((*relation, EdgeKind::Computed)), None),
            Rewrite::Arrow {
                tupleset, targets, ..
            } => (
                Some((*tupleset, EdgeKind::Tupleset)),
                Some((*tupleset, targets.as_slice())),
            ),
            Rewrite::Union { .. }
            | Rewrite::Intersection { .. }
            | Rewrite::Exclusion { .. }
            | Rewrite::This
            | Rewrite::Nil
            | Rewrite::SelfObject => (None, None),
        };
        let through = arrow.into_iter().flat_map(|(tupleset, targets)| {
            targets
                .iter()
                .map(move |t| (t.relation, EdgeKind::Arrow(tupleset)))
        });
        own.into_iter().chain(through)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArrowTarget {
    pub namespace: NamespaceId,
    pub relation: RelationId,
}

/// `->`/`.any(…)` (union over the tupleset) or `.all(…)` (intersection).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArrowMode {
    Any,
    All,
}

impl Schema {
    /// Builds a schema from its parts, computing the hash and the indexes.
    pub(crate) fn assemble_with_conditions(
        namespaces: Vec<Namespace>,
        relations: Vec<Relation>,
        conditions: Vec<Condition>,
    ) -> Schema {
        let mut schema = Schema {
            format_version: FORMAT_VERSION,
            hash: String::new(),
            namespaces,
            relations,
            conditions,
            index: Index::default(),
            derived: derived::Derived::default(),
        };
        schema.hash = hash::content_hash(&schema);
        schema.rebuild_index();
        schema.derived = derived::Derived::of(&schema);
        schema
    }

    /// The hash this schema's content should carry (what `hash` records).
    pub fn content_hash(&self) -> String {
        hash::content_hash(self)
    }

    fn rebuild_index(&mut self) {
        let mut index = Index::default();
        index.namespaces.reserve(self.namespaces.len());
        for (i, ns) in self.namespaces.iter().enumerate() {
            index
                .namespaces
                .insert(ns.name.clone(), NamespaceId(i as u32));
        }
        index.relations = self
            .namespaces
            .iter()
            .map(|ns| HashMap::with_capacity_and_hasher(ns.relations.len(), Default::default()))
            .collect();
        for (i, rel) in self.relations.iter().enumerate() {
            if let Some(names) = index.relations.get_mut(rel.namespace.0 as usize) {
                names.insert(rel.name.clone(), RelationId(i as u32));
            }
        }
        for (i, condition) in self.conditions.iter().enumerate() {
            index
                .conditions
                .insert(condition.name.clone(), ConditionId(i as u32));
        }
        self.index = index;
    }

    pub fn namespace_id(&self, name: &str) -> Option<NamespaceId> {
        self.index.namespaces.get(name).copied()
    }

    pub fn relation_id(&self, namespace: NamespaceId, name: &str) -> Option<RelationId> {
        self.index
            .relations
            .get(namespace.0 as usize)?
            .get(name)
            .copied()
    }

    pub fn condition_id(&self, name: &str) -> Option<ConditionId> {
        self.index.conditions.get(name).copied()
    }

    pub fn condition(&self, id: ConditionId) -> Option<&Condition> {
        self.conditions.get(id.0 as usize)
    }

    /// Whether some relation has a type with a condition or an expiry, so
    /// that evaluation must read tuples that carry them.
    pub fn has_traits(&self) -> bool {
        self.relations.iter().any(|r| !r.traited().is_empty())
    }

    pub fn namespace(&self, id: NamespaceId) -> Option<&Namespace> {
        self.namespaces.get(id.0 as usize)
    }

    pub fn relation(&self, id: RelationId) -> Option<&Relation> {
        self.relations.get(id.0 as usize)
    }

    /// What evaluating each relation reads: permission rewrites and
    /// subject-set types, in schema order.
    pub fn dependency_edges(&self) -> &[Edge<()>] {
        &self.derived.edges
    }

    /// The namespaces whose objects can be in the set of a relation or
    /// permission, sorted (an over-approximation for `&` and `-`).
    pub fn subject_namespaces(&self, id: RelationId) -> &[NamespaceId] {
        self.derived
            .subject_namespaces
            .get(id.0 as usize)
            .map_or(&[], Vec::as_slice)
    }

    /// `namespace#relation`, for messages.
    pub fn display_relation(&self, id: RelationId) -> String {
        match self.relation(id) {
            Some(rel) => format!(
                "{}#{}",
                self.namespace(rel.namespace)
                    .map_or("?", |ns| ns.name.as_str()),
                rel.name
            ),
            None => format!("#<{}>", id.0),
        }
    }

    /// Pretty JSON, the on-disk form.
    pub fn to_json(&self) -> String {
        // Serializing plain data with string keys cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// Loads and re-validates a compiled schema; a tampered, mismatched or
    /// inconsistent file is rejected.
    pub fn from_json(json: &str) -> Result<Schema, IrError> {
        // Rewrites nest (64 parentheses of alternating operators are legal),
        // deeper than serde_json's default limit of 128; bound the depth here
        // instead so that a hostile file cannot exhaust the stack.
        if json_depth(json) > MAX_JSON_DEPTH {
            return Err(IrError::Invalid(format!(
                "JSON nested deeper than {MAX_JSON_DEPTH} levels"
            )));
        }
        let mut de = serde_json::Deserializer::from_str(json);
        de.disable_recursion_limit();
        let mut schema = Schema::deserialize(&mut de).map_err(IrError::Json)?;
        de.end().map_err(IrError::Json)?;
        if schema.format_version != FORMAT_VERSION {
            return Err(IrError::Version {
                found: schema.format_version,
                expected: FORMAT_VERSION,
            });
        }
        let actual = hash::content_hash(&schema);
        if actual != schema.hash {
            return Err(IrError::HashMismatch {
                recorded: schema.hash,
                actual,
            });
        }
        validate::validate(&schema)?;
        schema.derived = derived::Derived::of(&schema);
        validate::acyclic(&schema.derived.edges, schema.relations.len())?;
        schema.rebuild_index();
        Ok(schema)
    }
}
