//! The Ory Keto front end on real material: every committed example from
//! Keto's repository and documentation compiles, means what Keto means
//! (checked with the engine on a few tuples), and mistakes are reported at
//! their line and column.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

use zanzi::ir::Schema;
use zanzi::load::{load_schema, Limits};
use zanzi::source::SourceMap;
use zanzi::store::{MemoryStore, TupleStore};
use zanzi::{Compilation, Engine, Object, Subject, Tuple};

fn material() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/foreign/keto");
    let mut files = Vec::new();
    for dir in ["keto", "docs"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "ts") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn load(path: &Path) -> (SourceMap, Compilation) {
    load_schema(path, &Limits::default()).unwrap()
}

/// (code, line, column) of every diagnostic.
fn positions(sources: &SourceMap, compiled: &Compilation) -> Vec<(String, usize, usize)> {
    let report = zanzi::diagnostics::render_json(sources, &compiled.diagnostics);
    report
        .diagnostics
        .into_iter()
        .map(|d| (d.code.to_owned(), d.line, d.column))
        .collect()
}

#[test]
fn every_example_compiles() {
    let files = material();
    assert!(files.len() >= 18, "{files:?}");
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (sources, compiled) = load(&path);
        let found = positions(&sources, &compiled);
        // Tutorial steps that traverse to permits `Folder` gets a step later
        // (Keto rejects them as well): see SOURCE.md.
        let expected: Vec<(String, usize, usize)> = match name.as_str() {
            "modeling-create-permission-model-v3.ts" => vec![("E0203".into(), 19, 66)],
            "modeling-create-permission-model-v4.ts" => {
                vec![("E0203".into(), 18, 66), ("E0203".into(), 23, 66)]
            }
            _ => vec![],
        };
        assert_eq!(found, expected, "{name}");
        if expected.is_empty() {
            assert!(compiled.schema.is_some(), "{name}");
        }
    }
}

fn schema_of(file: &str) -> Schema {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/foreign/keto")
        .join(file);
    let (_, compiled) = load(&path);
    compiled.schema.unwrap()
}

fn compile(name: &str, src: &str) -> Schema {
    let (_, compiled) = zanzi::compile_source(name, src);
    assert!(!compiled.has_errors(), "{:#?}", compiled.diagnostics);
    compiled.schema.unwrap()
}

/// `Ns:obj#rel@Ns:obj` or `Ns:obj#rel@Ns:obj#rel`, names as Keto spells them.
fn tuple(text: &str) -> Tuple {
    let object = |text: &str| {
        let (ns, id) = text.split_once(':').unwrap();
        Object::new(ns, id)
    };
    let (resource, subject) = text.split_once('@').unwrap();
    let (resource, relation) = resource.split_once('#').unwrap();
    let subject = match subject.split_once('#') {
        Some((set, relation)) => Subject::Set {
            object: object(set),
            relation: relation.to_owned(),
        },
        None => Subject::Object(object(subject)),
    };
    Tuple::new(object(resource), relation, subject)
}

/// Answers `question` after writing `data` (one tuple a line).
fn check(schema: &Schema, data: &str, question: &str) -> bool {
    let store = MemoryStore::new();
    let tuples: Vec<Tuple> = data
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(tuple)
        .collect();
    zanzi::store::write_validated(&store, schema, &tuples, &[]).unwrap();
    let engine = Engine::new(schema, &store);
    let tuple = tuple(question);
    engine
        .check_tuple(&tuple, store.head_revision().unwrap())
        .unwrap()
}

#[test]
fn files_and_folders_mean_what_keto_means() {
    let schema = schema_of("keto/rewrites-example.keto.ts");
    let data = "
        Group:eng#members@User:bob
        Folder:root#viewers@Group:eng#members
        Folder:sub#parents@Folder:root
        File:readme#parents@Folder:sub
        File:secret#owners@User:alice
        File:secret#viewers@User:carol
    ";
    // A viewer of a folder above can view the file; a member of a viewing group too.
    assert!(check(&schema, data, "File:readme#view@User:bob"));
    assert!(check(&schema, data, "Folder:sub#view@User:bob"));
    assert!(!check(&schema, data, "File:readme#view@User:alice"));
    assert!(check(&schema, data, "File:secret#view@User:alice"));
    assert!(check(&schema, data, "File:secret#edit@User:alice"));
    assert!(check(&schema, data, "File:secret#view@User:carol"));
    assert!(!check(&schema, data, "File:secret#edit@User:carol"));
}

#[test]
fn rbac_roles_through_quoted_relations() {
    let schema = schema_of("docs/guides-rbac.ts");
    let data = "
        Role:reporters#members@User:ann
        Organization:acme#reports.view@Role:reporters
    ";
    assert!(check(
        &schema,
        data,
        "Organization:acme#viewReports@User:ann"
    ));
    assert!(!check(
        &schema,
        data,
        "Organization:acme#editReports@User:ann"
    ));
}

#[test]
fn exclusion_and_left_to_right_reading() {
    // Lowercase class names: tuples cannot name capitalised ones yet.
    let src = r#"
class user implements Namespace {}
class doc implements Namespace {
  related: {
    viewers: user[]
    editors: user[]
    banned: user[]
  }
  permits = {
    view: (ctx: Context): boolean =>
      this.related.viewers.includes(ctx.subject) && !this.related.banned.includes(ctx.subject),
    // Keto reads this as (viewers || editors) && banned.
    odd: (ctx: Context): boolean =>
      this.related.viewers.includes(ctx.subject) || this.related.editors.includes(ctx.subject) && this.related.banned.includes(ctx.subject),
  }
}
"#;
    let (sources, compiled) = zanzi::compile_source("doc.keto.ts", src);
    assert_eq!(
        positions(&sources, &compiled),
        [("W0601".to_owned(), 14, 96)]
    );
    let schema = compiled.schema.unwrap();
    let data =
        "doc:d#viewers@user:a\ndoc:d#viewers@user:b\ndoc:d#banned@user:b\ndoc:d#editors@user:c";
    assert!(check(&schema, data, "doc:d#view@user:a"));
    assert!(!check(&schema, data, "doc:d#view@user:b"));
    // TypeScript would grant `a` (a viewer); Keto, and zanzi, do not.
    assert!(!check(&schema, data, "doc:d#odd@user:a"));
    assert!(check(&schema, data, "doc:d#odd@user:b"));
    assert!(!check(&schema, data, "doc:d#odd@user:c"));
}

#[test]
fn a_union_inside_traverse() {
    let schema = compile(
        "t.keto.ts",
        r#"
class user implements Namespace {}
class folder implements Namespace {
  related: { viewers: user[]; owners: user[] }
}
class file implements Namespace {
  related: { parents: folder[] }
  permits = {
    view: (ctx: Context) =>
      this.related.parents.traverse((p) => p.related.viewers.includes(ctx.subject) || p.related.owners.includes(ctx.subject)),
  }
}
"#,
    );
    let data = "folder:f#owners@user:o\nfolder:f#viewers@user:v\nfile:x#parents@folder:f";
    assert!(check(&schema, data, "file:x#view@user:o"));
    assert!(check(&schema, data, "file:x#view@user:v"));
    assert!(!check(&schema, data, "file:x#view@user:z"));
}

#[test]
fn mistakes_at_their_line_and_column() {
    let src = r#"import { Namespace, Context } from "@ory/keto-namespace-types"

class User implements Namespace {}

class Doc implements Namespace {
  related: {
    viewers: User
    owners: User[]
  }
  permits = {
    view: (ctx: Context) => !this.related.owners.includes(ctx.subject),
    edit: (ctx: Context) => this.related.owners.includes(ctx.subject) && this.permits.view(ctx),
    share: (ctx: Context) => this.related.owner.includes(ctx.subject),
  }
}
"#;
    let (sources, compiled) = zanzi::compile_source("doc.keto.ts", src);
    assert_eq!(
        positions(&sources, &compiled),
        [
            ("E0601".to_owned(), 7, 18),
            ("E0603".to_owned(), 11, 29),
            ("E0105".to_owned(), 13, 43),
        ]
    );
}

#[test]
fn traversing_a_subject_set_relation_is_zanzis_own_error() {
    // Keto's traverse uses only the object of a subject-set tuple; zanzi's
    // arrows need plain objects, and says so.
    let src = r#"
class Role implements Namespace { related: { member: Role[] } }
class Resource implements Namespace {
  related: { admins: SubjectSet<Role, 'member'>[] }
  permits = {
    read: (ctx: Context) => this.related.admins.traverse((role) => role.related.member.includes(ctx.subject)),
  }
}
"#;
    let (sources, compiled) = zanzi::compile_source("r.keto.ts", src);
    let found = positions(&sources, &compiled);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].0.as_str(), found[0].1), ("E0202", 6));
}

/// A permit that failed to read is silent in analysis: references to it
/// report nothing more (no cascade).
#[test]
fn broken_permits_cause_no_cascade() {
    let src = "class User implements Namespace {}\n\
               class Doc implements Namespace {\n\
               related: { a: User[] }\n\
               permits = {\n\
               v: (ctx) => !this.related.a.includes(ctx.subject),\n\
               w: (ctx) => this.related.a.include(ctx.subject),\n\
               x: (ctx) => this.permits.v(ctx) || this.permits.w(ctx),\n\
               }\n}\n";
    let (_, compiled) = zanzi::compile_source("doc.keto.ts", src);
    let codes: Vec<_> = compiled
        .diagnostics
        .iter()
        .map(|d| d.code.to_string())
        .collect();
    assert_eq!(codes, ["E0603", "E0601"]);
}

mod whole_pipeline {
    use proptest::prelude::*;

    proptest! {
        /// Random text through the front end and zanzi's analysis: no panic,
        /// every span inside the file.
        #[test]
        fn random_text_never_panics(src in "\\PC{0,300}") {
            let text = format!("class A implements Namespace {{ {src} }}");
            let (sources, compiled) = zanzi::compile_source("fuzz.keto.ts", &text);
            for d in &compiled.diagnostics {
                prop_assert!(d.primary.span.end as usize <= text.len());
            }
            let _ = zanzi::diagnostics::render_plain(&sources, &compiled.diagnostics);
        }
    }
}
