//! The `zanzi` binary: everything lives in the library's command-line module.

/// mimalloc rather than the system's allocator: see `Cargo.toml`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    zanzi::run_cli()
}
