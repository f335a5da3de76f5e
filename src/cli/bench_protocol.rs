//! `zanzi bench-protocol` (hidden): the peer benchmark's CLI protocol v1.
//!
//! Loads a schema (`model.zanzi`; see [`schema_file`] for the harness's
//! default `schema.zed`), a tuple file and a check file, then answers every check
//! twice, once on SQLite (a temporary database filled with the store's
//! batched import) and once in memory, printing tab-separated records on
//! standard output:
//!
//! ```text
//! load   <n_tuples>  <ns>              schema compiled, tuples validated and imported into SQLite
//! mode   check/sqlite
//! check  <index>  <1|0|error:MSG>  <ns>   one per check, in file order
//! done   <n_checks>  <ns>              the whole check loop
//! mode   check/memory
//! check  …
//! done   …
//! ```
//!
//! Every figure comes from a monotonic clock around the measured work only:
//! reading and parsing the input files happens before any clock starts, and
//! the records of a mode are printed after its loop. The in-memory load time
//! goes to standard error (the protocol has one `load` record).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use miette::{miette, IntoDiagnostic, WrapErr};

use crate::diagnostics::{self, Diagnostic};
use crate::engine::{Engine, EngineError};
use crate::load::{self, Limits};
use crate::source::SourceMap;
use crate::store::{MemoryStore, Revision, SqliteStore, TupleStore};
use crate::tuple::{self, Tuple};

/// What the command was asked to do.
#[derive(Debug)]
pub struct Options {
    pub schema: PathBuf,
    pub tuples: PathBuf,
    pub checks: PathBuf,
    /// Tuples per import transaction.
    pub batch_size: usize,
}

/// One line of the check file: a question, or why it is not one.
type Question = Result<Tuple, String>;

pub fn run(options: &Options) -> miette::Result<ExitCode> {
    // Inputs are read and parsed before any clock starts.
    let mut sources = SourceMap::new();
    let mut diags = Vec::new();
    let schema_path = schema_file(&options.schema);
    let file = load::read_source(&mut sources, &schema_path, &Limits::default(), &mut diags)
        .into_diagnostic()?;
    let tuples_text = read_text(&options.tuples)?;
    let tuples: Vec<Tuple> = match tuple::parse_tuple_file(&tuples_text) {
        Ok(tuples) => tuples.into_iter().map(|(_, t)| t).collect(),
        Err(errors) => {
            let first = errors.first().map(ToString::to_string).unwrap_or_default();
            return Err(miette!(
                "{}: {} invalid line(s); the first: {first}",
                options.tuples.display(),
                errors.len()
            ));
        }
    };
    drop(tuples_text);
    let questions = parse_checks(&read_text(&options.checks)?);

    // Load: compile the schema, validate every tuple against it, import.
    let start = Instant::now();
    let compilation = crate::compile(&sources, &[file]);
    diags.extend(compilation.diagnostics);
    let Some(schema) = compilation
        .schema
        .filter(|_| !diags.iter().any(Diagnostic::is_error))
    else {
        diagnostics::sort_and_dedup(&mut diags);
        eprint!("{}", diagnostics::render_plain(&sources, &diags));
        return Ok(ExitCode::from(1));
    };
    if let Some((index, error)) = tuples
        .iter()
        .enumerate()
        .find_map(|(i, t)| tuple::validate_tuple(&schema, t).err().map(|e| (i, e)))
    {
        return Err(miette!(
            "{}: tuple {} is rejected by the schema: {error}",
            options.tuples.display(),
            index + 1
        ));
    }
    let db = TempDb::new()?;
    let sqlite = SqliteStore::open(db.path()).into_diagnostic()?;
    let report = sqlite
        .import(&tuples, options.batch_size)
        .into_diagnostic()?;
    let load_ns = start.elapsed().as_nanos();
    let sqlite_at = report
        .revisions
        .last()
        .copied()
        .unwrap_or(Revision::default());

    let mut out = std::io::stdout().lock();
    writeln!(out, "load\t{}\t{load_ns}", tuples.len()).into_diagnostic()?;
    let engine = Engine::new(&schema, &sqlite);
    print_mode(
        &mut out,
        "check/sqlite",
        &run_checks(&engine, &questions, sqlite_at),
    )?;
    drop(sqlite);
    drop(db);

    let start = Instant::now();
    let memory = MemoryStore::new();
    let memory_at = memory.write(&tuples, &[]).into_diagnostic()?;
    eprintln!(
        "memory load\t{}\t{}",
        tuples.len(),
        start.elapsed().as_nanos()
    );
    let engine = Engine::new(&schema, &memory);
    print_mode(
        &mut out,
        "check/memory",
        &run_checks(&engine, &questions, memory_at),
    )?;
    out.flush().into_diagnostic()?;
    Ok(ExitCode::SUCCESS)
}

/// The schema to load. The harness's `run_all.sh` passes its default
/// `--schema {data}/schema.zed` (SpiceDB's file) to every CLI; its data
/// directories hold the same model in zanzi's language as `model.zanzi`,
/// which is read instead of a schema file in another language.
fn schema_file(given: &Path) -> PathBuf {
    if given.extension().is_some_and(|e| e == "zanzi") {
        return given.to_path_buf();
    }
    let ours = given.with_file_name("model.zanzi");
    if ours.is_file() {
        eprintln!(
            "bench-protocol: `{}` is not a zanzi schema; reading `{}`",
            given.display(),
            ours.display()
        );
        return ours;
    }
    given.to_path_buf()
}

fn read_text(path: &Path) -> miette::Result<String> {
    String::from_utf8(load::read_bytes(path, &Limits::default()).into_diagnostic()?)
        .into_diagnostic()
        .wrap_err_with(|| format!("`{}` is not UTF-8", path.display()))
}

/// The questions of a check file: one tuple per line (`document:d1#view@user:u7`);
/// blank lines and lines starting with `#` or `//` are not questions.
fn parse_checks(text: &str) -> Vec<Question> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#') && !line.starts_with("//"))
        .map(|line| line.parse::<Tuple>().map_err(|e| e.to_string()))
        .collect()
}

/// The answers of one mode and how long each took.
struct ModeRun {
    answers: Vec<(Result<bool, String>, u128)>,
    total_ns: u128,
}

fn run_checks(engine: &Engine<'_>, questions: &[Question], at: Revision) -> ModeRun {
    let mut answers = Vec::with_capacity(questions.len());
    let start = Instant::now();
    for question in questions {
        let t = Instant::now();
        let answer = match question {
            Ok(tuple) => engine
                .check_tuple(tuple, at)
                .map_err(|e: EngineError| e.to_string()),
            Err(message) => Err(message.clone()),
        };
        answers.push((answer, t.elapsed().as_nanos()));
    }
    ModeRun {
        answers,
        total_ns: start.elapsed().as_nanos(),
    }
}

fn print_mode(out: &mut impl std::io::Write, mode: &str, run: &ModeRun) -> miette::Result<()> {
    let mut text = format!("mode\t{mode}\n");
    for (index, (answer, ns)) in run.answers.iter().enumerate() {
        let answer = match answer {
            Ok(true) => "1".to_owned(),
            Ok(false) => "0".to_owned(),
            // One record per line, fields split on tabs.
            Err(message) => format!("error:{}", message.replace(['\t', '\n', '\r'], " ")),
        };
        let _ = writeln!(text, "check\t{index}\t{answer}\t{ns}");
    }
    let _ = writeln!(text, "done\t{}\t{}", run.answers.len(), run.total_ns);
    out.write_all(text.as_bytes()).into_diagnostic()
}

/// A fresh directory for the SQLite database (and its WAL files), removed
/// when dropped.
struct TempDb {
    dir: PathBuf,
}

impl TempDb {
    fn new() -> miette::Result<TempDb> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let dir =
            std::env::temp_dir().join(format!("zanzi-bench-{}-{nanos:09}", std::process::id()));
        std::fs::create_dir(&dir)
            .into_diagnostic()
            .wrap_err_with(|| format!("cannot create `{}`", dir.display()))?;
        Ok(TempDb { dir })
    }

    fn path(&self) -> PathBuf {
        self.dir.join("bench.db")
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
