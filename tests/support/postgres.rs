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
use std::time::{Duration, Instant};

/// A running cluster; dropping it stops it and deletes its directory.
pub struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
    /// More `-c name=value` server settings (TLS, replication).
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
        // Where `initdb` really is (a symlink on PATH into the
        // installation), so that the installation's other programs
        // (`pg_basebackup`) are found beside it.
        .map(|dir| {
            dir.join("initdb")
                .canonicalize()
                .ok()
                .and_then(|path| path.parent().map(Path::to_path_buf))
                .unwrap_or(dir)
        })
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

    /// A new, empty cluster directory (nothing initialised yet), whose
    /// server will run with `settings` as given from the directory (which
    /// `settings` may write files into: they are given to the `postgres`
    /// user).
    fn new_dir(settings: impl FnOnce(&Path) -> Vec<String>) -> Cluster {
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
        Cluster {
            bin,
            dir,
            port: free_port(),
            as_postgres,
            extra,
        }
    }

    /// Creates and starts a new cluster with more server settings, given by
    /// `settings` from the cluster's directory (see [`Cluster::new_dir`]).
    pub fn start_with(settings: impl FnOnce(&Path) -> Vec<String>) -> Cluster {
        let cluster = Cluster::new_dir(settings);
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
            self.dir.path().display(),
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

/// The server settings of a primary that standbys stream from, and of the
/// standbys (which must have as many worker slots as their primary).
fn replication(_: &Path) -> Vec<String> {
    [
        "wal_level=replica",
        "max_wal_senders=10",
        "hot_standby=on",
        "wal_writer_delay=10ms",
    ]
    .map(String::from)
    .to_vec()
}

impl Cluster {
    /// A new cluster configured as a streaming-replication primary: WAL
    /// for replicas, WAL senders, and `replication` connections over local
    /// TCP trusted.
    pub fn start_primary() -> Cluster {
        let cluster = Cluster::start_with(replication);
        let hba = cluster.data().join("pg_hba.conf");
        let mut text = std::fs::read_to_string(&hba).expect("read pg_hba.conf");
        text.push_str("\nhost replication all 127.0.0.1/32 trust\n");
        std::fs::write(&hba, text).expect("write pg_hba.conf");
        cluster.run(
            "pg_ctl",
            &["-D", cluster.data().to_str().expect("UTF-8"), "reload"],
        );
        cluster
    }

    /// A hot standby of `primary`: a base backup taken with
    /// `pg_basebackup -R` (which writes `standby.signal` and the
    /// connection to the primary), started on a free port. Dropping it
    /// stops it and deletes it, as any cluster.
    pub fn standby_of(primary: &Cluster) -> Cluster {
        let standby = Cluster::new_dir(replication);
        let data = standby.data();
        let port = primary.port.to_string();
        standby.run(
            "pg_basebackup",
            &[
                "-R",
                "-D",
                data.to_str().expect("UTF-8"),
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-X",
                "stream",
                "--no-sync",
                // At once, not after a spread checkpoint of the primary.
                "--checkpoint=fast",
            ],
        );
        standby.watch();
        standby.start_server();
        standby
    }

    fn admin(&self) -> postgres::Client {
        postgres::Client::connect(&self.url("postgres"), postgres::NoTls)
            .expect("connect to a test cluster")
    }

    /// Pauses WAL replay on this standby and waits until it has paused:
    /// from now on it lags.
    pub fn pause_replay(&self) {
        let mut admin = self.admin();
        admin
            .batch_execute("SELECT pg_wal_replay_pause()")
            .expect("pause replay");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let state: String = admin
                .query_one("SELECT pg_get_wal_replay_pause_state()", &[])
                .expect("the replay pause state")
                .get(0);
            if state == "paused" {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "replay did not pause within 30 s"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Resumes WAL replay on this standby.
    pub fn resume_replay(&self) {
        self.admin()
            .batch_execute("SELECT pg_wal_replay_resume()")
            .expect("resume replay");
    }

    /// Waits (up to 30 s) until this standby has replayed everything
    /// `primary` had written when called.
    pub fn wait_replayed(&self, primary: &Cluster) {
        let target: String = primary
            .admin()
            .query_one("SELECT pg_current_wal_lsn()::text", &[])
            .expect("the primary's WAL position")
            .get(0);
        let mut standby = self.admin();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let caught_up: bool = standby
                .query_one(
                    "SELECT coalesce(pg_last_wal_replay_lsn() >= $1::text::pg_lsn, false)",
                    &[&target],
                )
                .expect("the standby's replay position")
                .get(0);
            if caught_up {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the standby did not replay up to {target} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
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

impl Cluster {
    /// The URL, on this cluster, of the database that `url` names on
    /// another (a standby's copy of a primary's database).
    pub fn same_database(&self, url: &str) -> String {
        self.url(url.rsplit('/').next().expect("a database name"))
    }
}

/// This binary's replication pair, started on first use: a primary and a
/// hot standby streaming from it. Tests that pause replay start their own.
pub fn replicated() -> &'static (Cluster, Cluster) {
    static PAIR: OnceLock<(Cluster, Cluster)> = OnceLock::new();
    PAIR.get_or_init(|| {
        let primary = Cluster::start_primary();
        let standby = Cluster::standby_of(&primary);
        (primary, standby)
    })
}

/// A [`zanzi::store::postgres::ReplicatedStore`] on a fresh database of
/// [`replicated`]'s primary, read through its standby.
pub fn replicated_store() -> zanzi::store::postgres::ReplicatedStore {
    let (primary, standby) = replicated();
    let url = primary.database();
    zanzi::store::postgres::migrate_up(&url).expect("migrate a fresh test database");
    standby.wait_replayed(primary);
    zanzi::store::postgres::ReplicatedStore::connect(&url, &[standby.same_database(&url)])
        .expect("connect to a fresh replicated test database")
}

/// Waits until [`replicated`]'s standby has replayed every write so far,
/// and tells `store`, so that its reads go to the standby.
pub fn catch_up(store: &zanzi::store::postgres::ReplicatedStore) {
    use zanzi::store::TupleStore;
    let (primary, standby) = replicated();
    standby.wait_replayed(primary);
    // On a loaded machine a probe may time out, and the replica is then
    // skipped for a while: wait until it is known to have the head again.
    let head = store.primary().head_revision().expect("the primary's head");
    let started = std::time::Instant::now();
    while !store.has_replayed(head) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "the standby is not usable at revision {head} after 20 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
