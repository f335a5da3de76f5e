//! Compiling a large generated schema: 1,000 namespaces and 20,000
//! relations and permissions. Figures are recorded in docs/performance.md.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// A schema of `namespaces` namespaces with 20 members each (8 relations and
/// 12 permissions), using every construct: unions, intersections,
/// exclusions, arrows, `.all`, subject-set types and wildcards.
pub fn generate(namespaces: usize) -> String {
    let mut out = String::from("/// A person.\nnamespace user {}\n\n");
    for i in 0..namespaces {
        let parent = if i == 0 { 0 } else { i - 1 };
        out.push_str(&format!(
            "/// Generated namespace {i}.\nnamespace ns{i} {{\n\
             \x20 relation parent: ns{parent}\n\
             \x20 relation owner: user\n\
             \x20 relation editor: user | ns{i}#member\n\
             \x20 relation viewer: user | user:* | ns{i}#member\n\
             \x20 relation member: user\n\
             \x20 relation banned: user\n\
             \x20 relation labels: ns{parent}\n\
             \x20 relation approver: user\n\
             \x20 permission edit = owner | editor | parent->edit\n\
             \x20 permission view = edit | viewer | parent->view\n\
             \x20 permission safe_view = view - banned\n\
             \x20 permission review = (view & approver) | owner\n\
             \x20 permission cleared = labels.all(member)\n\
             \x20 permission comment = safe_view & edit\n\
             \x20 permission share = owner | parent.any(share)\n\
             \x20 permission audit = approver | parent->audit\n\
             \x20 permission admin = owner - banned\n\
             \x20 permission list = view | comment | review\n\
             \x20 permission delete = admin & edit\n\
             \x20 permission manage = (admin | delete) - banned\n\
             }}\n\n"
        ));
    }
    out
}

fn compile(c: &mut Criterion) {
    let source = generate(1_000);
    // Kept for measuring the binary's wall time and peak memory on the same
    // input (docs/performance.md): `zanzi validate target/bench-schema/`.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-schema");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join("big.zanzi"), &source);
    }
    let (_, compiled) = zanzi::compile_source("big.zanzi", &source);
    assert!(
        compiled.diagnostics.is_empty(),
        "the generated schema must be clean"
    );
    assert_eq!(compiled.schema.map(|s| s.relations.len()), Some(20_000));

    let mut group = c.benchmark_group("compile");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(source.len() as u64));
    group.bench_function("1000_namespaces_20000_members", |b| {
        b.iter(|| zanzi::compile_source("big.zanzi", &source))
    });
    group.bench_function("parse_only", |b| {
        b.iter(|| {
            let mut sources = zanzi::source::SourceMap::new();
            let file = sources.add("big.zanzi", source.as_str());
            let mut diags = Vec::new();
            zanzi::syntax::parse(file, sources.text(file), &mut diags)
                .ast
                .items
                .len()
        })
    });
    group.finish();
}

criterion_group!(benches, compile);
criterion_main!(benches);
