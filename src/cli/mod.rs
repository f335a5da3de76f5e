//! The `zanzi` command line: argument parsing, input discovery and output.
//!
//! Exit codes are part of the interface: 0 success, 1 the input is wrong
//! (a schema error, a failing assertion, unformatted files, tuples the
//! schema rejects), 2 zanzi could not do what was asked (usage, I/O).
//! `zanzi check` answers in its status: 0 allowed, 1 denied, 2 no answer. Operational errors are reported through
//! miette; language problems are always rendered diagnostics.

mod bench_protocol;
mod check;
mod compile;
mod context;
mod context_command;
mod convert;
pub mod explain;
mod fmt;
mod local;
mod lookup;
mod migrate;
mod output;
pub mod remote;
mod schema;
pub mod serve;
mod status;
mod tuples;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::diagnostics::OutputFormat;

/// zanzi: authorization schemas, checked and compiled.
///
/// Write namespaces in `.zanzi` files, check them with `zanzi validate`,
/// compile them with `zanzi compile`. `zanzi explain CODE` tells what a
/// diagnostic means and how to fix it. Store tuples in a local database with
/// `zanzi tuples`, then ask `zanzi check`, `zanzi expand` and the lookups.
#[derive(Debug, Parser)]
#[command(name = "zanzi", version, about, long_about)]
pub struct Cli {
    /// When to colour output: auto (a terminal, unless NO_COLOR is set), always or never.
    #[arg(long, global = true, value_enum, default_value_t = ColorMode::Auto)]
    pub color: ColorMode,

    #[command(subcommand)]
    pub command: Command,
}

/// `--format` of the schema commands: the command line's names for the
/// library's [`OutputFormat`], which knows nothing of clap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DiagnosticFormat {
    /// Rendered diagnostics with source snippets.
    Human,
    /// One JSON object (stable, versioned).
    Json,
    /// GitHub Actions workflow commands (`::error file=…`).
    Github,
}

impl From<DiagnosticFormat> for OutputFormat {
    fn from(format: DiagnosticFormat) -> OutputFormat {
        match format {
            DiagnosticFormat::Human => OutputFormat::Human,
            DiagnosticFormat::Json => OutputFormat::Json,
            DiagnosticFormat::Github => OutputFormat::Github,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorMode {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check schemas for errors and warnings.
    ///
    /// Accepts files and directories (searched recursively). The `.zanzi`
    /// files of one directory form one schema; each directory is checked on
    /// its own. Exit status: 0 clean, 1 on any error (or warning, with
    /// --deny-warnings), 2 when the input cannot be read.
    Validate {
        /// Schema files or directories.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// How to print results.
        #[arg(long, value_enum, default_value_t = DiagnosticFormat::Human)]
        format: DiagnosticFormat,
        /// Treat warnings as errors (exit 1).
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Compile a schema to its JSON evaluation IR.
    ///
    /// All given files (and the `.zanzi` files in given directories) form one
    /// schema. The IR is what `zanzi serve` and the engine load.
    Compile {
        /// Schema files or directories.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Where to write the IR (default: standard output).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// How to print diagnostics.
        #[arg(long, value_enum, default_value_t = DiagnosticFormat::Human)]
        format: DiagnosticFormat,
    },
    /// Convert a Keto, SpiceDB or OpenFGA schema to zanzi source.
    ///
    /// The foreign file is checked first (every diagnostic points into it);
    /// a schema with errors is not converted. Names are kept as the foreign
    /// system stores them (between backticks where zanzi's spelling cannot
    /// write them), so existing tuples keep working; the grouping the
    /// foreign operator precedence implied is written as parentheses. The
    /// language is taken from the file name (`.ts`, `.zed`, `.fga`, an
    /// OpenFGA `.json` model) or the content, unless --from names it.
    Convert {
        /// The foreign schema file.
        #[arg(value_name = "FILE")]
        path: PathBuf,
        /// The language of FILE.
        #[arg(long, value_enum)]
        from: Option<convert::From>,
        /// Where to write the zanzi source (default: standard output).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// How to print diagnostics.
        #[arg(long, value_enum, default_value_t = DiagnosticFormat::Human)]
        format: DiagnosticFormat,
    },
    /// Format schema files in the canonical style.
    ///
    /// Rewrites files in place; with --check, changes nothing, prints a diff
    /// of what would change and exits 1 if any file is not formatted. `-`
    /// formats standard input to standard output.
    Fmt {
        /// Schema files or directories (`-` for standard input).
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Only check: print a diff and exit 1 when a file would change.
        #[arg(long)]
        check: bool,
    },
    /// Explain a diagnostic code, with a bad and a fixed example.
    Explain {
        /// A code such as E0105 (omit with --list).
        #[arg(value_name = "CODE", required_unless_present = "list")]
        code: Option<String>,
        /// List every code with its title.
        #[arg(long)]
        list: bool,
    },
    /// Ask whether a subject has a permission on an object.
    ///
    /// Answers from the local database (--db) with its stored schema (or
    /// --schema). Exit status: 0 allowed, 1 denied, 2 when there is no
    /// answer (an error, the depth limit included).
    Check(check::CheckArgs),
    /// Show the rewrite tree of an object's relation or permission, with
    /// the subjects at its leaves.
    Expand(check::ExpandArgs),
    /// Find the objects of a namespace on which a subject has a permission.
    LookupResources(lookup::ResourcesArgs),
    /// Find the subjects of a namespace that have a permission on an object.
    LookupSubjects(lookup::SubjectsArgs),
    /// Write, delete, list, export and import relation tuples.
    #[command(subcommand)]
    Tuples(tuples::TuplesCommand),
    /// Create or upgrade the local database, or show its status.
    #[command(subcommand)]
    Migrate(migrate::MigrateCommand),
    /// Store, show and list the schema kept in the database.
    #[command(subcommand)]
    Schema(schema::SchemaCommand),
    /// Answer a check workload with the peer benchmark's protocol v1.
    #[command(hide = true)]
    BenchProtocol {
        /// The schema (`model.zanzi`).
        #[arg(long, value_name = "FILE")]
        schema: PathBuf,
        /// The tuples, one per line.
        #[arg(long, value_name = "FILE")]
        tuples: PathBuf,
        /// The checks, one tuple per line.
        #[arg(long, value_name = "FILE")]
        checks: PathBuf,
        /// Tuples per SQLite import transaction.
        #[arg(long, value_name = "N", default_value_t = 50_000)]
        batch_size: usize,
    },
    /// Run the HTTP server (Ory Keto-compatible REST API; see docs/api.md).
    ///
    /// Settings come from --config FILE, then `ZANZI_*` environment
    /// variables, then these flags. Stops gracefully on SIGINT/SIGTERM.
    Serve(serve::ServeArgs),
    /// Print a shell completion script.
    ///
    /// bash: `zanzi completions bash > ~/.local/share/bash-completion/completions/zanzi`;
    /// zsh: `zanzi completions zsh > "${fpath[1]}/_zanzi"`;
    /// fish: `zanzi completions fish > ~/.config/fish/completions/zanzi.fish`;
    /// PowerShell: `zanzi completions powershell | Out-String | Invoke-Expression`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write manual pages: `zanzi.1` to standard output, or with --dir one
    /// page per command (`zanzi.1`, `zanzi-validate.1`, …) into DIR.
    Man {
        /// Write every page into this directory.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Name servers once, then use them by name (like `zed context`).
    ///
    /// With a current context (`zanzi context use NAME`), the commands that
    /// read or write tuples run against its server whenever no --remote,
    /// --write-remote or --context is given, instead of the local database;
    /// `zanzi context use --none` goes back to local. The contexts live in
    /// `$ZANZI_CONFIG_DIR/contexts.yaml` (else
    /// `$XDG_CONFIG_HOME/zanzi/contexts.yaml`, else
    /// `~/.config/zanzi/contexts.yaml`), readable by its owner only.
    #[command(subcommand)]
    Context(context_command::ContextCommand),
    /// Report whether a server is ready: exit 0 when it is, 1 when not.
    ///
    /// It must also be zanzi (and, with --expect-db and
    /// --expect-schema-hash, the expected one): a server that answers but is
    /// not is reported at once, even with --block.
    Status(status::StatusArgs),
}

/// `zanzi man`: the main page on standard output, or every page into `dir`.
fn man(dir: Option<&std::path::Path>) -> miette::Result<ExitCode> {
    use miette::IntoDiagnostic;
    let command = Cli::command().long_version(long_version());
    let Some(dir) = dir else {
        let mut page = Vec::new();
        clap_mangen::Man::new(command)
            .render(&mut page)
            .into_diagnostic()?;
        output::print(&String::from_utf8_lossy(&page)).into_diagnostic()?;
        return Ok(ExitCode::SUCCESS);
    };
    std::fs::create_dir_all(dir).into_diagnostic()?;
    clap_mangen::generate_to(command, dir)
        .into_diagnostic()
        .map_err(|e| {
            e.wrap_err(format!(
                "cannot write manual pages into `{}`",
                dir.display()
            ))
        })?;
    Ok(ExitCode::SUCCESS)
}

/// What `zanzi --version` prints: the version, the IR format it reads and
/// writes, and the build's commit and date.
fn long_version() -> &'static str {
    let text = format!(
        "{}\nIR format version {}\ncommit {}\nbuilt {}",
        env!("CARGO_PKG_VERSION"),
        crate::ir::FORMAT_VERSION,
        env!("BUILD_INFO_COMMIT"),
        env!("BUILD_INFO_DATE"),
    );
    // Built once per process, for clap, which keeps `&'static str`s.
    Box::leak(text.into_boxed_str())
}

/// Parses the command line and runs the command.
pub fn run() -> ExitCode {
    let matches = Cli::command().long_version(long_version()).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    let color = cli.color;
    output::install_error_reporter(color);
    let result = match cli.command {
        Command::Validate {
            paths,
            format,
            deny_warnings,
        } => validate::run(&paths, format.into(), deny_warnings, color),
        Command::Compile {
            paths,
            output,
            format,
        } => compile::run(&paths, output.as_deref(), format.into(), color),
        Command::Convert {
            path,
            from,
            output,
            format,
        } => convert::run(&path, from, output.as_deref(), format.into(), color),
        Command::Fmt { paths, check } => fmt::run(&paths, check, color),
        Command::Explain { code, list } => explain::run(code.as_deref(), list),
        Command::Check(args) => check::run(&args, color),
        Command::Expand(args) => check::run_expand(&args, color),
        Command::LookupResources(args) => lookup::run_resources(&args, color),
        Command::LookupSubjects(args) => lookup::run_subjects(&args, color),
        Command::Tuples(command) => tuples::run(&command, color),
        Command::Migrate(command) => migrate::run(&command),
        Command::Schema(command) => schema::run(&command, color),
        Command::BenchProtocol {
            schema,
            tuples,
            checks,
            batch_size,
        } => bench_protocol::run(&bench_protocol::Options {
            schema,
            tuples,
            checks,
            batch_size,
        }),
        Command::Serve(args) => serve::run(&args),
        Command::Context(command) => context_command::run(&command),
        Command::Status(args) => status::run(&args, color),
        Command::Man { dir } => man(dir.as_deref()),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "zanzi", &mut script);
            output::print(&String::from_utf8_lossy(&script))
                .map(|()| ExitCode::SUCCESS)
                .map_err(|e| miette::miette!("cannot write the completions: {e}"))
        }
    };
    match result {
        Ok(code) => code,
        Err(report) => {
            // Mistakes in the arguments render like a schema's diagnostics;
            // miette reports the rest.
            match report.downcast_ref::<local::InputError>() {
                Some(input) => {
                    let _ = output::print_diagnostics(
                        &input.sources,
                        &input.diagnostics,
                        OutputFormat::Human,
                        color,
                        output::Stream::Stderr,
                    );
                }
                None => eprintln!("{report:?}"),
            }
            ExitCode::from(2)
        }
    }
}
