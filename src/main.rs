//! The `zanzi` binary: everything lives in the library's command-line module.

fn main() -> std::process::ExitCode {
    zanzi::run_cli()
}
