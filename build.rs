//! Generates the parser from `grammar/zanzi.lalrpop` into `$OUT_DIR/zanzi.rs`.
fn main() {
    lalrpop::Configuration::new()
        .emit_rerun_directives(true)
        .process_dir("grammar")
        .unwrap_or_else(|err| panic!("lalrpop failed: {err}"));
}
