//! Loading an IR file re-validates it: tampered, mismatched or inconsistent
//! files are rejected with a clear error.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use zanzi::ir::{IrError, Schema};

const SOURCE: &str = "namespace user {}\nnamespace group {\n  relation member: user | group#member\n}\nnamespace doc {\n  relation parent: doc\n  relation viewer: user | group#member\n  relation banned: user\n  permission view = (viewer | parent->view) - banned\n}\n";

fn compiled() -> Schema {
    zanzi::compile_source("s.zanzi", SOURCE).1.schema.unwrap()
}

/// Re-hashes a hand-edited document, as anyone editing the file could.
fn rehash(value: serde_json::Value) -> String {
    let mut schema: Schema = serde_json::from_value(value).unwrap();
    schema.hash = schema.content_hash();
    serde_json::to_string(&schema).unwrap()
}

#[test]
fn round_trips() {
    let schema = compiled();
    assert_eq!(Schema::from_json(&schema.to_json()).unwrap(), schema);
    assert!(schema.hash.starts_with("sha256:"));
}

#[test]
fn rehash_matches_the_compiler() {
    let schema = compiled();
    let value: serde_json::Value = serde_json::from_str(&schema.to_json()).unwrap();
    assert_eq!(Schema::from_json(&rehash(value)).unwrap(), schema);
}

#[test]
fn a_modified_file_is_rejected() {
    let json = compiled().to_json().replace("\"banned\"", "\"allowed\"");
    assert!(matches!(
        Schema::from_json(&json),
        Err(IrError::HashMismatch { .. })
    ));
}

#[test]
fn another_format_version_is_rejected() {
    let mut value: serde_json::Value = serde_json::from_str(&compiled().to_json()).unwrap();
    value["format_version"] = 99.into();
    let err = Schema::from_json(&rehash(value)).unwrap_err();
    assert!(matches!(err, IrError::Version { found: 99, .. }), "{err}");
}

#[test]
fn unknown_fields_and_garbage_are_rejected() {
    let mut value: serde_json::Value = serde_json::from_str(&compiled().to_json()).unwrap();
    value["extra"] = true.into();
    assert!(matches!(
        Schema::from_json(&value.to_string()),
        Err(IrError::Json(_))
    ));
    assert!(matches!(
        Schema::from_json("not json"),
        Err(IrError::Json(_))
    ));
    assert!(matches!(Schema::from_json("{}"), Err(IrError::Json(_))));
}

#[test]
fn inconsistent_ids_are_rejected_even_when_rehashed() {
    let original: serde_json::Value = serde_json::from_str(&compiled().to_json()).unwrap();
    // A computed reference out of range.
    let mut value = original.clone();
    let view = value["relations"]
        .as_array_mut()
        .unwrap()
        .last_mut()
        .unwrap();
    view["kind"]["rewrite"]["subtract"]["relation"] = 999.into();
    assert!(matches!(
        Schema::from_json(&rehash(value)),
        Err(IrError::Invalid(_))
    ));
    // A permission excluding itself (unstratified).
    let mut value = original.clone();
    let view_id = value["relations"].as_array().unwrap().len() - 1;
    let view = value["relations"]
        .as_array_mut()
        .unwrap()
        .last_mut()
        .unwrap();
    view["kind"]["rewrite"]["subtract"]["relation"] = view_id.into();
    let err = Schema::from_json(&rehash(value)).unwrap_err();
    assert!(err.to_string().contains("exclusion"), "{err}");
    // A relation listed by the wrong namespace.
    let mut value = original;
    value["namespaces"][0]["relations"] = serde_json::json!([0]);
    assert!(matches!(
        Schema::from_json(&rehash(value)),
        Err(IrError::Invalid(_))
    ));
}

#[test]
fn errors_read_well() {
    let json = compiled().to_json().replace("\"banned\"", "\"allowed\"");
    let message = Schema::from_json(&json).unwrap_err().to_string();
    assert!(message.contains("modified after compilation"), "{message}");
}

#[test]
fn the_deepest_legal_schema_loads_back() {
    // 64 parentheses alternating `|` and `&`: the deepest rewrite the compiler accepts.
    let mut expr = "viewer".to_owned();
    for i in 0..64 {
        let op = if i % 2 == 0 { "|" } else { "&" };
        expr = format!("(viewer {op} {expr})");
    }
    let source =
        format!("namespace doc {{\n  relation viewer: doc\n  permission view = {expr}\n}}\n");
    let (_, compiled) = zanzi::compile_source("deep.zanzi", &source);
    assert!(compiled.diagnostics.is_empty());
    let schema = compiled.schema.unwrap();
    assert_eq!(Schema::from_json(&schema.to_json()).unwrap(), schema);
}

#[test]
fn hostile_nesting_is_refused_without_overflow() {
    let json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(matches!(Schema::from_json(&json), Err(IrError::Invalid(_))));
}

#[test]
fn subject_namespaces_and_edges_are_derived_on_compile_and_on_load() {
    use zanzi::ir::graph::EdgeKind;
    let source = "namespace user {}\nnamespace bot {}\nnamespace folder {\n  relation viewer: user\n}\nnamespace doc {\n  relation parent: folder\n  relation banned: bot\n  relation editor: user\n  permission view = (editor | parent->viewer) - banned\n}\n";
    let compiled = zanzi::compile_source("s.zanzi", source).1.schema.unwrap();
    let loaded = Schema::from_json(&compiled.to_json()).unwrap();
    for schema in [&compiled, &loaded] {
        let ns = |name: &str| schema.namespace_id(name).unwrap();
        let rel = |namespace: &str, name: &str| schema.relation_id(ns(namespace), name).unwrap();
        // Neither the tupleset's objects nor the subtracted side are candidates.
        assert_eq!(schema.subject_namespaces(rel("doc", "view")), [ns("user")]);
        assert_eq!(
            schema.subject_namespaces(rel("doc", "parent")),
            [ns("folder")]
        );
        let view: Vec<_> = schema
            .dependency_edges()
            .iter()
            .filter(|e| e.from == rel("doc", "view"))
            .map(|e| (e.to, e.kind, e.negative))
            .collect();
        assert_eq!(
            view,
            [
                (rel("doc", "editor"), EdgeKind::Computed, false),
                (rel("doc", "parent"), EdgeKind::Tupleset, false),
                (
                    rel("folder", "viewer"),
                    EdgeKind::Arrow(rel("doc", "parent")),
                    false
                ),
                (rel("doc", "banned"), EdgeKind::Computed, true),
            ]
        );
    }
}

/// The subject namespaces as the plain fixed point they are: every relation
/// recomputed from the others until nothing changes.
fn subject_namespaces_by_rounds(schema: &Schema) -> Vec<Vec<zanzi::ir::NamespaceId>> {
    use std::collections::BTreeSet;
    use zanzi::ir::graph::EdgeKind;
    use zanzi::ir::{AllowedType, NamespaceId, RelationKind, Rewrite};
    fn rewrite(r: &Rewrite, sets: &[BTreeSet<NamespaceId>], out: &mut BTreeSet<NamespaceId>) {
        for (relation, kind) in r.reads() {
            if kind != EdgeKind::Tupleset {
                out.extend(sets[relation.0 as usize].iter().copied());
            }
        }
        for child in r.children().filter(|c| !c.subtracted) {
            rewrite(child.rewrite, sets, out);
        }
    }
    let mut sets = vec![BTreeSet::new(); schema.relations.len()];
    loop {
        let mut changed = false;
        for (index, relation) in schema.relations.iter().enumerate() {
            let mut set = BTreeSet::new();
            match &relation.kind {
                RelationKind::Relation { .. } => {
                    // Plain types and the bases of types with traits alike:
                    // a conditional tuple's subject may be in the set.
                    for ty in relation.all_types() {
                        match ty {
                            AllowedType::Object { namespace }
                            | AllowedType::Wildcard { namespace } => {
                                set.insert(namespace);
                            }
                            AllowedType::SubjectSet { relation, .. } => {
                                set.extend(sets[relation.0 as usize].iter().copied());
                            }
                        }
                    }
                }
                RelationKind::Permission { rewrite: r } => rewrite(r, &sets, &mut set),
            }
            if sets[index] != set {
                sets[index] = set;
                changed = true;
            }
        }
        if !changed {
            return sets.into_iter().map(|s| s.into_iter().collect()).collect();
        }
    }
}

#[test]
fn subject_namespaces_are_the_least_fixed_point() {
    let mut sources: Vec<String> = std::fs::read_dir("examples")
        .unwrap()
        .flat_map(|dir| std::fs::read_dir(dir.unwrap().path()).unwrap())
        .map(|f| f.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "zanzi"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    sources.push(SOURCE.to_owned());
    // A chain declared before what it reads, through every kind of edge.
    let mut chain = String::from("namespace user {}\nnamespace bot {}\n");
    for i in (0..40).rev() {
        let next = i + 1;
        let own = if i % 2 == 0 { "user" } else { "bot:*" };
        chain.push_str(&format!(
            "namespace n{i} {{\n  relation parent: n{next}\n  relation member: {own} | n{next}#member\n  relation banned: user\n  permission view = (member | parent->view) - banned\n  permission every = parent.all(every) & member\n}}\n"
        ));
    }
    chain.push_str("namespace n40 {\n  relation parent: n40\n  relation member: user\n  relation banned: bot\n  permission view = member - banned\n  permission every = member\n}\n");
    sources.push(chain);
    for source in &sources {
        let schema = zanzi::compile_source("s.zanzi", source).1.schema.unwrap();
        let expected = subject_namespaces_by_rounds(&schema);
        assert!(expected.iter().any(|s| !s.is_empty()));
        for (i, types) in expected.iter().enumerate() {
            let id = zanzi::ir::RelationId(i as u32);
            assert_eq!(
                schema.subject_namespaces(id),
                types.as_slice(),
                "{}",
                schema.display_relation(id)
            );
        }
    }
}

const WITH_CONDITIONS: &str = r#"namespace user {}

/// Requests from inside the office network.
condition office_network(client_ip: ipaddress, cidr: string) {
  client_ip.in_cidr(cidr)
}

condition tagged(tags: list<string>, limits: map<int>) { size(tags) > 0 && size(limits) > 0 }

namespace doc {
  relation viewer: user | user with office_network | user with tagged and expiration
  relation editor: user with expiration
  relation and: user
  relation expiration: user
  permission view = viewer | editor | and | expiration
}
"#;

fn with_conditions() -> Schema {
    let (sources, compiled) = zanzi::compile_source("c.zanzi", WITH_CONDITIONS);
    assert!(
        compiled.diagnostics.is_empty(),
        "{}",
        zanzi::diagnostics::render_plain(&sources, &compiled.diagnostics)
    );
    compiled.schema.unwrap()
}

#[test]
fn a_schema_with_conditions_round_trips_with_its_hash() {
    let schema = with_conditions();
    let loaded = Schema::from_json(&schema.to_json()).unwrap();
    assert_eq!(loaded, schema);
    assert_eq!(loaded.hash, schema.content_hash());
    assert_eq!(schema.conditions.len(), 2);
    let office = schema
        .condition(schema.condition_id("office_network").unwrap())
        .unwrap();
    assert_eq!(
        office.doc.as_deref(),
        Some("Requests from inside the office network.")
    );
    assert_eq!(office.expression, "client_ip.in_cidr(cidr)");
    let tagged = schema
        .condition(schema.condition_id("tagged").unwrap())
        .unwrap();
    assert_eq!(tagged.param("limits").unwrap().ty.to_string(), "map<int>");
}

#[test]
fn types_with_traits_are_lowered_apart_and_an_expiry_alone_allows_the_plain_type() {
    use zanzi::ir::{AllowedType, TraitedType};
    let schema = with_conditions();
    let doc = schema.namespace_id("doc").unwrap();
    let user = AllowedType::Object {
        namespace: schema.namespace_id("user").unwrap(),
    };
    let viewer = schema
        .relation(schema.relation_id(doc, "viewer").unwrap())
        .unwrap();
    assert_eq!(viewer.allowed(), &[user]);
    assert_eq!(
        viewer.traited(),
        &[
            TraitedType {
                base: user,
                condition: schema.condition_id("office_network"),
                expiration: false,
            },
            TraitedType {
                base: user,
                condition: schema.condition_id("tagged"),
                expiration: true,
            },
        ]
    );
    let editor = schema
        .relation(schema.relation_id(doc, "editor").unwrap())
        .unwrap();
    assert_eq!(editor.allowed(), &[user]);
    assert_eq!(
        editor.traited(),
        &[TraitedType {
            base: user,
            condition: None,
            expiration: true,
        }]
    );
}

#[test]
fn formatting_a_schema_with_conditions_keeps_its_hash() {
    let mut sources = zanzi::source::SourceMap::new();
    let file = sources.add("c.zanzi", WITH_CONDITIONS);
    let mut diags = Vec::new();
    let parsed = zanzi::syntax::parse(file, sources.text(file), &mut diags);
    let formatted = zanzi::syntax::fmt::format(&parsed, WITH_CONDITIONS);
    let (_, again) = zanzi::compile_source("c.zanzi", &formatted);
    assert_eq!(again.schema.unwrap().hash, with_conditions().hash);
}

/// Pinned when conditions came: a schema without them hashes as it did
/// (the examples' IR snapshots hold the same guarantee for larger schemas).
#[test]
fn a_schema_without_conditions_keeps_the_hash_it_had_before_them() {
    assert_eq!(
        compiled().hash,
        "sha256:d436f6dd9c88fec07df1a0177b534d386f3526c677f1fe19a8340c9f99534a91"
    );
}
