//! Storage adapters for the domain's `Store` port: SQLite (the default, one file; rusqlite, each
//! operation one closure on a blocking thread) and PostgreSQL (for larger installs; sqlx). Both
//! implement the same behaviour — checked by one test suite — and keep their own migrations
//! (with the same version numbers) and connection setup.

use std::sync::Arc;

use salesflow_domain::Error;
use salesflow_domain::store::Store;

mod documents;
mod postgres;
mod rows;
mod sqlite;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// The default database: a SQLite file in the working directory.
pub const DEFAULT_URL: &str = "sqlite://salesflow.db";

/// Opens the store named by `url`: `postgres://…` / `postgresql://…` or `sqlite://…` (a bare
/// path is taken as a SQLite file). Does not migrate.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, Error> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::connect(url).await?))
    } else {
        Ok(Arc::new(SqliteStore::connect(url).await?))
    }
}

/// Maps sqlx (PostgreSQL) errors onto the domain's error without leaking connection details.
pub(crate) fn db_error(e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::RowNotFound => Error::not_found("row", "?"),
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            Error::Conflict(format!("already exists ({})", d.constraint().unwrap_or("unique")))
        }
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
            Error::invalid("id", "refers to a record that does not exist")
        }
        _ => {
            tracing::error!(error = %e, "database error");
            Error::Storage(match &e {
                sqlx::Error::Database(d) => d.message().to_string(),
                sqlx::Error::PoolTimedOut => "the database is busy; try again".into(),
                _ => "database error".into(),
            })
        }
    }
}

pub(crate) trait DbResult<T> {
    fn db(self) -> Result<T, Error>;
}

impl<T> DbResult<T> for Result<T, sqlx::Error> {
    fn db(self) -> Result<T, Error> {
        self.map_err(db_error)
    }
}
