//! A PostgreSQL primary and a streaming replica of it, made for one test.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A primary and its streaming replica, made by `initdb` and `pg_basebackup -R` in a
/// temporary directory and run as the `postgres` user on free ports of 127.0.0.1; both are
/// stopped and their directory removed when this is dropped.
pub struct PgReplication {
    /// The primary's `postgres` database.
    pub primary_url: String,
    /// The replica's `postgres` database.
    pub replica_url: String,
    dir: PathBuf,
    bin: PathBuf,
}

impl PgReplication {
    /// Makes and starts both servers, or `None` (after saying why) when PostgreSQL's server
    /// programs cannot be run here and `FOLIO_REQUIRE_POSTGRES=1` is not set, which makes that a
    /// failure.
    pub fn start() -> Option<PgReplication> {
        match PgReplication::try_start() {
            Ok(made) => Some(made),
            Err(e) if std::env::var("FOLIO_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") => {
                panic!("PostgreSQL replication is required (FOLIO_REQUIRE_POSTGRES=1) but cannot be set up: {e}")
            }
            Err(e) => {
                let _ = writeln!(std::io::stderr(), "\nPostgreSQL replication tests SKIPPED: {e}\n");
                None
            }
        }
    }

    fn try_start() -> Result<PgReplication, String> {
        let bin = server_bin()?;
        let dir = as_postgres(&bin, "mktemp", &["-d", "/tmp/folio-replication-XXXXXX"])
            .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))?;
        let made = PgReplication {
            primary_url: String::new(),
            replica_url: String::new(),
            dir,
            bin,
        };
        made.finish_start()
    }

    fn finish_start(mut self) -> Result<PgReplication, String> {
        let (primary, replica) = (self.dir.join("primary"), self.dir.join("replica"));
        let (primary_port, replica_port) = (free_port()?, free_port()?);
        self.run(
            "initdb",
            &[
                "-D",
                path(&primary),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )?;
        let settings = format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {primary_port}\nunix_socket_directories = '{}'\n\
             fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_wal_senders = 4\n\
             wal_level = replica\nhot_standby = on\nshared_buffers = 32MB\n",
            self.dir.display()
        );
        self.append(&primary.join("postgresql.conf"), &settings)?;
        self.run(
            "pg_ctl",
            &[
                "-D",
                path(&primary),
                "-l",
                path(&self.dir.join("primary.log")),
                "-w",
                "start",
            ],
        )?;
        self.primary_url = format!("postgres://postgres@127.0.0.1:{primary_port}/postgres");
        self.run(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &primary_port.to_string(),
                "-U",
                "postgres",
                "-D",
                path(&replica),
                "-R",
                "-X",
                "stream",
                "--no-sync",
            ],
        )?;
        self.append(&replica.join("postgresql.conf"), &format!("\nport = {replica_port}\n"))?;
        self.start_replica()?;
        self.replica_url = format!("postgres://postgres@127.0.0.1:{replica_port}/postgres");
        Ok(self)
    }

    /// Starts the replica (again).
    pub fn start_replica(&self) -> Result<(), String> {
        self.run(
            "pg_ctl",
            &[
                "-D",
                path(&self.dir.join("replica")),
                "-l",
                path(&self.dir.join("replica.log")),
                "-w",
                "start",
            ],
        )
        .map(|_| ())
    }

    /// Stops the replica at once (`pg_ctl stop -m immediate`), as a crash would.
    pub fn stop_replica(&self) -> Result<(), String> {
        self.run(
            "pg_ctl",
            &["-D", path(&self.dir.join("replica")), "-m", "immediate", "-w", "stop"],
        )
        .map(|_| ())
    }

    /// The first column of the first row that `sql` gives on the server at `url` (one of
    /// the two), as `psql` prints it; panics when it fails.
    pub fn sql(&self, url: &str, sql: &str) -> String {
        let out = self
            .run("psql", &[url, "-X", "-tA", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or("")
            .to_owned()
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<Output, String> {
        as_postgres(&self.bin, program, args)
    }

    fn append(&self, file: &Path, text: &str) -> Result<(), String> {
        let script = format!("cat >> '{}'", file.display());
        as_postgres_stdin(&script, text)
    }
}

impl Drop for PgReplication {
    fn drop(&mut self) {
        for server in ["replica", "primary"] {
            let _ = self.run(
                "pg_ctl",
                &["-D", path(&self.dir.join(server)), "-m", "immediate", "-w", "stop"],
            );
        }
        let _ = as_postgres(&self.bin, "rm", &["-rf", path(&self.dir)]);
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}

/// The directory of PostgreSQL's server programs: `FOLIO_PG_BIN`, else the newest under
/// `/usr/lib/postgresql` (where Debian puts them), else the `PATH`'s.
fn server_bin() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("FOLIO_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let newest = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse::<u32>().ok()?, e.path())))
        .max_by_key(|(version, _)| *version)
        .map(|(_, dir)| dir.join("bin"));
    match newest {
        Some(dir) if dir.join("initdb").exists() => Ok(dir),
        _ => Ok(PathBuf::new()),
    }
}

/// Runs `program` (from `bin` when it is there) as the `postgres` user: through `runuser` when
/// this process is root (PostgreSQL's programs refuse to run as root), else as this user.
fn as_postgres(bin: &Path, program: &str, args: &[&str]) -> Result<Output, String> {
    let full = bin.join(program);
    let program = if full.exists() {
        path(&full).to_owned()
    } else {
        program.to_owned()
    };
    let mut command = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", &program]);
        c
    } else {
        Command::new(&program)
    };
    let out = command
        .args(args)
        .current_dir("/tmp")
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(format!(
            "{program} {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Runs the shell `script` as the `postgres` user with `input` on its standard input.
fn as_postgres_stdin(script: &str, input: &str) -> Result<(), String> {
    let mut command = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", "sh", "-c", script]);
        c
    } else {
        let mut c = Command::new("sh");
        c.args(["-c", script]);
        c
    };
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run sh: {e}"))?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(input.as_bytes())
        .map_err(|e| e.to_string())?;
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{script}` failed ({status})"))
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// A port of 127.0.0.1 that was free a moment ago.
fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}
