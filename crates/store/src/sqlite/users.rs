//! Users and API tokens.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use salesflow_domain::FieldError;
use salesflow_domain::error::{Error, Result};
use salesflow_domain::ids::*;
use salesflow_domain::normalize;
use salesflow_domain::records::*;

use super::{all, exec, one, row_exists, rows, ts};
use crate::rows::USER_COLS;

/// Every problem with a new user, before any database work.
pub fn check_new(user: &NewUser) -> Vec<FieldError> {
    let mut problems = Vec::new();
    if user.name.trim().is_empty() {
        problems.push(FieldError::new("name", "is required"));
    }
    if normalize::email(&user.email).is_none() {
        problems.push(FieldError::new("email", format!("`{}` is not an email address", user.email)));
    }
    if !["zh-CN", "en"].contains(&user.locale.as_str()) {
        problems.push(FieldError::new("locale", "must be `zh-CN` or `en`"));
    }
    problems
}

pub fn create(conn: &Connection, user: &NewUser, now: DateTime<Utc>) -> Result<User> {
    let row = one(
        conn,
        &format!(
            "INSERT INTO users (name, email, locale, time_zone, role, active, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6) RETURNING {USER_COLS}"
        ),
        params![
            user.name.trim(),
            normalize::email(&user.email),
            user.locale,
            user.time_zone,
            user.role.as_str(),
            ts(now)
        ],
        rows::user,
    );
    match row {
        Err(Error::Conflict(_)) => Err(Error::invalid("email", "a user with this email already exists")),
        other => other?.ok_or_else(|| Error::Storage("INSERT … RETURNING returned nothing".into())),
    }
}

pub fn get(conn: &Connection, id: UserId) -> Result<User> {
    one(conn, &format!("SELECT {USER_COLS} FROM users WHERE id = ?1"), [id.0], rows::user)?
        .ok_or_else(|| Error::not_found("user", id))
}

/// `email` is already normalised.
pub fn by_email(conn: &Connection, email: &str) -> Result<Option<User>> {
    one(conn, &format!("SELECT {USER_COLS} FROM users WHERE email = ?1"), [email], rows::user)
}

pub fn list(conn: &Connection) -> Result<Vec<User>> {
    all(conn, &format!("SELECT {USER_COLS} FROM users ORDER BY id"), [], rows::user)
}

pub fn create_token(conn: &Connection, user: UserId, hash: &str, label: &str, now: DateTime<Utc>) -> Result<()> {
    row_exists(conn, "users", user.0, "user_id", "user")?;
    exec(
        conn,
        "INSERT INTO api_tokens (user_id, token_hash, label, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![user.0, hash, label, ts(now)],
    )?;
    Ok(())
}

/// The active user a live token belongs to.
pub fn by_token(conn: &Connection, hash: &str, now: DateTime<Utc>) -> Result<Option<User>> {
    // Every API request asks this: the SQL is built once.
    static SQL: LazyLock<String> = LazyLock::new(|| {
        let cols = USER_COLS.split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ");
        format!(
            "SELECT {cols}, t.expires_at FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = ?1 AND t.revoked_at IS NULL AND u.active"
        )
    });
    let found = one(conn, &SQL, [hash], |r| Ok((rows::user_at(r, 0)?, rows::opt_time(r, 7)?)))?;
    // Compared here, not in SQL: timestamps are text.
    match found {
        Some((user, expires)) if expires.is_none_or(|e| e > now) => Ok(Some(user)),
        _ => Ok(None),
    }
}
