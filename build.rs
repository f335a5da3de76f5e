//! Generates the parser from `grammar/zanzi.lalrpop` into `$OUT_DIR/zanzi.rs`.
#[expect(clippy::panic, reason = "a build script reports failure by panicking")]
fn main() {
    lalrpop::Configuration::new()
        .emit_rerun_directives(true)
        .process_dir("grammar")
        .unwrap_or_else(|err| panic!("lalrpop failed: {err}"));
}
