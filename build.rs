//! Generates the parser from `grammar/zanzi.lalrpop` into `$OUT_DIR/zanzi.rs`.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    lalrpop::Configuration::new()
        .emit_rerun_directives(true)
        .process_dir("grammar")
}
