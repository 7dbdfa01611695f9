//! PostgreSQL: a connection pool; row-level locking comes from the version-checked UPDATEs.
//! The SQL is in `store.rs`; that of teams and trust (users' passwords, teams, shares, tokens,
//! sessions, sign-in throttling, the audit log, the scope filter of lists) in `trust.rs`.

mod selling;
mod store;
mod trust;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use salesflow_domain::error::Result;
use salesflow_domain::store::ProcessVersion;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Pool, Postgres};

use crate::DbResult;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

pub struct PgStore {
    read: Pool<Postgres>,
    write: Pool<Postgres>,
    cache: RwLock<HashMap<(i64, i32), Arc<ProcessVersion>>>,
}

impl PgStore {
    pub async fn connect(url: &str) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await
            .db()?;
        Ok(Self { read: pool.clone(), write: pool, cache: RwLock::new(HashMap::new()) })
    }

    async fn after_bulk_write(&self) -> Result<()> {
        for table in ["accounts", "contacts", "leads", "deals", "deal_events", "users", "processes", "api_tokens"] {
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            ))
            .execute(&self.write)
            .await
            .db()?;
        }
        sqlx::query("ANALYZE").execute(&self.write).await.db()?;
        Ok(())
    }
}
