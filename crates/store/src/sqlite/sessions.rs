//! Web sessions and sign-in throttling. Timestamps are compared as text: the stored form sorts
//! like time.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use salesflow_domain::error::Result;
use salesflow_domain::ids::UserId;
use salesflow_domain::records::WebSession;

use super::rows::SESSION_COLS;
use super::{exec, one, row_exists, rows, ts};

pub fn create(conn: &Connection, s: &WebSession) -> Result<()> {
    row_exists(conn, "users", s.user_id.0, "user_id", "user")?;
    exec(
        conn,
        &format!("INSERT INTO web_sessions ({SESSION_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
        params![
            s.id_hash,
            s.user_id.0,
            s.csrf_token,
            ts(s.created_at),
            ts(s.last_seen_at),
            ts(s.expires_at),
            s.address,
            s.user_agent
        ],
    )?;
    Ok(())
}

/// The session, whatever its age: the caller judges expiry.
pub fn get(conn: &Connection, id_hash: &str) -> Result<Option<WebSession>> {
    one(conn, &format!("SELECT {SESSION_COLS} FROM web_sessions WHERE id_hash = ?1"), [id_hash], rows::session)
}

/// Marks activity; a session that is gone stays gone.
pub fn touch(conn: &Connection, id_hash: &str, now: DateTime<Utc>) -> Result<()> {
    exec(conn, "UPDATE web_sessions SET last_seen_at = ?1 WHERE id_hash = ?2", params![ts(now), id_hash])?;
    Ok(())
}

pub fn delete(conn: &Connection, id_hash: &str) -> Result<()> {
    exec(conn, "DELETE FROM web_sessions WHERE id_hash = ?1", [id_hash])?;
    Ok(())
}

pub fn delete_of(conn: &Connection, user: UserId) -> Result<()> {
    exec(conn, "DELETE FROM web_sessions WHERE user_id = ?1", [user.0])?;
    Ok(())
}

/// Sessions past their absolute end or idle since before `idle_since`; how many went.
pub fn delete_expired(conn: &Connection, now: DateTime<Utc>, idle_since: DateTime<Utc>) -> Result<u64> {
    let done = exec(
        conn,
        "DELETE FROM web_sessions WHERE expires_at <= ?1 OR last_seen_at < ?2",
        params![ts(now), ts(idle_since)],
    )?;
    Ok(done as u64)
}

pub fn record_failure(conn: &Connection, email_key: &str, address: &str, now: DateTime<Utc>) -> Result<()> {
    exec(
        conn,
        "INSERT INTO login_failures (email_key, address, at) VALUES (?1, ?2, ?3)",
        params![email_key, address, ts(now)],
    )?;
    Ok(())
}

/// Failures since `since`: (for this email, from this address).
pub fn failures(conn: &Connection, email_key: &str, address: &str, since: DateTime<Utc>) -> Result<(u32, u32)> {
    let counts = one(
        conn,
        "SELECT (SELECT COUNT(*) FROM login_failures WHERE email_key = ?1 AND at >= ?3), \
         (SELECT COUNT(*) FROM login_failures WHERE address = ?2 AND at >= ?3)",
        params![email_key, address, ts(since)],
        |r| Ok((rows::get::<u32>(r, 0)?, rows::get::<u32>(r, 1)?)),
    )?;
    Ok(counts.unwrap_or_default())
}

pub fn clear_failures(conn: &Connection, email_key: &str) -> Result<()> {
    exec(conn, "DELETE FROM login_failures WHERE email_key = ?1", [email_key])?;
    Ok(())
}

pub fn prune_failures(conn: &Connection, before: DateTime<Utc>) -> Result<u64> {
    Ok(exec(conn, "DELETE FROM login_failures WHERE at < ?1", [ts(before)])? as u64)
}
