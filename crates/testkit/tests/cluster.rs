//! The throwaway cluster starts, serves, and leaves nothing behind — also when the test
//! process is killed outright.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use salesflow_testkit::{TempPostgres, find_binaries, postgres_required, shared_postgres};
use sqlx::Connection;

/// Alive and not a zombie.
fn running(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/status")) {
        Ok(status) => !status.lines().any(|l| l.starts_with("State:") && l.contains('Z')),
        Err(_) => false,
    }
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < timeout, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn available() -> bool {
    if find_binaries().is_some() {
        return true;
    }
    assert!(
        !postgres_required(),
        "PostgreSQL binaries not found; install postgresql or unset SALESFLOW_REQUIRE_POSTGRES"
    );
    eprintln!("PostgreSQL not installed: skipped");
    false
}

async fn select_one(url: &str) -> (i32, String) {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap_or_else(|e| panic!("connect {url}: {e}"));
    let row: (i32, String) = sqlx::query_as("SELECT 1, current_database()::text").fetch_one(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    row
}

#[tokio::test]
async fn a_cluster_serves_databases_and_is_gone_after_drop() {
    if !available() {
        return;
    }
    let pg = TempPostgres::start().unwrap_or_else(|e| panic!("{e}"));
    let dir: PathBuf = pg.dir().to_path_buf();
    let pid = pg.postmaster_pid().expect("postmaster.pid");
    assert!(running(pid), "postmaster {pid} runs");
    assert_eq!(select_one(&pg.url()).await, (1, "postgres".to_string()));
    let url = pg.create_database("alpha").unwrap();
    assert_eq!(select_one(&url).await, (1, "alpha".to_string()));
    let fresh = pg.fresh_database().unwrap();
    assert_ne!(fresh, url);
    assert!(pg.create_database("alpha").is_err(), "a database name is taken once");
    drop(pg);
    assert!(!dir.exists(), "{} removed", dir.display());
    wait_until("the postmaster is gone", Duration::from_secs(10), || !running(pid));
}

#[test]
fn the_shared_cluster_is_started_once() {
    if !available() {
        return;
    }
    let a = shared_postgres().expect("cluster") as *const TempPostgres;
    let b = shared_postgres().expect("cluster") as *const TempPostgres;
    assert_eq!(a, b);
    let one = salesflow_testkit::fresh_postgres_url().unwrap();
    let two = salesflow_testkit::fresh_postgres_url().unwrap();
    assert_ne!(one, two, "each call makes its own database");
}

const CHILD_ENV: &str = "SALESFLOW_TESTKIT_CHILD";

/// Run by the tests below in a child process: starts the shared cluster, reports where it
/// is, then either exits normally or waits to be killed. A no-op in an ordinary run.
#[test]
fn child_starts_the_shared_cluster() {
    let Some(mode) = std::env::var_os(CHILD_ENV) else { return };
    let pg = shared_postgres().expect("cluster");
    println!("CLUSTER {} {}", pg.postmaster_pid().expect("pid"), pg.dir().display());
    if mode == "wait" {
        std::thread::sleep(Duration::from_secs(120));
    }
}

fn spawn_child(mode: &str) -> (std::process::Child, i32, PathBuf) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["child_starts_the_shared_cluster", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, mode)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = loop {
        let l = lines.next().expect("child reports its cluster").unwrap();
        // libtest prints "test <name> ... " before the test's own output on the same line.
        if let Some(i) = l.find("CLUSTER ") {
            break l[i + "CLUSTER ".len()..].to_string();
        }
    };
    // Drain the rest so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let (pid, dir) = line.split_once(' ').unwrap();
    (child, pid.parse().unwrap(), PathBuf::from(dir))
}

fn assert_cleaned(pid: i32, dir: &Path) {
    wait_until("the child's postmaster is gone", Duration::from_secs(20), || !running(pid));
    wait_until("the child's cluster directory is gone", Duration::from_secs(20), || !dir.exists());
}

#[test]
fn a_test_process_that_exits_stops_its_shared_cluster() {
    if !available() {
        return;
    }
    let (mut child, pid, dir) = spawn_child("exit");
    assert!(child.wait().unwrap().success());
    // The atexit handler stops the cluster before the process is gone.
    assert!(!running(pid), "stopped by the time the process exited");
    assert_cleaned(pid, &dir);
}

#[test]
fn a_killed_test_process_leaves_no_cluster() {
    if !available() {
        return;
    }
    let (mut child, pid, dir) = spawn_child("wait");
    assert!(running(pid), "the child's postmaster runs");
    assert!(dir.exists());
    child.kill().unwrap(); // SIGKILL: no atexit, no destructors; the watchdog must clean up.
    child.wait().unwrap();
    assert_cleaned(pid, &dir);
}
