//! SQLite: one file, WAL, foreign keys on. All writes go through a single connection (SQLite
//! has one writer anyway), so transactions never fight over the write lock; reads use a pool.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::RwLock;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Sqlite};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

pub struct SqliteStore {
    read: Pool<Sqlite>,
    write: Pool<Sqlite>,
    cache: RwLock<HashMap<(i64, i32), Arc<ProcessVersion>>>,
}

impl SqliteStore {
    pub async fn connect(url: &str) -> Result<Self> {
        let url = if url.starts_with("sqlite:") { url.to_string() } else { format!("sqlite://{url}") };
        let options = SqliteConnectOptions::from_str(&url)
            .map_err(|e| Error::Storage(format!("bad SQLite URL: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "memory");
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await
            .db()?;
        let readers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).max(2) as u32 * 2;
        let read = SqlitePoolOptions::new()
            .max_connections(readers)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.read_only(false))
            .await
            .db()?;
        Ok(Self { read, write, cache: RwLock::new(HashMap::new()) })
    }

    async fn after_bulk_write(&self) -> Result<()> {
        sqlx::query("PRAGMA optimize").execute(&self.write).await.db()?;
        sqlx::query("ANALYZE").execute(&self.write).await.db()?;
        Ok(())
    }
}

store_impl!(SqliteStore, Sqlite, sqlx::SqliteConnection, "sqlite");
