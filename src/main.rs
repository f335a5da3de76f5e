//! The `zanzi` binary: everything lives in [`zanzi::cli`].

fn main() -> std::process::ExitCode {
    zanzi::cli::run()
}
