//! A throwaway PostgreSQL cluster started from the locally installed binaries.
//!
//! `initdb` into a fresh directory under `/tmp`, `pg_ctl start` on a free loopback port, and
//! `pg_ctl stop -m immediate` plus removal of the directory when it is dropped. PostgreSQL
//! refuses to run as root; when the tests run as root (as they do on the project's machines)
//! the directory is handed to the `postgres` system user and the server binaries run through
//! `runuser -u postgres --` (`sudo` is not installed).
//!
//! The shared cluster (`shared_postgres`) lives in a static and is never dropped, so two things
//! stop it when the test process ends: an `atexit` handler (normal exit, including libtest's
//! exit after failures) and a detached watchdog shell that waits for EOF on a pipe only this
//! process holds, i.e. for this process to be gone however it ended (even `SIGKILL`).

use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// Set to `1` to make missing PostgreSQL binaries a failure instead of a skip (CI sets it).
pub const REQUIRE_ENV: &str = "SALESFLOW_REQUIRE_POSTGRES";
/// A directory holding `initdb`, `pg_ctl`, `postgres` and `createdb`, overriding the search.
pub const BIN_ENV: &str = "PG_BIN";

const NEEDED: [&str; 4] = ["initdb", "pg_ctl", "postgres", "createdb"];

/// Whether the environment demands PostgreSQL (`SALESFLOW_REQUIRE_POSTGRES=1`).
pub fn postgres_required() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes" | "on"))
}

fn has_binaries(dir: &Path) -> bool {
    NEEDED.iter().all(|b| dir.join(b).is_file())
}

/// Orders `15`, `9.6`, `16` numerically.
fn version_key(dir_name: &str) -> Vec<u32> {
    dir_name.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

/// Where the PostgreSQL server binaries are: `$PG_BIN`, else the highest version under
/// `/usr/lib/postgresql/*/bin` (Debian's layout), else the directory `pg_ctl` on `PATH`
/// really lives in (symlinks followed, so `initdb` and `createdb` are found beside it).
pub fn find_binaries() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(BIN_ENV) {
        let dir = PathBuf::from(dir);
        if has_binaries(&dir) {
            return Some(dir);
        }
        eprintln!(
            "salesflow-testkit: {BIN_ENV}={} does not hold all of {}; searching elsewhere",
            dir.display(),
            NEEDED.join(", ")
        );
    }
    let mut versions: Vec<(Vec<u32>, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| (version_key(&e.file_name().to_string_lossy()), e.path().join("bin")))
        .filter(|(_, bin)| has_binaries(bin))
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("pg_ctl"))
        .filter(|p| p.is_file())
        .filter_map(|p| fs::canonicalize(p).ok())
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .find(|d| has_binaries(d))
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// uid and gid of the `postgres` system user.
fn postgres_user() -> Option<(u32, u32)> {
    let name = std::ffi::CString::new("postgres").expect("no NUL");
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call; getpwnam_r writes only into `pwd` and `buf`.
    let rc = unsafe { libc::getpwnam_r(name.as_ptr(), &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result) };
    (rc == 0 && !result.is_null()).then_some((pwd.pw_uid, pwd.pw_gid))
}

fn describe(what: &str, out: &Output) -> String {
    format!(
        "{what} failed ({}):\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout).trim_end(),
        String::from_utf8_lossy(&out.stderr).trim_end()
    )
}

fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free loopback port: {e}"))?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// A running PostgreSQL cluster in a temporary directory; stopped and deleted on drop.
pub struct TempPostgres {
    bin: PathBuf,
    base: PathBuf,
    data: PathBuf,
    port: u16,
    /// Server binaries run as the `postgres` user through `runuser` (we are root).
    via_runuser: bool,
    stopped: AtomicBool,
    /// Keeps the watchdog waiting; closing it (or our death) makes it clean up.
    watchdog: Mutex<Option<ChildStdin>>,
    next_db: AtomicU64,
}

impl std::fmt::Debug for TempPostgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TempPostgres")
            .field("bin", &self.bin)
            .field("base", &self.base)
            .field("port", &self.port)
            .finish()
    }
}

impl TempPostgres {
    /// Starts a cluster from the binaries `find_binaries` finds.
    pub fn start() -> Result<Self, String> {
        let bin = find_binaries().ok_or_else(|| {
            "PostgreSQL binaries not found; install postgresql or unset SALESFLOW_REQUIRE_POSTGRES".to_string()
        })?;
        Self::start_with(&bin)
    }

    /// Starts a cluster from the binaries in `bin`.
    pub fn start_with(bin: &Path) -> Result<Self, String> {
        let via_runuser = is_root();
        let owner = if via_runuser {
            Some(postgres_user().ok_or_else(|| {
                "the tests run as root, which PostgreSQL refuses, and there is no `postgres` system user to run it as \
                 (install the postgresql package, which creates it, or run the tests as a normal user)"
                    .to_string()
            })?)
        } else {
            None
        };
        // Under /tmp so that the postgres user can reach it whatever TMPDIR says.
        let parent = if Path::new("/tmp").is_dir() { PathBuf::from("/tmp") } else { std::env::temp_dir() };
        let base = tempfile::Builder::new()
            .prefix("salesflow-pg-")
            .tempdir_in(&parent)
            .map_err(|e| format!("cannot create a temporary directory in {}: {e}", parent.display()))?
            .keep();
        let pg = TempPostgres {
            bin: bin.to_path_buf(),
            data: base.join("data"),
            base,
            port: 0,
            via_runuser,
            stopped: AtomicBool::new(false),
            watchdog: Mutex::new(None),
            next_db: AtomicU64::new(1),
        };
        // From here on, dropping `pg` removes the directory (and stops a started server).
        fs::set_permissions(&pg.base, fs::Permissions::from_mode(0o700)).map_err(|e| e.to_string())?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&pg.base, Some(uid), Some(gid))
                .map_err(|e| format!("cannot hand {} to the postgres user: {e}", pg.base.display()))?;
        }
        pg.init()?;
        pg.launch()
    }

    /// A server binary from our bin dir, as the postgres user when we are root.
    fn server_command(&self, program: &str) -> Command {
        let mut cmd = if self.via_runuser {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(self.bin.join(program));
            c
        } else {
            Command::new(self.bin.join(program))
        };
        cmd.current_dir(&self.base).stdin(Stdio::null()).env("LC_ALL", "C");
        cmd
    }

    fn init(&self) -> Result<(), String> {
        let out = self
            .server_command("initdb")
            .arg("-D")
            .arg(&self.data)
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"])
            .output()
            .map_err(|e| format!("cannot run initdb (runuser: {}): {e}", self.via_runuser))?;
        if !out.status.success() {
            return Err(describe("initdb", &out));
        }
        Ok(())
    }

    fn log_path(&self) -> PathBuf {
        self.base.join("postgres.log")
    }

    /// Starts the server on a free port (retrying if another process grabs the port first)
    /// and the watchdog that stops it when this process is gone.
    fn launch(mut self) -> Result<Self, String> {
        let mut last_error = String::new();
        for _attempt in 0..5 {
            let port = free_port()?;
            // Set before starting, so that dropping `self` after a half-failed start stops it.
            self.port = port;
            let options = format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
                 -c full_page_writes=off -c max_connections=300",
                self.base.display()
            );
            let out = self
                .server_command("pg_ctl")
                .arg("-D")
                .arg(&self.data)
                .arg("-l")
                .arg(self.log_path())
                .arg("-o")
                .arg(&options)
                .args(["-w", "-t", "60", "start"])
                .output()
                .map_err(|e| format!("cannot run pg_ctl: {e}"))?;
            if out.status.success() {
                self.spawn_watchdog()?;
                return Ok(self);
            }
            let log = fs::read_to_string(self.log_path()).unwrap_or_default();
            last_error = format!("{}\n--- server log ---\n{}", describe("pg_ctl start", &out), log.trim_end());
            if !log.contains("Address already in use") && !log.contains("could not create any TCP/IP sockets") {
                break;
            }
            let _ = fs::write(self.log_path(), "");
        }
        Err(last_error)
    }

    fn spawn_watchdog(&self) -> Result<(), String> {
        // $1 pg_ctl, $2 data dir, $3 base dir, $4 "1" when runuser is needed.
        const SCRIPT: &str = r#"
            read _ignored
            if [ -d "$2" ]; then
                if [ "$4" = 1 ]; then runuser -u postgres -- "$1" -D "$2" stop -m immediate -w
                else "$1" -D "$2" stop -m immediate -w; fi
            fi
            rm -rf "$3"
        "#;
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(SCRIPT)
            .arg("salesflow-pg-watchdog")
            .arg(self.bin.join("pg_ctl"))
            .arg(&self.data)
            .arg(&self.base)
            .arg(if self.via_runuser { "1" } else { "0" })
            .current_dir("/")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group: a Ctrl-C to the test run must not kill the cleaner.
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot start the cleanup watchdog: {e}"))?;
        *self.watchdog.lock().expect("watchdog lock") = child.stdin.take();
        Ok(())
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The cluster's data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// The temporary directory holding the data directory, socket and log; removed on stop.
    pub fn dir(&self) -> &Path {
        &self.base
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The postmaster's process id while it runs (from `postmaster.pid`).
    pub fn postmaster_pid(&self) -> Option<i32> {
        let pid_file = fs::read_to_string(self.data.join("postmaster.pid")).ok()?;
        pid_file.lines().next()?.trim().parse().ok()
    }

    /// The `postgres` maintenance database.
    pub fn url(&self) -> String {
        self.database_url("postgres")
    }

    pub fn database_url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Creates an empty database and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String, String> {
        let out = Command::new(self.bin.join("createdb"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres", "-w"])
            .arg(name)
            .env("PGCONNECT_TIMEOUT", "10")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run createdb: {e}"))?;
        if !out.status.success() {
            return Err(describe(&format!("createdb {name}"), &out));
        }
        Ok(self.database_url(name))
    }

    /// Creates a database with a name no other call in this process uses.
    pub fn fresh_database(&self) -> Result<String, String> {
        let n = self.next_db.fetch_add(1, Ordering::Relaxed);
        self.create_database(&format!("test_{}_{n}", std::process::id()))
    }

    /// Stops the server and deletes its directory. Idempotent.
    pub fn stop(&self) {
        if self.stopped.swap(true, Ordering::SeqCst) {
            return;
        }
        if self.port != 0 {
            let _ = self
                .server_command("pg_ctl")
                .arg("-D")
                .arg(&self.data)
                .args(["stop", "-m", "immediate", "-w"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = fs::remove_dir_all(&self.base);
        // Nothing left for the watchdog; closing its pipe lets it exit.
        if let Ok(mut w) = self.watchdog.lock() {
            drop(w.take());
        }
    }
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        self.stop();
    }
}

static SHARED: OnceLock<Result<Option<TempPostgres>, String>> = OnceLock::new();

extern "C" fn stop_shared_at_exit() {
    let _ = std::panic::catch_unwind(|| {
        if let Some(Ok(Some(pg))) = SHARED.get() {
            pg.stop();
        }
    });
}

/// The one cluster of this test process, started on first use. `None` when the binaries are
/// not installed, unless `SALESFLOW_REQUIRE_POSTGRES=1`, which turns that into a panic; a cluster
/// that was found but failed to start always panics, with initdb's or the server's log.
pub fn shared_postgres() -> Option<&'static TempPostgres> {
    let shared = SHARED.get_or_init(|| {
        let Some(bin) = find_binaries() else {
            return Ok(None);
        };
        let pg = TempPostgres::start_with(&bin)?;
        // SAFETY: registers a plain extern "C" function with no captured state.
        unsafe { libc::atexit(stop_shared_at_exit) };
        Ok(Some(pg))
    });
    match shared {
        Ok(Some(pg)) => Some(pg),
        Ok(None) if postgres_required() => {
            panic!("PostgreSQL binaries not found; install postgresql or unset {REQUIRE_ENV}")
        }
        Ok(None) => None,
        Err(e) => panic!("the throwaway PostgreSQL cluster did not start:\n{e}"),
    }
}

/// A fresh, empty database on the shared cluster (see `shared_postgres` for when it is `None`).
pub fn fresh_postgres_url() -> Option<String> {
    let pg = shared_postgres()?;
    Some(pg.fresh_database().unwrap_or_else(|e| panic!("cannot create a test database:\n{e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_numerically() {
        let mut v = vec![version_key("9.6"), version_key("15"), version_key("16"), version_key("10")];
        v.sort();
        assert_eq!(v, vec![vec![9, 6], vec![10], vec![15], vec![16]]);
    }
}
