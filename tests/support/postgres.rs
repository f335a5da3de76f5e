//! A throwaway PostgreSQL cluster for tests: `initdb` into a temporary
//! directory, started on a free port of 127.0.0.1 (its Unix socket in the
//! same directory), one cluster per test binary and a fresh database per
//! test ([`database`]). Tests run against a real server, never a mock.
//!
//! As root (CI), PostgreSQL refuses to run; the commands then run as the
//! `postgres` user, which owns the directory. The cluster is stopped and
//! deleted when the last holder drops it, and, because a `static` is never
//! dropped, by a watcher process once the test binary has exited.
//!
//! Without `initdb`/`pg_ctl` (on `PATH` or under
//! `/usr/lib/postgresql/*/bin`) the tests fail, saying what to install:
//! they are never skipped silently.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// A running cluster; dropping it stops it and deletes its directory.
pub struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
    /// More `-c name=value` server settings (TLS).
    extra: Vec<String>,
}

/// The directory holding both `initdb` and `pg_ctl`.
fn find_bin() -> PathBuf {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    let mut installed: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dirs| dirs.flatten().map(|d| d.path().join("bin")).collect())
        .unwrap_or_default();
    // The newest version first.
    installed.sort_by_key(|dir| {
        std::cmp::Reverse(
            dir.parent()
                .and_then(|v| v.file_name())
                .and_then(|v| v.to_str())
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(0),
        )
    });
    on_path
        .into_iter()
        .chain(installed)
        .find(|dir| has_both(dir))
        .unwrap_or_else(|| {
            panic!(
                "PostgreSQL's initdb and pg_ctl were not found on PATH or under \
                 /usr/lib/postgresql/*/bin; these tests need a real server: install \
                 PostgreSQL (`apt-get install -y postgresql`)"
            )
        })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Cluster {
    /// `program` of the cluster's PostgreSQL, run as `postgres` under root.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let out = self
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
        if !out.status.success() {
            let log = std::fs::read_to_string(self.log()).unwrap_or_default();
            panic!(
                "{program} failed: {}\n{}\n{log}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("log")
    }

    /// Creates and starts a new cluster.
    pub fn start() -> Cluster {
        Cluster::start_with(|_| Vec::new())
    }

    /// Creates and starts a new cluster with more server settings, given by
    /// `settings` from the cluster's directory (which it may write files
    /// into: they are given to the `postgres` user).
    pub fn start_with(settings: impl FnOnce(&Path) -> Vec<String>) -> Cluster {
        let bin = find_bin();
        let dir = tempfile::Builder::new()
            .prefix("zanzi-pg")
            .tempdir()
            .expect("a temporary directory");
        let as_postgres = is_root();
        if as_postgres {
            let status = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(
                status.success(),
                "cannot give the cluster directory to the postgres user"
            );
        }
        let extra = settings(dir.path());
        if as_postgres {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(
                status.success(),
                "cannot give the cluster files to postgres"
            );
        }
        let cluster = Cluster {
            bin,
            dir,
            port: free_port(),
            as_postgres,
            extra,
        };
        let data = cluster.data();
        let data = data.to_str().expect("a UTF-8 path");
        cluster.run(
            "initdb",
            &[
                "-D",
                data,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        // Passwords are checked over TCP (a test of wrong credentials needs
        // it), except for the superuser the tests connect as.
        std::fs::write(
            cluster.data().join("pg_hba.conf"),
            "local all all trust\n\
             host all postgres 127.0.0.1/32 trust\n\
             host all all 127.0.0.1/32 scram-sha-256\n",
        )
        .expect("write pg_hba.conf");
        cluster.start_server();
        cluster.watch();
        cluster
    }

    /// Starts the server of an initialised cluster (again, after [`Cluster::stop`]).
    pub fn start_server(&self) {
        let data = self.data();
        let data = data.to_str().expect("a UTF-8 path");
        let mut options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
            self.port,
            self.dir.path().display()
        );
        for setting in &self.extra {
            options.push_str(" -c ");
            options.push_str(setting);
        }
        let log = self.log();
        self.run(
            "pg_ctl",
            &[
                "-D",
                data,
                "-o",
                &options,
                "-l",
                log.to_str().expect("UTF-8"),
                "-w",
                "start",
            ],
        );
    }

    /// Stops the server (fast shutdown: connections are cut), keeping its
    /// data: what a database restart looks like to its clients.
    pub fn stop(&self) {
        let data = self.data();
        self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().expect("a UTF-8 path"),
                "-m",
                "fast",
                "-w",
                "stop",
            ],
        );
    }

    /// Stops and deletes the cluster after this process exits, whatever
    /// way it exits.
    fn watch(&self) {
        let stop = format!(
            "{} {} -D {} stop -m immediate",
            if self.as_postgres {
                "runuser -u postgres --"
            } else {
                ""
            },
            self.bin.join("pg_ctl").display(),
            self.data().display()
        );
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {stop} >/dev/null 2>&1; rm -rf {dir}",
            pid = std::process::id(),
            dir = self.dir.path().display()
        );
        let _ = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
    }

    /// The URL of `database` as the superuser.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// The port the server listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs `sql` as the superuser in `database`.
    pub fn execute(&self, database: &str, sql: &str) {
        let mut admin = postgres::Client::connect(&self.url(database), postgres::NoTls)
            .expect("connect to the test cluster");
        admin.batch_execute(sql).expect("run SQL as the superuser");
    }

    /// A new, empty database; its URL.
    pub fn database(&self) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!("zanzi_test_{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let mut admin = postgres::Client::connect(&self.url("postgres"), postgres::NoTls)
            .expect("connect to the test cluster");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create a test database");
        self.url(&name)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&data)
            .args(["stop", "-m", "immediate"])
            .stdin(Stdio::null())
            .output();
    }
}

/// The cluster of this test binary, started on first use.
pub fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(Cluster::start)
}

/// A fresh database in this binary's cluster: its URL.
pub fn database() -> String {
    cluster().database()
}

/// A [`zanzi::store::PostgresStore`] on a fresh database.
pub fn store() -> zanzi::store::PostgresStore {
    zanzi::store::PostgresStore::connect(&database()).expect("connect to a fresh test database")
}
