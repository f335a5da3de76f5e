//! `zanzi context`: named servers kept in `$ZANZI_CONFIG_DIR/contexts.yaml`,
//! and the commands that use them instead of the local database.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::path::Path;
use std::process::{Command, Stdio};

use support::serve::{Options, Server, SCHEMA};

/// The binary in `dir`, with the contexts kept in `dir/config` and none of
/// the caller's `ZANZI_` variables.
fn zanzi(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_zanzi"));
    for (name, _) in std::env::vars() {
        if name.starts_with("ZANZI_") {
            command.env_remove(name);
        }
    }
    command
        .current_dir(dir)
        .env("ZANZI_CONFIG_DIR", dir.join("config"));
    command
}

fn run(command: &mut Command) -> (Option<i32>, String, String) {
    let out = command.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(command: &mut Command) -> String {
    let (code, stdout, stderr) = run(command);
    assert_eq!(code, Some(0), "stdout: {stdout}\nstderr: {stderr}");
    stdout
}

const TOKEN: &str = "very-secret-token-1234";

#[test]
fn contexts_are_set_used_listed_shown_and_removed_and_tokens_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("ca.pem"), "not checked here").unwrap();
    ok(zanzi(d)
        .args(["context", "set", "prod", "--remote", "https://authz:4466"])
        .args([
            "--write-remote",
            "https://authz:4467",
            "--ca-cert",
            "ca.pem",
            "--token",
            TOKEN,
        ]));
    // --token-stdin: the first line of standard input.
    let mut child = zanzi(d)
        .args([
            "context",
            "set",
            "dev",
            "--remote",
            "http://dev:4466",
            "--token-stdin",
        ])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"dev-token\n").unwrap();
    assert!(child.wait().unwrap().success());

    let file = d.join("config").join("contexts.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(TOKEN) && text.contains("dev-token"), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    // The CA file is kept by its absolute path.
    assert!(
        text.contains(&d.join("ca.pem").display().to_string()),
        "{text}"
    );

    let listed = ok(zanzi(d).args(["context", "list"]));
    assert!(!listed.contains('*'), "no context is in use yet:\n{listed}");
    ok(zanzi(d).args(["context", "use", "prod"]));
    let listed = ok(zanzi(d).args(["context", "list"]));
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 3, "{listed}");
    assert!(lines[1].starts_with("   dev "), "{listed}");
    assert!(lines[2].starts_with("*  prod "), "{listed}");
    assert!(
        lines[2].contains("https://authz:4466") && lines[2].contains("<set>"),
        "{listed}"
    );

    let shown = ok(zanzi(d).args(["context", "show"]));
    assert!(
        shown.contains("name: prod\ncurrent: yes\nremote: https://authz:4466\n"),
        "{shown}"
    );
    assert!(shown.contains("token: <set>"), "{shown}");
    let json: serde_json::Value = serde_json::from_str(&ok(
        zanzi(d).args(["context", "show", "dev", "--format", "json"])
    ))
    .unwrap();
    assert_eq!(json["name"], "dev");
    assert_eq!(json["current"], false);
    assert_eq!(json["token"], "<set>");
    let json = ok(zanzi(d).args(["context", "list", "--format", "json"]));
    for printed in [&listed, &shown, &json] {
        assert!(
            !printed.contains(TOKEN) && !printed.contains("dev-token"),
            "{printed}"
        );
    }

    // An unknown name is refused with the known ones.
    let (code, _, stderr) = run(zanzi(d).args(["context", "use", "staging"]));
    assert_eq!(code, Some(2));
    assert!(stderr.contains("no context named `staging`"), "{stderr}");
    assert!(stderr.contains("dev, prod"), "{stderr}");

    // Removing the current context leaves none in use.
    ok(zanzi(d).args(["context", "remove", "prod"]));
    let listed = ok(zanzi(d).args(["context", "list"]));
    assert!(
        !listed.contains("prod") && listed.contains("dev"),
        "{listed}"
    );
    let (code, _, stderr) = run(zanzi(d).args(["context", "show"]));
    assert_eq!(code, Some(2));
    assert!(stderr.contains("no context is in use"), "{stderr}");
    ok(zanzi(d).args(["context", "use", "dev"]));
    ok(zanzi(d).args(["context", "unset"]));
    assert!(!ok(zanzi(d).args(["context", "list"])).contains('*'));
}

#[test]
fn a_malformed_contexts_file_is_an_error_naming_the_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("config")).unwrap();
    let file = d.join("config").join("contexts.yaml");
    std::fs::write(
        &file,
        "current: prod\ncontexts:\n  prod:\n    remote: http://a:4466\n    tokne: x\n",
    )
    .unwrap();
    // The context commands, and any command that would use the current context.
    for args in [
        &["context", "list"][..],
        &["check", "doc:a#view@user:alice"][..],
    ] {
        let (code, _, stderr) = run(zanzi(d).args(args));
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(&file.display().to_string()), "{stderr}");
        assert!(stderr.contains("line 5"), "{stderr}");
        assert!(stderr.contains("unknown key `tokne`"), "{stderr}");
    }
}

/// A database at `dir/NAME.db` holding `tuples`, with [`SCHEMA`].
fn database(dir: &Path, name: &str, tuples: &[&str]) -> String {
    let schema = dir.join("schema.zanzi");
    std::fs::write(&schema, SCHEMA).unwrap();
    let db = dir.join(format!("{name}.db")).display().to_string();
    ok(zanzi(dir)
        .args(["tuples", "write", "--db", &db, "--schema"])
        .arg(&schema)
        .args(tuples));
    db
}

#[test]
fn commands_use_the_current_context_unless_flags_or_context_say_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // alice may view on the server "a", not on "b".
    let a = Server::start(&Options::new(&database(
        d,
        "a",
        &["doc:x#viewer@user:alice"],
    )));
    let b = Server::start(&Options::new(&database(d, "b", &["doc:x#viewer@user:bob"])));
    ok(zanzi(d).args([
        "context",
        "set",
        "a",
        "--remote",
        &a.read,
        "--write-remote",
        &a.write,
    ]));
    ok(zanzi(d).args(["context", "set", "b", "--remote", &b.read]));
    let check = |extra: &[&str], env: Option<&str>| {
        let mut command = zanzi(d);
        command.args(["check", "doc:x#view@user:alice"]).args(extra);
        if let Some(name) = env {
            command.env("ZANZI_CONTEXT", name);
        }
        run(&mut command)
    };

    // No context in use: the local database (`zanzi.db`, which does not exist).
    let (code, _, stderr) = check(&[], None);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("zanzi.db"), "{stderr}");

    ok(zanzi(d).args(["context", "use", "a"]));
    // The current context's server answers, and nothing extra is printed.
    let (code, stdout, stderr) = check(&[], None);
    assert_eq!(
        (code, stdout.as_str(), stderr.as_str()),
        (Some(0), "allowed\n", "")
    );
    // --remote wins over the current context.
    let (code, stdout, _) = check(&["--remote", &b.read], None);
    assert_eq!((code, stdout.as_str()), (Some(1), "denied\n"));
    // So do --context and ZANZI_CONTEXT.
    let (code, stdout, _) = check(&["--context", "b"], None);
    assert_eq!((code, stdout.as_str()), (Some(1), "denied\n"));
    let (code, stdout, _) = check(&[], Some("b"));
    assert_eq!((code, stdout.as_str()), (Some(1), "denied\n"));
    let (code, _, stderr) = check(&["--context", "c"], None);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("no context named `c`"), "{stderr}");

    // Writes go to the context's write API, and `tuples watch` follows the
    // context's server.
    let before: serde_json::Value =
        serde_json::from_str(&check(&["--format", "json"], None).1).unwrap();
    let since = before["snaptoken"].as_str().unwrap().to_owned();
    ok(zanzi(d).args(["tuples", "write", "doc:y#viewer@user:carol"]));
    let watched = ok(zanzi(d).args(["tuples", "watch", "--limit", "1", "--since", &since]));
    assert!(
        watched.starts_with("+ doc:y#viewer@user:carol"),
        "{watched}"
    );
    let listed = ok(zanzi(d).args(["tuples", "list", "--namespace", "doc"]));
    assert!(listed.contains("doc:y#viewer@user:carol"), "{listed}");
    // `b` has no write API: a write through it says what is missing.
    let (code, _, stderr) = run(zanzi(d).args([
        "tuples",
        "write",
        "--context",
        "b",
        "doc:y#viewer@user:carol",
    ]));
    assert_eq!(code, Some(2));
    assert!(stderr.contains("--write-remote"), "{stderr}");

    // `zanzi status` asks the context's server too.
    let status = ok(zanzi(d).args(["status"]));
    assert_eq!(status, "ready\n");

    // Back to the local database.
    ok(zanzi(d).args(["context", "use", "--none"]));
    let (code, _, stderr) = check(&[], None);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("zanzi.db"), "{stderr}");
}
