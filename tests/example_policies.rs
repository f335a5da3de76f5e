//! The example policies, evaluated: their expand trees and lookup results are
//! snapshotted, so a change in what a policy means shows up in review.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fmt::Write;
use std::path::Path;

use zanzi::engine::Engine;
use zanzi::source::SourceMap;
use zanzi::store::PageRequest;
use zanzi::tuple::{self, Tuple};

fn evaluate(yaml: &Path) -> String {
    let mut sources = SourceMap::new();
    let file = sources.add(
        yaml.display().to_string(),
        std::fs::read_to_string(yaml).unwrap(),
    );
    let loaded = zanzi::validation::load(&mut sources, file, yaml.parent().unwrap())
        .unwrap_or_else(|(d, _)| panic!("{}", zanzi::diagnostics::render_plain(&sources, &d)));
    // Read at the file's `now`, so that expiring tuples give the same
    // answers whenever the test runs.
    let request = zanzi::engine::RequestContext {
        now: loaded.file.now,
        ..Default::default()
    };
    let engine = Engine::new(&loaded.schema, &loaded.store).with_request(&request);
    let mut out = String::new();
    for (target, _) in &loaded.file.expected_subjects {
        let (object, relation) = tuple::parse_object_relation(&target.text).unwrap();
        writeln!(out, "## expand {}", target.text).unwrap();
        out.push_str(
            &engine
                .expand(&object, &relation, 6, loaded.at)
                .unwrap()
                .render(),
        );
        writeln!(out, "\n## lookup-subjects {}", target.text).unwrap();
        for ns in &loaded.schema.namespaces {
            let found = engine
                .lookup_subjects(&object, &relation, &ns.name, loaded.at)
                .unwrap();
            if !found.subject_ids.is_empty() || found.wildcard {
                writeln!(
                    out,
                    "{}: {:?} wildcard={} excluded={:?}",
                    ns.name, found.subject_ids, found.wildcard, found.excluded
                )
                .unwrap();
                if !found.conditional.is_empty() || found.wildcard_missing.is_some() {
                    writeln!(
                        out,
                        "  conditional: {:?} wildcard_missing={:?}",
                        found.conditional, found.wildcard_missing
                    )
                    .unwrap();
                }
            }
        }
        out.push('\n');
    }
    // What the subject of each allowed assertion can reach, for its permission.
    let mut seen = std::collections::BTreeSet::new();
    for assertion in loaded.file.allowed.iter().take(6) {
        let question: Tuple = assertion.check.text.parse().unwrap();
        let key = (
            question.object.namespace.clone(),
            question.relation.clone(),
            question.subject.to_string(),
        );
        if !seen.insert(key) {
            continue;
        }
        let page = engine
            .lookup_resources_decided(
                &question.object.namespace,
                &question.relation,
                &question.subject,
                &PageRequest::first(100),
                loaded.at,
                true,
            )
            .unwrap();
        let (allowed, conditional): (Vec<_>, Vec<_>) = page
            .items
            .into_iter()
            .partition(|(_, decision)| decision.is_allowed());
        let allowed: Vec<String> = allowed.into_iter().map(|(id, _)| id).collect();
        writeln!(
            out,
            "## lookup-resources {} {} {}\n{:?}",
            question.object.namespace, question.relation, question.subject, allowed
        )
        .unwrap();
        for (id, decision) in conditional {
            writeln!(out, "  conditional {id}: {decision:?}").unwrap();
        }
        out.push('\n');
    }
    out
}

#[test]
fn expand_trees_and_lookups_of_every_example() {
    insta::glob!("../examples", "*/*.test.yaml", |path| {
        insta::assert_snapshot!(evaluate(path));
    });
}
