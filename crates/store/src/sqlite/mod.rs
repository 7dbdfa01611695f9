//! SQLite on rusqlite: one file, WAL, foreign keys on. All writes go through a single writer
//! connection behind a mutex (SQLite has one writer anyway), so transactions never fight over
//! the write lock; reads use a small pool of reader connections, each reading a WAL snapshot.
//!
//! Every store operation is ONE closure run on a blocking thread with ONE connection checked
//! out: all its statements (prepared once per connection and cached) run there, so an
//! operation costs one thread hop, not one per statement. Writes run inside `BEGIN IMMEDIATE`;
//! reads of several statements inside one read transaction, so they see one consistent state.
//!
//! Timestamps are stored as RFC 3339 text with microseconds and `Z`
//! (`2026-11-26T20:18:44.126593Z`), which sorts like time; dates as `YYYY-MM-DD`; booleans as
//! 0/1; JSON as text.

mod audit;
mod bulk;
mod crm;
mod deals;
mod leads;
mod processes;
mod rows;
mod scope;
mod selling;
mod sessions;
mod users;

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags, Params, Row, Transaction, TransactionBehavior};
use salesflow_domain::access::Scope;
use salesflow_domain::error::{Error, Result};
use salesflow_domain::ids::*;
use salesflow_domain::migration::{MigrationRequest, MigrationSummary};
use salesflow_domain::process::ProcessDefinition;
use salesflow_domain::records::*;
use salesflow_domain::selling::catalog::{NewProduct, PriceBook, Product};
use salesflow_domain::selling::contract::Contract;
use salesflow_domain::selling::needs::{NeedsAnalysis, NeedsInput};
use salesflow_domain::selling::objection::{Objection, Playbook};
use salesflow_domain::selling::quote::{DealNote, Quote};
use salesflow_domain::store::*;
use tokio::sync::Semaphore;

use self::scope::ScopeFilter;

/// Migrations in order: (version, description, SQL). The versions are the file numbers, the
/// same as PostgreSQL's (a test compares them).
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "foundation", include_str!("../../migrations/sqlite/0001_foundation.sql")),
    (2, "teams and trust", include_str!("../../migrations/sqlite/0002_teams_and_trust.sql")),
    (3, "stage counters", include_str!("../../migrations/sqlite/0003_stage_counters.sql")),
    (4, "version retirement", include_str!("../../migrations/sqlite/0004_version_retirement.sql")),
    (5, "selling", include_str!("../../migrations/sqlite/0005_selling.sql")),
    (6, "price books", include_str!("../../migrations/sqlite/0006_price_books.sql")),
    (7, "customer groups", include_str!("../../migrations/sqlite/0007_customer_groups.sql")),
];

/// A token's `last_used_at` is written again only when it is at least this old, so that a
/// client making many requests does not make as many writes.
const TOKEN_USE_RESOLUTION: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// Reader connections (4 measured best on 2 cores: 2 leave the CPUs idle between reads, 8 cost
/// memory and contend). Each may cache up to `CACHE_KIB` of pages.
const READERS: usize = 4;
const CACHE_KIB: i64 = 16_000;
/// Prepared statements kept per connection (list filters combine into a few dozen shapes).
const STATEMENTS: usize = 256;

/// Published process versions never change, so they are kept once read.
type Cache = RwLock<HashMap<(i64, i32), Arc<ProcessVersion>>>;

pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    readers: Pool,
    /// Writers wait for it on their blocking thread: when one write ends, the next waiting one
    /// is woken directly, with no trip through the async runtime in between.
    writer: Mutex<Connection>,
    cache: Cache,
}

/// Idle reader connections and one permit per connection: a permit is taken (asynchronously)
/// before the blocking thread starts, so there is always an idle connection for its holder and
/// waiting readers hold no thread.
struct Pool {
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
}

impl Pool {
    fn new(conns: Vec<Connection>) -> Self {
        let permits = Arc::new(Semaphore::new(conns.len()));
        Pool { idle: Mutex::new(conns), permits }
    }

    fn lease(&self) -> Lease<'_> {
        let conn = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        Lease { pool: self, conn: Some(conn.expect("a permit guarantees an idle connection")) }
    }
}

/// A checked-out connection; goes back to its pool when dropped (even while unwinding).
struct Lease<'a> {
    pool: &'a Pool,
    conn: Option<Connection>,
}

impl Deref for Lease<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn.as_ref().expect("leased connection")
    }
}

impl DerefMut for Lease<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn.as_mut().expect("leased connection")
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            if !conn.is_autocommit() {
                // Only after a panic mid-transaction; `Transaction` rolls back on drop otherwise.
                let _ = conn.execute_batch("ROLLBACK");
            }
            self.pool.idle.lock().unwrap_or_else(PoisonError::into_inner).push(conn);
        }
    }
}

/// The file a `sqlite://FILE`, `sqlite:FILE` or bare-path URL names (query options ignored).
fn database_path(url: &str) -> Result<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
    let path = rest.split_once('?').map_or(rest, |(p, _)| p);
    if path.is_empty() || path == ":memory:" || path.starts_with(":memory:") {
        return Err(Error::Storage("SQLite needs a database file; in-memory databases are not supported".into()));
    }
    Ok(PathBuf::from(path))
}

/// Process-wide SQLite settings, before the first connection initialises the library.
fn configure_library() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Memory statistics take a global mutex on every allocation, which every connection's
        // thread then contends for; nothing here reads them. SQLite refuses the call (harmlessly,
        // with SQLITE_MISUSE) once it is initialised, e.g. when something else opened it first.
        // SAFETY: SQLITE_CONFIG_MEMSTATUS takes one int. `sqlite3_config` must not race another
        // thread's first use of SQLite: this runs once, on this adapter's first connect, before
        // it opens anything; the server and the CLI use SQLite only through this adapter.
        unsafe {
            rusqlite::ffi::sqlite3_config(rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS, 0 as std::ffi::c_int);
        }
    });
}

fn open(path: &PathBuf, writer: bool) -> Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    if writer {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| Error::Storage(format!("cannot open SQLite database {}: {e}", path.display())))?;
    conn.busy_timeout(Duration::from_secs(10)).db()?;
    // journal_mode answers with a row; the rest are plain settings.
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).db()?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::Storage(format!("SQLite refused WAL mode (journal mode is {mode})")));
    }
    conn.execute_batch(&format!(
        "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -{CACHE_KIB}; \
         PRAGMA temp_store = MEMORY;{}",
        if writer { "" } else { " PRAGMA query_only = ON;" }
    ))
    .db()?;
    // The bundled SQLite has STAT4: without the planner stability guarantee, a cached statement
    // whose plan looked at a bound value is compiled again every time it is rebound.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true).db()?;
    conn.set_prepared_statement_cache_capacity(STATEMENTS);
    Ok(conn)
}

impl SqliteStore {
    pub async fn connect(url: &str) -> Result<Self> {
        let path = database_path(url)?;
        configure_library();
        tokio::task::spawn_blocking(move || {
            // The writer first: it creates the file and switches it to WAL.
            let writer = open(&path, true)?;
            let readers = (0..READERS).map(|_| open(&path, false)).collect::<Result<Vec<_>>>()?;
            Ok(SqliteStore {
                inner: Arc::new(Inner {
                    readers: Pool::new(readers),
                    writer: Mutex::new(writer),
                    cache: RwLock::new(HashMap::new()),
                }),
            })
        })
        .await
        .map_err(|e| Error::Storage(format!("opening SQLite failed: {e}")))?
    }

    /// `f` on a reader connection, on a blocking thread.
    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, &Cache) -> Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        let permit = inner
            .readers
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::Storage("the database is closed".into()))?;
        joined(
            tokio::task::spawn_blocking(move || {
                let mut conn = inner.readers.lease();
                let out = f(&mut conn, &inner.cache);
                drop(conn);
                drop(permit);
                out
            })
            .await,
        )
    }

    /// `f` on the writer connection, on a blocking thread.
    async fn run_writer<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, &Cache) -> Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        joined(
            tokio::task::spawn_blocking(move || {
                let mut conn = inner.writer.lock().unwrap_or_else(PoisonError::into_inner);
                if !conn.is_autocommit() {
                    // Only after a panic mid-transaction; `Transaction` rolls back on drop otherwise.
                    let _ = conn.execute_batch("ROLLBACK");
                }
                f(&mut conn, &inner.cache)
            })
            .await,
        )
    }

    /// `f` inside a `BEGIN IMMEDIATE` transaction on the writer connection, committed when `f`
    /// succeeds and rolled back when it fails.
    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>, &Cache) -> Result<T> + Send + 'static,
    {
        self.run_writer(move |conn, cache| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).db()?;
            let out = f(&tx, cache)?;
            tx.commit().db()?;
            Ok(out)
        })
        .await
    }
}

/// The outcome of a blocking task: its result, or its panic resumed here.
fn joined<T>(r: std::result::Result<Result<T>, tokio::task::JoinError>) -> Result<T> {
    match r {
        Ok(out) => out,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(Error::Storage(format!("database task failed: {e}"))),
    }
}

/// A read transaction: several statements see one snapshot.
fn snapshot(conn: &mut Connection) -> Result<Transaction<'_>> {
    conn.transaction_with_behavior(TransactionBehavior::Deferred).db()
}

// ---------------------------------------------------------------------------------------------
// Errors, values and small query helpers shared by the area modules.

/// Maps driver errors onto the domain's error like `crate::db_error` does for sqlx.
fn db_error(e: rusqlite::Error) -> Error {
    use rusqlite::ErrorCode;
    use rusqlite::ffi;
    match &e {
        rusqlite::Error::QueryReturnedNoRows => Error::not_found("row", "?"),
        rusqlite::Error::SqliteFailure(f, msg)
            if f.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            let what = msg.as_deref().and_then(|m| m.split_once(": ")).map(|(_, cols)| cols).unwrap_or("unique");
            Error::Conflict(format!("already exists ({what})"))
        }
        rusqlite::Error::SqliteFailure(f, _) if f.extended_code == ffi::SQLITE_CONSTRAINT_FOREIGNKEY => {
            Error::invalid("id", "refers to a record that does not exist")
        }
        _ => {
            tracing::error!(error = %e, "database error");
            Error::Storage(match &e {
                rusqlite::Error::SqliteFailure(f, _)
                    if matches!(f.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) =>
                {
                    "the database is busy; try again".into()
                }
                rusqlite::Error::SqliteFailure(_, Some(msg)) => msg.clone(),
                _ => "database error".into(),
            })
        }
    }
}

trait Db<T> {
    fn db(self) -> Result<T>;
}

impl<T> Db<T> for rusqlite::Result<T> {
    fn db(self) -> Result<T> {
        self.map_err(db_error)
    }
}

/// A timestamp as stored: RFC 3339, microseconds, `Z`.
fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn opt_ts(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(ts)
}

/// The first row `sql` returns, mapped.
fn one<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    map: impl FnOnce(&Row<'_>) -> Result<T>,
) -> Result<Option<T>> {
    let mut stmt = conn.prepare_cached(sql).db()?;
    let mut rows = stmt.query(params).db()?;
    match rows.next().db()? {
        Some(row) => Ok(Some(map(row)?)),
        None => Ok(None),
    }
}

/// Every row `sql` returns, mapped.
fn all<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    mut map: impl FnMut(&Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql).db()?;
    let mut rows = stmt.query(params).db()?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().db()? {
        out.push(map(row)?);
    }
    Ok(out)
}

/// Runs a statement; the number of rows it changed.
fn exec(conn: &Connection, sql: &str, params: impl Params) -> Result<usize> {
    conn.prepare_cached(sql).db()?.execute(params).db()
}

fn conflict(entity: &str, id: i64) -> Error {
    Error::Conflict(format!("{entity} {id} was changed by someone else since you read it; reload and try again"))
}

fn check_version(entity: &str, id: i64, current: i64, given: i64) -> Result<()> {
    if current == given { Ok(()) } else { Err(conflict(entity, id)) }
}

fn like_pattern(text: &str) -> String {
    // Matched against `search_text`, which is lower-cased the same way in Rust.
    let escaped = text.trim().to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

fn user_exists(conn: &Connection, id: UserId, field: &str) -> Result<()> {
    match one(conn, "SELECT active FROM users WHERE id = ?1", [id.0], |r| rows::get::<bool>(r, 0))? {
        Some(true) => Ok(()),
        Some(false) => Err(Error::invalid(field, format!("user {id} is deactivated"))),
        None => Err(Error::invalid(field, format!("user {id} does not exist"))),
    }
}

fn row_exists(conn: &Connection, table: &str, id: i64, field: &str, entity: &str) -> Result<()> {
    let found = one(conn, &format!("SELECT id FROM {table} WHERE id = ?1"), [id], |_| Ok(()))?;
    found.ok_or_else(|| Error::invalid(field, format!("{entity} {id} does not exist")))
}

// ---------------------------------------------------------------------------------------------
// Migrations

fn migrate(conn: &mut Connection) -> Result<()> {
    let legacy: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')",
            [],
            |r| r.get(0),
        )
        .db()?;
    if legacy {
        return Err(Error::Storage(
            "migration failed: this database was created by an older salesflow build; create a new one".into(),
        ));
    }
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, \
         applied_at TEXT NOT NULL)",
    )
    .db()?;
    for (version, description, sql) in MIGRATIONS {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).db()?;
        let applied = one(&tx, "SELECT 1 FROM schema_migrations WHERE version = ?1", [version], |_| Ok(()))?.is_some();
        if !applied {
            tx.execute_batch(sql)
                .map_err(|e| Error::Storage(format!("migration {version} ({description}) failed: {e}")))?;
            exec(
                &tx,
                "INSERT INTO schema_migrations (version, description, applied_at) VALUES (?1, ?2, ?3)",
                rusqlite::params![version, description, ts(Utc::now())],
            )?;
        }
        tx.commit().db()?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The port: each method clones what it needs and runs one closure.

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> Result<()> {
        self.run_writer(|conn, _| migrate(conn)).await
    }

    async fn applied_migrations(&self) -> Result<Vec<i64>> {
        self.read(|conn, _| {
            all(conn, "SELECT version FROM schema_migrations ORDER BY version", [], |r| rows::get(r, 0))
        })
        .await
    }

    async fn create_user(&self, user: &NewUser, now: DateTime<Utc>) -> Result<User> {
        user.validate()?;
        let user = user.clone();
        self.write(move |tx, _| users::create(tx, &user, now)).await
    }

    async fn user(&self, id: UserId) -> Result<User> {
        self.read(move |conn, _| users::get(conn, id)).await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let Some(email) = salesflow_domain::normalize::email(email) else { return Ok(None) };
        self.read(move |conn, _| users::by_email(conn, &email)).await
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        self.read(|conn, _| users::list(conn)).await
    }

    async fn update_user(&self, id: UserId, patch: &UserPatch, now: DateTime<Utc>) -> Result<User> {
        patch.validate()?;
        let patch = patch.clone();
        self.write(move |tx, _| users::update(tx, id, &patch, now)).await
    }

    async fn password_hash(&self, id: UserId) -> Result<Option<String>> {
        self.read(move |conn, _| users::password_hash(conn, id)).await
    }

    async fn set_password_hash(&self, id: UserId, hash: &str, now: DateTime<Utc>) -> Result<()> {
        let hash = hash.to_string();
        self.write(move |tx, _| users::set_password_hash(tx, id, &hash, now)).await
    }

    async fn create_team(&self, team: &NewTeam, now: DateTime<Utc>) -> Result<Team> {
        team.validate()?;
        let team = team.clone();
        self.write(move |tx, _| users::create_team(tx, &team, now)).await
    }

    async fn team(&self, id: TeamId) -> Result<Team> {
        self.read(move |conn, _| users::get_team(&*snapshot(conn)?, id)).await
    }

    async fn list_teams(&self) -> Result<Vec<Team>> {
        self.read(|conn, _| users::list_teams(&*snapshot(conn)?)).await
    }

    async fn update_team(&self, id: TeamId, patch: &TeamPatch, _now: DateTime<Utc>) -> Result<Team> {
        patch.validate()?;
        let patch = patch.clone();
        self.write(move |tx, _| users::update_team(tx, id, &patch)).await
    }

    async fn delete_team(&self, id: TeamId) -> Result<()> {
        self.write(move |tx, _| users::delete_team(tx, id)).await
    }

    async fn team_reach(&self, user: UserId) -> Result<TeamReach> {
        self.read(move |conn, _| users::team_reach(&*snapshot(conn)?, user)).await
    }

    async fn share(&self, share: &Share) -> Result<()> {
        let share = share.clone();
        self.write(move |tx, _| users::share(tx, &share)).await
    }

    async fn unshare(&self, kind: RecordKind, record_id: i64, user: UserId) -> Result<bool> {
        self.write(move |tx, _| users::unshare(tx, kind, record_id, user)).await
    }

    async fn shares(&self, kind: RecordKind, record_id: i64) -> Result<Vec<Share>> {
        self.read(move |conn, _| users::shares(conn, kind, record_id)).await
    }

    async fn is_shared(&self, kind: RecordKind, record_id: i64, user: UserId) -> Result<bool> {
        self.read(move |conn, _| users::is_shared(conn, kind, record_id, user)).await
    }

    async fn create_api_token(&self, token: &NewApiToken, now: DateTime<Utc>) -> Result<ApiToken> {
        let token = token.clone();
        self.write(move |tx, _| users::create_token(tx, &token, now)).await
    }

    async fn api_token(&self, id: TokenId) -> Result<ApiToken> {
        self.read(move |conn, _| users::token(conn, id)).await
    }

    async fn list_api_tokens(&self, user: Option<UserId>) -> Result<Vec<ApiToken>> {
        self.read(move |conn, _| users::list_tokens(conn, user)).await
    }

    async fn revoke_api_token(&self, id: TokenId, now: DateTime<Utc>) -> Result<ApiToken> {
        self.write(move |tx, _| users::revoke_token(tx, id, now)).await
    }

    async fn authenticate_token(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<(ApiToken, User)>> {
        let hash = token_hash.to_string();
        let Some((mut token, user)) = self.read(move |conn, _| users::authenticate(conn, &hash, now)).await? else {
            return Ok(None);
        };
        // A reader finds the token; the writer is taken only when the recorded use is stale.
        if token.last_used_at.is_none_or(|used| now - used >= TOKEN_USE_RESOLUTION) {
            let id = token.id;
            if self.run_writer(move |conn, _| users::mark_used(conn, id, now)).await? {
                token.last_used_at = Some(now);
            }
        }
        Ok(Some((token, user)))
    }

    async fn create_session(&self, session: &WebSession) -> Result<()> {
        let session = session.clone();
        self.write(move |tx, _| sessions::create(tx, &session)).await
    }

    async fn session(&self, id_hash: &str) -> Result<Option<WebSession>> {
        let id_hash = id_hash.to_string();
        self.read(move |conn, _| sessions::get(conn, &id_hash)).await
    }

    async fn touch_session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<()> {
        let id_hash = id_hash.to_string();
        self.run_writer(move |conn, _| sessions::touch(conn, &id_hash, now)).await
    }

    async fn delete_session(&self, id_hash: &str) -> Result<()> {
        let id_hash = id_hash.to_string();
        self.run_writer(move |conn, _| sessions::delete(conn, &id_hash)).await
    }

    async fn delete_sessions_of(&self, user: UserId) -> Result<()> {
        self.run_writer(move |conn, _| sessions::delete_of(conn, user)).await
    }

    async fn delete_expired_sessions(&self, now: DateTime<Utc>, idle_since: DateTime<Utc>) -> Result<u64> {
        self.run_writer(move |conn, _| sessions::delete_expired(conn, now, idle_since)).await
    }

    async fn record_login_failure(&self, email_key: &str, address: &str, now: DateTime<Utc>) -> Result<()> {
        let (email_key, address) = (email_key.to_string(), address.to_string());
        self.run_writer(move |conn, _| sessions::record_failure(conn, &email_key, &address, now)).await
    }

    async fn login_failures(&self, email_key: &str, address: &str, since: DateTime<Utc>) -> Result<(u32, u32)> {
        let (email_key, address) = (email_key.to_string(), address.to_string());
        self.read(move |conn, _| sessions::failures(conn, &email_key, &address, since)).await
    }

    async fn clear_login_failures(&self, email_key: &str) -> Result<()> {
        let email_key = email_key.to_string();
        self.run_writer(move |conn, _| sessions::clear_failures(conn, &email_key)).await
    }

    async fn prune_login_failures(&self, before: DateTime<Utc>) -> Result<u64> {
        self.run_writer(move |conn, _| sessions::prune_failures(conn, before)).await
    }

    async fn append_audit(&self, entry: &NewAuditEntry) -> Result<()> {
        let entry = entry.clone();
        self.run_writer(move |conn, _| audit::append(conn, &entry)).await
    }

    async fn list_audit(&self, filter: &AuditFilter, page: PageRequest) -> Result<Page<AuditEntry>> {
        let filter = filter.clone();
        self.read(move |conn, _| audit::list(conn, &filter, page)).await
    }

    async fn create_process(&self, definition: &ProcessDefinition, now: DateTime<Utc>) -> Result<ProcessVersion> {
        processes::check_new(definition)?;
        let definition = definition.clone();
        self.write(move |tx, _| processes::create(tx, &definition, now)).await
    }

    async fn list_processes(&self) -> Result<Vec<ProcessSummary>> {
        self.read(|conn, _| processes::list(conn)).await
    }

    async fn process_versions(&self, id: ProcessId) -> Result<Vec<ProcessVersion>> {
        self.read(move |conn, _| processes::versions(conn, id)).await
    }

    async fn process_version(&self, id: ProcessId, version: i32) -> Result<Arc<ProcessVersion>> {
        if let Some(v) = processes::cached(&self.inner.cache, id, version) {
            return Ok(v);
        }
        self.read(move |conn, cache| processes::version(conn, cache, id, version)).await
    }

    async fn latest_published(&self, id: ProcessId) -> Result<Arc<ProcessVersion>> {
        self.read(move |conn, cache| processes::latest_published(conn, cache, id)).await
    }

    async fn save_draft(
        &self,
        id: ProcessId,
        version: i32,
        definition: &ProcessDefinition,
        now: DateTime<Utc>,
    ) -> Result<ProcessVersion> {
        let definition = definition.clone();
        self.write(move |tx, cache| processes::save_draft(tx, cache, id, version, &definition, now)).await
    }

    async fn new_draft(
        &self,
        id: ProcessId,
        definition: &ProcessDefinition,
        now: DateTime<Utc>,
    ) -> Result<ProcessVersion> {
        let definition = definition.clone();
        self.write(move |tx, _| processes::new_draft(tx, id, &definition, now)).await
    }

    async fn publish(&self, id: ProcessId, version: i32, now: DateTime<Utc>) -> Result<ProcessVersion> {
        let published = self.write(move |tx, cache| processes::publish(tx, cache, id, version, now)).await?;
        processes::published(&self.inner.cache, &published);
        Ok(published)
    }

    async fn retire(&self, id: ProcessId, version: i32, now: DateTime<Utc>) -> Result<ProcessVersion> {
        let retired = self.write(move |tx, cache| processes::retire(tx, cache, id, version, now)).await?;
        processes::published(&self.inner.cache, &retired);
        Ok(retired)
    }

    async fn open_deals_on(&self, id: ProcessId, version: i32) -> Result<Vec<Deal>> {
        self.read(move |conn, _| Ok(deals::open_on(conn, id, version)?.into_iter().map(|(d, _)| d).collect())).await
    }

    async fn migrate_deals(
        &self,
        id: ProcessId,
        req: &MigrationRequest,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<MigrationSummary> {
        let (req, actor) = (req.clone(), *actor);
        self.write(move |tx, cache| deals::migrate(tx, cache, id, &req, &actor, now)).await
    }

    async fn create_account(&self, new: &NewAccount, owner: UserId, now: DateTime<Utc>) -> Result<Account> {
        let new = new.clone();
        self.write(move |tx, _| crm::insert_account(tx, &new, owner, now)).await
    }

    async fn account(&self, id: AccountId) -> Result<Account> {
        self.read(move |conn, _| crm::load_account(conn, id)).await
    }

    async fn account_named(&self, name: &str) -> Result<Option<Account>> {
        let Some(key) = salesflow_domain::normalize::company(name) else { return Ok(None) };
        self.read(move |conn, _| crm::account_by_key(conn, &key)).await
    }

    async fn update_account(&self, id: AccountId, patch: &AccountPatch, now: DateTime<Utc>) -> Result<Account> {
        patch.validate()?;
        let patch = patch.clone();
        self.write(move |tx, _| crm::update_account(tx, id, &patch, now)).await
    }

    async fn list_accounts(&self, filter: &AccountFilter, scope: &Scope, page: PageRequest) -> Result<Page<Account>> {
        let (filter, scope) = (filter.clone(), ScopeFilter::of(scope));
        self.read(move |conn, _| crm::list_accounts(conn, &filter, &scope, page)).await
    }

    async fn create_contact(&self, new: &NewContact, owner: UserId, now: DateTime<Utc>) -> Result<Contact> {
        let new = new.clone();
        self.write(move |tx, _| crm::insert_contact(tx, &new, owner, now)).await
    }

    async fn contact(&self, id: ContactId) -> Result<Contact> {
        self.read(move |conn, _| crm::load_contact(conn, id)).await
    }

    async fn update_contact(&self, id: ContactId, patch: &ContactPatch, now: DateTime<Utc>) -> Result<Contact> {
        patch.validate()?;
        let patch = patch.clone();
        self.write(move |tx, _| crm::update_contact(tx, id, &patch, now)).await
    }

    async fn list_contacts(&self, filter: &ContactFilter, scope: &Scope, page: PageRequest) -> Result<Page<Contact>> {
        let (filter, scope) = (filter.clone(), ScopeFilter::of(scope));
        self.read(move |conn, _| crm::list_contacts(conn, &filter, &scope, page)).await
    }

    async fn create_lead(&self, new: &NewLead, owner: UserId, now: DateTime<Utc>) -> Result<Lead> {
        new.validate()?;
        let new = new.clone();
        self.write(move |tx, _| leads::create(tx, &new, owner, now)).await
    }

    async fn lead(&self, id: LeadId) -> Result<Lead> {
        self.read(move |conn, _| leads::load(conn, id)).await
    }

    async fn update_lead(&self, id: LeadId, patch: &LeadPatch, now: DateTime<Utc>) -> Result<Lead> {
        patch.validate()?;
        let patch = patch.clone();
        self.write(move |tx, _| leads::update(tx, id, &patch, now)).await
    }

    async fn set_lead_status(&self, id: LeadId, to: LeadStatus, q: &Qualification, now: DateTime<Utc>) -> Result<Lead> {
        let q = q.clone();
        self.write(move |tx, _| leads::set_status(tx, id, to, &q, now)).await
    }

    async fn list_leads(&self, filter: &LeadFilter, scope: &Scope, page: PageRequest) -> Result<Page<Lead>> {
        let (filter, scope) = (filter.clone(), ScopeFilter::of(scope));
        self.read(move |conn, _| leads::list(conn, &filter, &scope, page)).await
    }

    async fn find_duplicates(
        &self,
        keys: &DuplicateKeys,
        except_lead: Option<LeadId>,
        scope: &Scope,
    ) -> Result<Vec<Duplicate>> {
        if keys.email.is_none() && keys.phone.is_none() && keys.company.is_none() {
            return Ok(Vec::new());
        }
        let (keys, scope) = (keys.clone(), ScopeFilter::of(scope));
        self.read(move |conn, _| leads::duplicates(conn, &keys, except_lead, &scope)).await
    }

    async fn convert_lead(
        &self,
        id: LeadId,
        req: &ConvertLead,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Conversion> {
        let (req, actor) = (req.clone(), *actor);
        self.write(move |tx, cache| leads::convert(tx, cache, id, &req, &actor, now)).await
    }

    async fn create_deal(&self, new: &NewDeal, actor: &Actor, now: DateTime<Utc>) -> Result<Deal> {
        new.validate()?;
        let (new, actor) = (new.clone(), *actor);
        self.write(move |tx, cache| deals::create(tx, cache, &new, &actor, now)).await
    }

    async fn deal(&self, id: DealId) -> Result<Deal> {
        self.read(move |conn, _| Ok(deals::load(&*snapshot(conn)?, id)?.0)).await
    }

    async fn list_deals(&self, filter: &DealFilter, scope: &Scope, page: PageRequest) -> Result<Page<DealSummary>> {
        let (filter, scope) = (filter.clone(), ScopeFilter::of(scope));
        self.read(move |conn, _| deals::list(conn, &filter, &scope, page)).await
    }

    async fn deal_totals(&self, filter: &DealFilter, scope: &Scope) -> Result<DealTotals> {
        let (filter, scope) = (filter.clone(), ScopeFilter::of(scope));
        self.read(move |conn, _| deals::totals(conn, &filter, &scope)).await
    }

    async fn stage_totals(&self, filter: &DealFilter, scope: &Scope) -> Result<Vec<StageTotals>> {
        let (filter, scope) = (filter.clone(), ScopeFilter::of(scope));
        self.read(move |conn, _| deals::stage_totals(conn, &filter, &scope)).await
    }

    async fn update_deal(&self, id: DealId, patch: &DealPatch, actor: &Actor, now: DateTime<Utc>) -> Result<Deal> {
        let (patch, actor) = (patch.clone(), *actor);
        self.write(move |tx, cache| deals::update(tx, cache, id, &patch, &actor, now)).await
    }

    async fn move_deal(
        &self,
        id: DealId,
        req: &MoveRequest,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(Deal, DealEvent)> {
        let req = req.clone();
        let (deal, seq, plan) =
            self.read(move |conn, cache| deals::plan(&*snapshot(conn)?, cache, id, &req, now)).await?;
        let actor = *actor;
        self.write(move |tx, _| deals::apply_move(tx, deal, seq, &plan, &actor, now)).await
    }

    async fn toggle_step(&self, id: DealId, toggle: &StepToggle, actor: &Actor, now: DateTime<Utc>) -> Result<Deal> {
        let (toggle, actor) = (toggle.clone(), *actor);
        self.write(move |tx, cache| deals::toggle_step(tx, cache, id, &toggle, &actor, now)).await
    }

    async fn deal_events(&self, id: DealId) -> Result<Vec<DealEvent>> {
        self.read(move |conn, _| deals::events(&*snapshot(conn)?, id)).await
    }

    async fn deal_facts(
        &self,
        process: ProcessId,
        scope: &Scope,
        after: Option<DealId>,
        limit: u32,
    ) -> Result<Vec<DealFacts>> {
        let scope = ScopeFilter::of(scope);
        self.read(move |conn, _| deals::facts(&*snapshot(conn)?, process, &scope, after, limit)).await
    }

    async fn stage_entries_of(&self, process: ProcessId, deals: &[DealId]) -> Result<Vec<StageEntry>> {
        let deals = deals.to_vec();
        self.read(move |conn, _| deals::stage_entries_of(&*snapshot(conn)?, process, &deals)).await
    }

    async fn events_since(&self, after: i64, also: &[i64]) -> Result<Vec<EventMark>> {
        let also = serde_json::to_string(also).map_err(|e| Error::Storage(e.to_string()))?;
        self.read(move |conn, _| {
            // Two index lookups on the id, not one scan of the log.
            let sql = "SELECT id, deal_id, process_id FROM deal_events WHERE id > ?1 \
                       UNION ALL SELECT id, deal_id, process_id FROM deal_events \
                       WHERE id <= ?1 AND id IN (SELECT value FROM json_each(?2)) ORDER BY id";
            all(conn, sql, rusqlite::params![after, also], |r| {
                Ok(EventMark {
                    id: rows::get(r, 0)?,
                    deal: DealId(rows::get(r, 1)?),
                    process: ProcessId(rows::get(r, 2)?),
                })
            })
        })
        .await
    }

    async fn max_ids(&self) -> Result<MaxIds> {
        self.read(|conn, _| bulk::max_ids(conn)).await
    }

    async fn import_history(&self, batch: &HistoryBatch) -> Result<()> {
        let batch = batch.clone();
        self.write(move |tx, _| bulk::import(tx, &batch)).await
    }

    async fn finish_import(&self) -> Result<()> {
        self.run_writer(|conn, _| conn.execute_batch("PRAGMA optimize; ANALYZE;").db()).await
    }

    async fn needs(&self, deal: DealId) -> Result<Option<NeedsAnalysis>> {
        self.read(move |conn, _| selling::needs(conn, deal)).await
    }

    async fn save_needs(
        &self,
        deal: DealId,
        input: &NeedsInput,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<NeedsAnalysis> {
        input.validate()?;
        let (input, actor) = (input.clone(), *actor);
        self.write(move |tx, _| selling::save_needs(tx, deal, &input, &actor, now)).await
    }

    async fn create_product(&self, new: &NewProduct, now: DateTime<Utc>) -> Result<Product> {
        new.validate()?;
        let new = new.clone();
        self.write(move |tx, _| selling::create_product(tx, &new, now)).await
    }

    async fn list_products(&self) -> Result<Vec<Product>> {
        self.read(|conn, _| selling::products(conn)).await
    }

    async fn quotes(&self, deal: DealId) -> Result<Vec<Quote>> {
        self.read(move |conn, _| selling::quotes(conn, deal)).await
    }

    async fn quote_by_token(&self, token_hash: &str) -> Result<Option<Quote>> {
        let hash = token_hash.to_string();
        self.read(move |conn, _| selling::quote_by_token(conn, &hash)).await
    }

    async fn save_quotes(&self, write: &QuoteWrite, actor: &Actor, now: DateTime<Utc>) -> Result<Vec<Quote>> {
        let (write, actor) = (write.clone(), *actor);
        self.write(move |tx, cache| selling::save_quotes(tx, cache, &write, &actor, now)).await
    }

    async fn contracts(&self, deal: DealId) -> Result<Vec<Contract>> {
        self.read(move |conn, _| selling::contracts(conn, deal)).await
    }

    async fn save_contract(
        &self,
        contract: &Contract,
        read_version: Option<i64>,
        notes: &[DealNote],
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Contract> {
        let (contract, notes, actor) = (contract.clone(), notes.to_vec(), *actor);
        self.write(move |tx, _| selling::save_contract(tx, &contract, read_version, &notes, &actor, now)).await
    }

    async fn objections(&self, deal: DealId) -> Result<Vec<Objection>> {
        self.read(move |conn, _| selling::objections(conn, deal)).await
    }

    async fn save_objection(
        &self,
        objection: &Objection,
        read_version: Option<i64>,
        note: &DealNote,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Objection> {
        let (objection, note, actor) = (objection.clone(), note.clone(), *actor);
        self.write(move |tx, _| selling::save_objection(tx, &objection, read_version, &note, &actor, now)).await
    }

    async fn playbook(&self, process: ProcessId, stage: &str) -> Result<Option<Playbook>> {
        let stage = stage.to_string();
        self.read(move |conn, _| selling::playbook(conn, process, &stage)).await
    }

    async fn save_playbook(&self, playbook: &Playbook, read_version: Option<i64>) -> Result<Playbook> {
        let playbook = playbook.clone();
        self.write(move |tx, _| selling::save_playbook(tx, &playbook, read_version)).await
    }

    async fn price_books(&self) -> Result<Vec<PriceBook>> {
        self.read(|conn, _| selling::price_books(conn)).await
    }

    async fn save_price_book(&self, book: &PriceBook) -> Result<PriceBook> {
        let book = book.clone();
        self.write(move |tx, _| selling::save_price_book(tx, &book)).await
    }

    async fn note_deal(&self, deal: DealId, notes: &[DealNote], actor: &Actor, now: DateTime<Utc>) -> Result<()> {
        let (notes, actor) = (notes.to_vec(), *actor);
        self.write(move |tx, _| selling::note_deal(tx, deal, &notes, &actor, now)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_files() {
        assert_eq!(database_path("sqlite:///tmp/a.db").unwrap(), PathBuf::from("/tmp/a.db"));
        assert_eq!(database_path("sqlite://salesflow.db").unwrap(), PathBuf::from("salesflow.db"));
        assert_eq!(database_path("sqlite:x.db?mode=rwc").unwrap(), PathBuf::from("x.db"));
        assert_eq!(database_path("data/x.db").unwrap(), PathBuf::from("data/x.db"));
        assert!(database_path("sqlite::memory:").is_err());
    }

    #[test]
    fn timestamps_sort_as_text_and_round_trip() {
        let a = DateTime::parse_from_rfc3339("2026-11-26T20:18:44.126593Z").unwrap().with_timezone(&Utc);
        assert_eq!(ts(a), "2026-11-26T20:18:44.126593Z");
        let whole = DateTime::parse_from_rfc3339("2026-11-26T20:18:44Z").unwrap().with_timezone(&Utc);
        assert_eq!(ts(whole), "2026-11-26T20:18:44.000000Z");
        assert!(ts(whole) < ts(a));
    }
}
