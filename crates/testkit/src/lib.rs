//! Test support for salesflow's suites (a dev-dependency only):
//!
//! - [`TempPostgres`] / [`shared_postgres`] / [`fresh_postgres_url`]: a throwaway PostgreSQL
//!   cluster from the locally installed binaries, one per test process, one database per test.
//! - [`stores`]: a fresh, migrated store on every backend available — SQLite always,
//!   PostgreSQL when its binaries are installed (or required by `SALESFLOW_REQUIRE_POSTGRES=1`).
//! - [`seed_user`], [`seed_process`], [`at`], [`TestClock`]: small seeding and time helpers.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Duration, TimeZone, Utc};
use salesflow_domain::clock::Clock;
use salesflow_domain::ids::ProcessId;
use salesflow_domain::records::{Actor, NewUser, Role};
use salesflow_domain::store::{ProcessVersion, Store};

mod postgres;

pub use postgres::{
    BIN_ENV, REQUIRE_ENV, TempPostgres, find_binaries, fresh_postgres_url, postgres_required, shared_postgres,
};

/// A fresh, migrated store and what a test needs to reach its database directly.
pub struct TestStore {
    /// `sqlite` or `postgres`; use it to label assertions.
    pub name: String,
    pub store: Arc<dyn Store>,
    /// The database URL, for a raw connection that checks what the port cannot show.
    pub url: String,
    /// Keeps a SQLite file's directory alive as long as the store.
    _guard: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for TestStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestStore").field("name", &self.name).field("url", &self.url).finish()
    }
}

async fn open(name: &str, url: String, guard: Option<tempfile::TempDir>) -> TestStore {
    let store = salesflow_store::connect(&url).await.unwrap_or_else(|e| panic!("[{name}] connect to {url}: {e}"));
    store.migrate().await.unwrap_or_else(|e| panic!("[{name}] migrate {url}: {e}"));
    TestStore { name: name.to_string(), store, url, _guard: guard }
}

/// A migrated SQLite store in a file of its own temporary directory.
pub async fn sqlite_store() -> TestStore {
    let dir = tempfile::Builder::new().prefix("salesflow-sqlite-").tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("salesflow.db").display());
    open("sqlite", url, Some(dir)).await
}

/// A migrated PostgreSQL store in a database of its own on the shared cluster; `None` when
/// PostgreSQL is not installed and not required.
pub async fn postgres_store() -> Option<TestStore> {
    let url = fresh_postgres_url()?;
    Some(open("postgres", url, None).await)
}

/// One fresh, migrated store per available backend: SQLite, then PostgreSQL when available.
pub async fn stores() -> Vec<TestStore> {
    let mut all = vec![sqlite_store().await];
    all.extend(postgres_store().await);
    all
}

static NEXT_USER: AtomicU64 = AtomicU64::new(1);

/// The instant test data is anchored at: 2025-03-03T09:00:00Z (a Monday), plus `secs` seconds.
/// Whole seconds survive both backends' timestamp precision unchanged.
pub fn at(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 3, 9, 0, 0).single().expect("valid instant") + Duration::seconds(secs)
}

/// Creates an active user with `role` and a unique email, and returns it as an actor.
pub async fn seed_user<S: Store + ?Sized>(store: &S, role: Role) -> Actor {
    let n = NEXT_USER.fetch_add(1, Ordering::Relaxed);
    let user = NewUser {
        name: format!("测试用户 {n}"),
        email: format!("user{n}.{}@example.com", role.as_str()),
        locale: "zh-CN".into(),
        time_zone: "Asia/Shanghai".into(),
        role,
        password_hash: None,
    };
    let user = store.create_user(&user, at(0)).await.unwrap_or_else(|e| panic!("[{}] seed user: {e}", store.backend()));
    Actor { user: user.id, role: user.role }
}

/// Creates the shipped template `key` (e.g. `seed-five-stage.zh-CN`) as a process and publishes
/// its version 1.
pub async fn seed_process<S: Store + ?Sized>(store: &S, key: &str) -> ProcessVersion {
    let def = salesflow_domain::templates::get(key).unwrap_or_else(|| panic!("no shipped template `{key}`"));
    let draft =
        store.create_process(&def, at(0)).await.unwrap_or_else(|e| panic!("[{}] create process: {e}", store.backend()));
    store
        .publish(draft.process_id, draft.version, at(0))
        .await
        .unwrap_or_else(|e| panic!("[{}] publish process: {e}", store.backend()))
}

/// The seed five-stage process (zh-CN), published; returns its id.
pub async fn seed_five_stage<S: Store + ?Sized>(store: &S) -> ProcessId {
    seed_process(store, "seed-five-stage.zh-CN").await.process_id
}

/// A clock tests move by hand.
#[derive(Debug)]
pub struct TestClock(Mutex<DateTime<Utc>>);

impl TestClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self(Mutex::new(start))
    }

    pub fn advance(&self, by: Duration) {
        *self.0.lock().expect("clock lock") += by;
    }

    pub fn set(&self, to: DateTime<Utc>) {
        *self.0.lock().expect("clock lock") = to;
    }
}

impl Default for TestClock {
    fn default() -> Self {
        Self::new(at(0))
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock lock")
    }
}
