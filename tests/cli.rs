//! The `zanzi` binary: exit codes 0/1/2, every output format, and the
//! compile → load round trip.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use assert_cmd::Command;
use predicates::prelude::*;

fn zanzi() -> Command {
    let mut cmd = Command::cargo_bin("zanzi").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR");
    cmd
}

const BAD: &str = "tests/ui/e0105_unknown_name.zanzi";
const WARNING: &str = "tests/ui/w0101_duplicate_type.zanzi";

#[test]
fn validate_exit_codes() {
    zanzi()
        .args(["validate", "examples/"])
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with("ok: "));
    zanzi()
        .args(["validate", BAD])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("error[E0105]"));
    zanzi()
        .args(["validate", WARNING])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("warning[W0101]"));
    zanzi()
        .args(["validate", "--deny-warnings", WARNING])
        .assert()
        .code(1);
    zanzi()
        .args(["validate", "does/not/exist.zanzi"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot read `does/not/exist.zanzi`",
        ));
    zanzi().args(["validate"]).assert().code(2);
    zanzi()
        .args(["validate", "--format", "yaml", BAD])
        .assert()
        .code(2);
}

#[test]
fn a_directory_without_schemas_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    zanzi()
        .args(["validate", dir.path().to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no `.zanzi` schema or `.yaml` validation files found",
        ));
}

#[test]
fn invalid_utf8_is_a_diagnostic_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.zanzi");
    std::fs::write(&path, b"namespace user {}\n// caf\xe9\nnamespace doc {}\n").unwrap();
    zanzi()
        .args(["validate", "--format", "json", path.to_str().unwrap()])
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("\"code\": \"E0008\"")
                .and(predicate::str::contains("\"line\": 2")),
        );
}

#[test]
fn json_output_is_one_document() {
    let out = zanzi()
        .args(["validate", "--format", "json", BAD])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["version"], 1);
    assert_eq!(report["ok"], false);
    let d = &report["diagnostics"][0];
    assert_eq!(d["code"], "E0105");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["file"], BAD);
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(6), Some(29))
    );
    assert_eq!(d["help"], "did you mean `viewer`?");
    assert_eq!(report["summary"]["errors"], 1);
}

#[test]
fn github_output_is_workflow_commands() {
    zanzi()
        .args(["validate", "--format", "github", BAD])
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with(format!(
            "::error file={BAD},line=6,col=29,endColumn=34,title=E0105::"
        )));
    zanzi()
        .args(["validate", "--format", "github", WARNING])
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with("::warning "));
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let plain = zanzi().args(["validate", BAD]).output().unwrap();
    assert!(!String::from_utf8_lossy(&plain.stdout).contains('\u{1b}'));
    let coloured = zanzi()
        .args(["--color", "always", "validate", BAD])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&coloured.stdout).contains('\u{1b}'));
}

#[test]
fn compile_writes_ir_that_loads_back_equal() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("drive.json");
    zanzi()
        .args([
            "compile",
            "examples/drive/drive.zanzi",
            "-o",
            out.to_str().unwrap(),
        ])
        .assert()
        .code(0);
    let loaded = zanzi::ir::Schema::from_json(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let source = std::fs::read_to_string("examples/drive/drive.zanzi").unwrap();
    let (_, compiled) = zanzi::compile_source("drive.zanzi", &source);
    assert_eq!(loaded, compiled.schema.unwrap());
    // To standard output when no -o is given.
    let stdout = zanzi()
        .args(["compile", "examples/drive"])
        .output()
        .unwrap()
        .stdout;
    assert_eq!(
        zanzi::ir::Schema::from_json(&String::from_utf8(stdout).unwrap()).unwrap(),
        loaded
    );
}

#[test]
fn compile_refuses_a_schema_with_errors() {
    zanzi()
        .args(["compile", BAD])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("error[E0105]"));
}

#[test]
fn fmt_check_prints_a_diff_and_fmt_rewrites() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("messy.zanzi");
    std::fs::write(
        &path,
        "namespace user{}\nnamespace doc{relation owner:user}\n",
    )
    .unwrap();
    let p = path.to_str().unwrap();
    zanzi()
        .args(["fmt", "--check", p])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("+  relation owner: user"));
    zanzi().args(["fmt", p]).assert().code(0);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "namespace user {}\n\nnamespace doc {\n  relation owner: user\n}\n"
    );
    zanzi()
        .args(["fmt", "--check", p])
        .assert()
        .code(0)
        .stdout("");
    zanzi()
        .args(["fmt", "--check", "examples/"])
        .assert()
        .code(0);
}

#[test]
fn fmt_reads_standard_input_and_refuses_broken_files() {
    zanzi()
        .args(["fmt", "-"])
        .write_stdin("namespace  user { }")
        .assert()
        .code(0)
        .stdout("namespace user {}\n");
    zanzi()
        .args(["fmt", "-"])
        .write_stdin("namespace user {")
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("E0004"));
}

#[test]
fn explain_prints_the_explanation() {
    zanzi()
        .args(["explain", "E0105"])
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with("# E0105: ").and(predicate::str::contains("## Fixed")));
    zanzi().args(["explain", "e0302"]).assert().code(0);
    zanzi()
        .args(["explain", "E9999"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown diagnostic code"));
    zanzi()
        .args(["explain", "--list"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("W0201"));
}

#[test]
fn help_is_there_for_newcomers() {
    zanzi()
        .arg("--help")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("validate").and(predicate::str::contains("explain")));
}

#[test]
fn the_same_file_twice_is_read_once_and_order_does_not_matter() {
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users.zanzi");
    let docs = dir.path().join("docs.zanzi");
    std::fs::write(&users, "namespace user {}\n").unwrap();
    std::fs::write(&docs, "namespace doc {\n  relation owner: user\n}\n").unwrap();
    let (u, d) = (users.to_str().unwrap(), docs.to_str().unwrap());
    let dotted = format!("{}/./users.zanzi", dir.path().display());
    let one = zanzi().args(["compile", u, d, &dotted]).output().unwrap();
    assert_eq!(
        one.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&one.stderr)
    );
    let other = zanzi().args(["compile", d, u]).output().unwrap();
    assert_eq!(one.stdout, other.stdout);
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    use std::io::Read;
    use std::process::{Command as Std, Stdio};
    let mut child = Std::new(env!("CARGO_BIN_EXE_zanzi"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["explain", "--list"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// `--version` says what was built: the version, the IR format, the commit
/// and the date.
#[test]
fn version_names_the_ir_format_commit_and_date() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zanzi"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        format!("zanzi {}", env!("CARGO_PKG_VERSION")),
        "{text}"
    );
    assert_eq!(
        lines[1],
        format!("IR format version {}", zanzi::ir::FORMAT_VERSION)
    );
    assert!(
        lines[2].starts_with("commit ") && lines[2].len() > "commit ".len(),
        "{text}"
    );
    let date = lines[3].strip_prefix("built ").unwrap();
    assert!(
        date.len() == 10 && date.as_bytes()[4] == b'-' && date.as_bytes()[7] == b'-',
        "{text}"
    );
}

/// `zanzi completions SHELL` prints a script for each shell that knows the
/// commands; bash's parses.
#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_zanzi"))
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        for command in ["validate", "convert", "lookup-resources"] {
            assert!(script.contains(command), "{shell}: no `{command}`");
        }
        if shell == "bash" {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("zanzi.bash");
            std::fs::write(&path, &script).unwrap();
            let syntax = std::process::Command::new("bash")
                .arg("-n")
                .arg(&path)
                .status()
                .unwrap();
            assert!(syntax.success(), "the bash script does not parse");
        }
    }
}

/// `zanzi man` prints the main page; `--dir` writes one page per command.
#[test]
fn manual_pages() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zanzi"))
        .arg("man")
        .output()
        .unwrap();
    assert!(out.status.success());
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(
        page.contains(".TH zanzi 1") && page.contains("convert"),
        "{page}"
    );
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_zanzi"))
        .args(["man", "--dir"])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    for name in [
        "zanzi.1",
        "zanzi-validate.1",
        "zanzi-convert.1",
        "zanzi-tuples-import.1",
    ] {
        let page = std::fs::read_to_string(dir.path().join(name)).unwrap_or_default();
        assert!(page.contains(".TH"), "{name} missing or empty");
    }
}

/// `ZANZI_READ_REMOTE` (like Keto's `KETO_READ_REMOTE`) puts read commands
/// in remote mode without `--remote`.
#[test]
fn the_read_remote_comes_from_the_environment() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zanzi"))
        .env("ZANZI_READ_REMOTE", "http://127.0.0.1:1")
        .args(["check", "document:readme#view@user:alice"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("http://127.0.0.1:1"), "{stderr}");
}
