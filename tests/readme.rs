//! Every shell block of README.md runs as written, in order, from a fresh
//! directory holding the repository's `examples/` and `tests/foreign/`, and
//! prints what the README says it prints.
//!
//! How a block is read:
//! - a command may go on over lines ending in `\`;
//! - `# …` lines right after a command (no blank line between) are its
//!   expected standard output, where `…` stands for any text; other `#`
//!   lines are prose;
//! - a command must exit 0, unless its own trailing comment says `exit N`;
//! - `COMMAND &` keeps running until the end of the README;
//! - `zanzi serve` in the foreground (the set-up commands) is started,
//!   waited for until ready, and stopped before the next command.
//!
//! `zanzi` is this build's binary, first on the `PATH`; `cargo` is a stand-in
//! that maps `cargo run --release -- ARGS` to `zanzi ARGS` and skips `cargo
//! build`, `cargo install` and `cargo test` (this test is part of the latter).
//! The PostgreSQL set-up command runs against the test cluster: its URL
//! replaces the README's example URL.
//!
//! A ```` ```zanzi ```` block preceded by `<!-- readme-test: file NAME -->`
//! is written to NAME first, as the README asks its reader to; a
//! ```` ```text ```` block preceded by `<!-- readme-test: validate NAME
//! with FROM misspelt TO -->` is the output of `zanzi validate NAME` on
//! NAME with that one change.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The URL the README shows for a PostgreSQL database.
const README_POSTGRES_URL: &str = "postgres://user@localhost:5432/zanzi";

/// One piece of the README, in order.
#[derive(Debug)]
enum Piece {
    /// A shell command, with the README line it starts on.
    Command(ShellCommand),
    /// A file the reader is asked to save.
    File { name: String, text: String },
    /// The output of `zanzi validate` on a file with one misspelling.
    Validate {
        line: usize,
        file: String,
        from: String,
        to: String,
        expected: String,
    },
}

#[derive(Debug, Default)]
struct ShellCommand {
    line: usize,
    text: String,
    expected: Vec<String>,
    exit: i32,
    background: bool,
}

/// The README's pieces, in order.
fn pieces(readme: &str) -> Vec<Piece> {
    let lines: Vec<&str> = readme.lines().collect();
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        if let Some(rest) = line
            .strip_prefix("<!-- readme-test:")
            .and_then(|r| r.strip_suffix("-->"))
        {
            marker = Some(rest.trim().to_owned());
            i += 1;
            continue;
        }
        let Some(lang) = line.strip_prefix("```").filter(|l| !l.is_empty()) else {
            if !line.is_empty() {
                marker = None;
            }
            i += 1;
            continue;
        };
        let start = i + 1;
        let mut end = start;
        while end < lines.len() && lines[end].trim() != "```" {
            end += 1;
        }
        let body = &lines[start..end];
        match (lang, marker.take()) {
            ("sh", _) => out.extend(commands(start, body).into_iter().map(Piece::Command)),
            ("zanzi", Some(m)) => {
                let name = m.strip_prefix("file ").expect("`file NAME`").trim();
                out.push(Piece::File {
                    name: name.to_owned(),
                    text: body.join("\n") + "\n",
                });
            }
            ("text", Some(m)) => {
                // `validate NAME with FROM misspelt TO`
                let words: Vec<&str> = m.split_whitespace().collect();
                let ["validate", file, "with", from, "misspelt", to] = words.as_slice() else {
                    panic!("README line {i}: unknown readme-test marker `{m}`");
                };
                out.push(Piece::Validate {
                    line: start,
                    file: (*file).to_owned(),
                    from: from.trim_matches('`').to_owned(),
                    to: to.trim_matches('`').to_owned(),
                    expected: body.join("\n"),
                });
            }
            _ => {}
        }
        i = end + 1;
    }
    out
}

/// The commands of one `sh` block whose first line is README line `first`
/// (0-based index).
fn commands(first: usize, body: &[&str]) -> Vec<ShellCommand> {
    let mut out: Vec<ShellCommand> = Vec::new();
    // Whether `#` lines now are the last command's output.
    let mut after_command = false;
    let mut i = 0;
    while i < body.len() {
        let line = body[i].trim_end();
        let trimmed = line.trim_start();
        if trimmed.is_empty() {
            after_command = false;
            i += 1;
            continue;
        }
        if let Some(comment) = trimmed.strip_prefix('#') {
            if after_command {
                let last = out.last_mut().expect("a command before its output");
                last.expected
                    .push(comment.strip_prefix(' ').unwrap_or(comment).to_owned());
            }
            i += 1;
            continue;
        }
        let mut parts = Vec::new();
        let start = i;
        while i < body.len() {
            let part = body[i].trim();
            i += 1;
            match part.strip_suffix('\\') {
                Some(head) => parts.push(head.trim()),
                None => {
                    parts.push(part);
                    break;
                }
            }
        }
        let text = parts.join(" ");
        let (command, comment) = match text.find(" #") {
            Some(at) => (text[..at].trim().to_owned(), text[at + 2..].to_owned()),
            None => (text.trim().to_owned(), String::new()),
        };
        let exit = comment
            .split("exit ")
            .nth(1)
            .and_then(|rest| {
                rest.split(|c: char| !c.is_ascii_digit())
                    .next()?
                    .parse()
                    .ok()
            })
            .unwrap_or(0);
        let (command, background) = match command.strip_suffix('&') {
            Some(head) => (head.trim().to_owned(), true),
            None => (command, false),
        };
        out.push(ShellCommand {
            line: first + start + 1,
            text: command,
            expected: Vec::new(),
            exit,
            background,
        });
        after_command = true;
    }
    out
}

/// Whether `actual` matches `expected`, where `…` stands for any text.
fn matches(expected: &str, actual: &str) -> bool {
    let parts: Vec<&str> = expected.split('…').collect();
    let mut rest = actual;
    for (n, part) in parts.iter().enumerate() {
        if n == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if n == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    rest.is_empty()
}

/// The directory the README runs in, with the stand-ins on its `PATH`.
struct Sandbox {
    dir: tempfile::TempDir,
    bin: PathBuf,
    background: Vec<Child>,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        std::os::unix::fs::symlink(repo.join("examples"), dir.path().join("examples")).unwrap();
        std::fs::create_dir(dir.path().join("tests")).unwrap();
        std::os::unix::fs::symlink(repo.join("tests/foreign"), dir.path().join("tests/foreign"))
            .unwrap();
        let bin = dir.path().join(".bin");
        std::fs::create_dir(&bin).unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_zanzi"), bin.join("zanzi")).unwrap();
        let cargo = bin.join("cargo");
        std::fs::write(
            &cargo,
            "#!/usr/bin/env bash\n\
             # The README test's stand-in for cargo (tests/readme.rs).\n\
             case \"$1\" in\n\
             run) shift; while [ \"$1\" != \"--\" ]; do shift; done; shift; exec zanzi \"$@\" ;;\n\
             build|install|test) exit 0 ;;\n\
             *) echo \"the README test does not know cargo $1\" >&2; exit 2 ;;\n\
             esac\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
        Sandbox {
            dir,
            bin,
            background: Vec::new(),
        }
    }

    fn shell(&self, text: &str) -> Command {
        let mut command = Command::new("bash");
        command
            .args(["-o", "pipefail", "-c", text])
            .current_dir(self.dir.path())
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    self.bin.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .env("HOME", self.dir.path())
            .env("NO_COLOR", "1")
            .env_remove("XDG_CONFIG_HOME");
        for (name, _) in std::env::vars() {
            if name.starts_with("ZANZI_") {
                command.env_remove(&name);
            }
        }
        command
    }

    /// Waits until the server on the default port is ready; if it is not,
    /// stops `server` and fails with what it printed.
    fn wait_ready(&self, line: usize, server: &mut Child) {
        let status = self
            .shell("zanzi status --block --timeout 60")
            .output()
            .unwrap();
        if !status.status.success() {
            stop(server);
            let mut printed = String::new();
            if let Some(stderr) = server.stderr.as_mut() {
                use std::io::Read as _;
                let _ = stderr.read_to_string(&mut printed);
            }
            panic!(
                "README line {line}: the server did not become ready: {}{}\nthe server \
                 printed:\n{printed}",
                String::from_utf8_lossy(&status.stdout),
                String::from_utf8_lossy(&status.stderr)
            );
        }
    }

    fn run(&mut self, command: &ShellCommand, postgres: &dyn Fn() -> String) {
        let text = if command.text.contains(README_POSTGRES_URL) {
            command.text.replace(README_POSTGRES_URL, &postgres())
        } else {
            command.text.clone()
        };
        let line = command.line;
        let serves = text.split_whitespace().any(|w| w == "serve");
        if command.background || serves {
            // What a server in the background prints goes to a file (a pipe
            // nobody reads would fill and stall it).
            let stderr = if command.background {
                let log = self.dir.path().join(format!(".line-{line}.log"));
                Stdio::from(std::fs::File::create(log).unwrap())
            } else {
                Stdio::piped()
            };
            let child = self
                .shell(&format!("exec {text}"))
                .stdout(Stdio::null())
                .stderr(stderr)
                .spawn()
                .unwrap();
            if command.background {
                self.background.push(child);
                return;
            }
            // A server in the foreground: up, ready, then stopped.
            let mut child = child;
            self.wait_ready(line, &mut child);
            stop(&mut child);
            let output = child.wait_with_output().unwrap();
            assert!(
                output.status.success(),
                "README line {line}: `{text}` did not stop cleanly: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            return;
        }
        let output = self.shell(&text).output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(command.exit),
            "README line {line}: `{text}` exited {:?}, the README says {}:\n{stdout}{stderr}",
            output.status.code(),
            command.exit,
        );
        if !command.expected.is_empty() {
            let actual: Vec<&str> = stdout.lines().map(str::trim_end).collect();
            let fits = actual.len() == command.expected.len()
                && command
                    .expected
                    .iter()
                    .zip(&actual)
                    .all(|(e, a)| matches(e, a));
            assert!(
                fits,
                "README line {line}: `{text}` printed\n{stdout}\nbut the README shows\n{}",
                command.expected.join("\n")
            );
        }
    }
}

/// SIGTERM, then up to 30 s for the process to end.
fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for child in &mut self.background {
            stop(child);
        }
    }
}

#[test]
fn every_readme_shell_block_runs_as_written() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let pieces = pieces(&readme);
    let commands = pieces
        .iter()
        .filter(|p| matches!(p, Piece::Command(_)))
        .count();
    assert!(
        commands >= 20,
        "only {commands} commands found: {pieces:#?}"
    );
    let mut sandbox = Sandbox::new();
    let postgres = || support::postgres::database();
    for piece in &pieces {
        match piece {
            Piece::Command(command) => sandbox.run(command, &postgres),
            Piece::File { name, text } => {
                std::fs::write(sandbox.dir.path().join(name), text).unwrap()
            }
            Piece::Validate {
                line,
                file,
                from,
                to,
                expected,
            } => {
                let text = std::fs::read_to_string(sandbox.dir.path().join(file)).unwrap();
                assert!(text.contains(from.as_str()), "README line {line}: {from}");
                let dir = tempfile::tempdir().unwrap();
                std::fs::write(dir.path().join(file), text.replacen(from, to, 1)).unwrap();
                let output = Command::new(env!("CARGO_BIN_EXE_zanzi"))
                    .args(["--color", "never", "validate", file])
                    .current_dir(dir.path())
                    .output()
                    .unwrap();
                let printed = String::from_utf8_lossy(&output.stdout).to_string()
                    + &String::from_utf8_lossy(&output.stderr);
                assert!(
                    printed.starts_with(expected.trim_end()),
                    "README line {line}: `zanzi validate {file}` printed\n{printed}\nbut the \
                     README shows\n{expected}"
                );
            }
        }
    }
}

#[test]
fn the_block_reader_knows_outputs_from_prose() {
    let block = [
        "# prose",
        "zanzi check a \\",
        "  b # denied, exit 1",
        "# denied",
        "",
        "# prose again",
        "zanzi serve &",
    ];
    let commands = commands(0, &block);
    assert_eq!(commands.len(), 2);
    assert_eq!(commands[0].text, "zanzi check a b");
    assert_eq!(commands[0].exit, 1);
    assert_eq!(commands[0].expected, ["denied"]);
    assert!(commands[1].background && commands[1].expected.is_empty());
    assert!(matches("{\"a\":\"zk1_…\"}", "{\"a\":\"zk1_xyz\"}"));
    assert!(matches("a…b…c", "aXXbYYc"));
    assert!(!matches("a…b", "aXXc"));
    assert!(!matches("403", "4031"));
}
