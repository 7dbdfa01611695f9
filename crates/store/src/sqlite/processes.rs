//! Processes and their versions; published versions are cached in memory, as they never change.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use salesflow_domain::FieldError;
use salesflow_domain::error::{Error, Result};
use salesflow_domain::ids::*;
use salesflow_domain::process::ProcessDefinition;
use salesflow_domain::store::{ProcessSummary, ProcessVersion, VersionStatus};

use super::{Cache, all, exec, one, rows, ts};
use crate::rows::VERSION_COLS;

/// A published version already in the cache.
pub fn cached(cache: &Cache, id: ProcessId, version: i32) -> Option<Arc<ProcessVersion>> {
    cache.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(&(id.0, version)).cloned()
}

fn remember(cache: &Cache, v: Arc<ProcessVersion>) {
    cache.write().unwrap_or_else(std::sync::PoisonError::into_inner).insert((v.process_id.0, v.version), v);
}

/// A version, from the cache when it is published and was read before.
pub fn version(conn: &Connection, cache: &Cache, id: ProcessId, version: i32) -> Result<Arc<ProcessVersion>> {
    if let Some(v) = cached(cache, id, version) {
        return Ok(v);
    }
    let row = one(
        conn,
        &format!("SELECT {VERSION_COLS} FROM process_versions WHERE process_id = ?1 AND version = ?2"),
        params![id.0, version],
        rows::version,
    )?;
    let v = Arc::new(row.ok_or_else(|| Error::not_found("process version", format!("{id}/{version}")))?);
    if v.status != VersionStatus::Draft {
        remember(cache, v.clone());
    }
    Ok(v)
}

/// Every problem with a new process, before any database work.
pub fn check_new(definition: &ProcessDefinition) -> Result<()> {
    let mut problems = Vec::new();
    if definition.key.trim().is_empty() {
        problems.push(FieldError::new("key", "is required"));
    }
    if definition.name.trim().is_empty() {
        problems.push(FieldError::new("name", "is required"));
    }
    if problems.is_empty() { Ok(()) } else { Err(Error::Invalid(problems)) }
}

fn to_json(definition: &ProcessDefinition) -> Result<String> {
    serde_json::to_string(definition).map_err(|e| Error::Storage(e.to_string()))
}

fn returned<T>(row: Option<T>) -> Result<T> {
    row.ok_or_else(|| Error::Storage("INSERT … RETURNING returned nothing".into()))
}

pub fn create(conn: &Connection, definition: &ProcessDefinition, now: DateTime<Utc>) -> Result<ProcessVersion> {
    let id = one(
        conn,
        "INSERT INTO processes (key, name, locale, created_at) VALUES (?1, ?2, ?3, ?4) RETURNING id",
        params![definition.key.trim(), definition.name.trim(), definition.locale, ts(now)],
        |r| rows::get::<i64>(r, 0),
    );
    let id = match id {
        Err(Error::Conflict(_)) => {
            return Err(Error::invalid("key", format!("a process with key `{}` already exists", definition.key)));
        }
        other => returned(other?)?,
    };
    returned(one(
        conn,
        &format!(
            "INSERT INTO process_versions (process_id, version, status, definition, created_at) \
             VALUES (?1, 1, 'draft', ?2, ?3) RETURNING {VERSION_COLS}"
        ),
        params![id, to_json(definition)?, ts(now)],
        rows::version,
    )?)
}

pub fn list(conn: &Connection) -> Result<Vec<ProcessSummary>> {
    all(
        conn,
        "SELECT p.id, p.key, p.name, p.locale, MAX(v.version), \
         MAX(CASE WHEN v.status = 'published' AND v.retired_at IS NULL THEN v.version END) \
         FROM processes p JOIN process_versions v ON v.process_id = p.id \
         GROUP BY p.id, p.key, p.name, p.locale ORDER BY p.id",
        [],
        |r| {
            Ok(ProcessSummary {
                id: ProcessId(rows::get(r, 0)?),
                key: rows::get(r, 1)?,
                name: rows::get(r, 2)?,
                locale: rows::get(r, 3)?,
                latest_version: rows::get(r, 4)?,
                published_version: rows::get(r, 5)?,
            })
        },
    )
}

pub fn versions(conn: &Connection, id: ProcessId) -> Result<Vec<ProcessVersion>> {
    let versions = all(
        conn,
        &format!("SELECT {VERSION_COLS} FROM process_versions WHERE process_id = ?1 ORDER BY version"),
        [id.0],
        rows::version,
    )?;
    if versions.is_empty() {
        return Err(Error::not_found("process", id));
    }
    Ok(versions)
}

pub fn latest_published(conn: &Connection, cache: &Cache, id: ProcessId) -> Result<Arc<ProcessVersion>> {
    let row = one(
        conn,
        "SELECT MAX(CASE WHEN v.status = 'published' AND v.retired_at IS NULL THEN v.version END) FROM processes p \
         LEFT JOIN process_versions v ON v.process_id = p.id WHERE p.id = ?1 GROUP BY p.id",
        [id.0],
        |r| rows::get::<Option<i32>>(r, 0),
    )?;
    match row {
        None => Err(Error::not_found("process", id)),
        Some(None) => Err(Error::invalid("process_id", format!("process {id} has no published version yet"))),
        Some(Some(v)) => version(conn, cache, id, v),
    }
}

pub fn save_draft(
    conn: &Connection,
    cache: &Cache,
    id: ProcessId,
    number: i32,
    definition: &ProcessDefinition,
    _now: DateTime<Utc>,
) -> Result<ProcessVersion> {
    let current = version(conn, cache, id, number)?;
    if current.status != VersionStatus::Draft {
        return Err(Error::Conflict(format!(
            "version {number} of process {id} is {} and cannot change; start a new draft",
            current.status.as_str()
        )));
    }
    if definition.key != current.definition.key {
        return Err(Error::invalid(
            "key",
            format!("the process key is `{}` and cannot change", current.definition.key),
        ));
    }
    let row = one(
        conn,
        &format!(
            "UPDATE process_versions SET definition = ?1 WHERE process_id = ?2 AND version = ?3 AND status = 'draft' \
             RETURNING {VERSION_COLS}"
        ),
        params![to_json(definition)?, id.0, number],
        rows::version,
    )?;
    let row = row.ok_or_else(|| Error::Conflict(format!("version {number} of process {id} was just published")))?;
    exec(
        conn,
        "UPDATE processes SET name = ?1, locale = ?2 WHERE id = ?3",
        params![definition.name.trim(), definition.locale, id.0],
    )?;
    Ok(row)
}

pub fn new_draft(
    conn: &Connection,
    id: ProcessId,
    definition: &ProcessDefinition,
    now: DateTime<Utc>,
) -> Result<ProcessVersion> {
    let existing = versions(conn, id)?;
    let key = &existing[0].definition.key;
    if &definition.key != key {
        return Err(Error::invalid("key", format!("the process key is `{key}` and cannot change")));
    }
    let next = existing.iter().map(|v| v.version).max().unwrap_or(0) + 1;
    returned(one(
        conn,
        &format!(
            "INSERT INTO process_versions (process_id, version, status, definition, created_at) \
             VALUES (?1, ?2, 'draft', ?3, ?4) RETURNING {VERSION_COLS}"
        ),
        params![id.0, next, to_json(definition)?, ts(now)],
        rows::version,
    )?)
}

/// Validates and freezes a draft inside the caller's transaction; once that commits, the caller
/// hands the result to `published`.
pub fn publish(
    conn: &Connection,
    cache: &Cache,
    id: ProcessId,
    number: i32,
    now: DateTime<Utc>,
) -> Result<ProcessVersion> {
    let current = version(conn, cache, id, number)?;
    if current.status != VersionStatus::Draft {
        return Err(Error::Conflict(format!(
            "version {number} of process {id} is already {}",
            current.status.as_str()
        )));
    }
    let issues = current.definition.validate();
    if !issues.is_empty() {
        return Err(Error::ProcessInvalid(issues));
    }
    let row = one(
        conn,
        &format!(
            "UPDATE process_versions SET status = 'published', published_at = ?1 \
             WHERE process_id = ?2 AND version = ?3 AND status = 'draft' RETURNING {VERSION_COLS}"
        ),
        params![ts(now), id.0, number],
        rows::version,
    )?;
    row.ok_or_else(|| Error::Conflict(format!("version {number} of process {id} changed meanwhile")))
}

/// After a publish committed: later reads of the version come from memory.
pub fn published(cache: &Cache, v: &ProcessVersion) {
    remember(cache, Arc::new(v.clone()));
}

/// Marks a published version retired inside the caller's transaction; once that commits, the
/// caller hands the result to `published` so the cache holds the new status.
pub fn retire(
    conn: &Connection,
    cache: &Cache,
    id: ProcessId,
    number: i32,
    now: DateTime<Utc>,
) -> Result<ProcessVersion> {
    let current = version(conn, cache, id, number)?;
    if current.status != VersionStatus::Published {
        return Err(Error::Conflict(format!(
            "version {number} of process {id} is {}; only a published version can be retired",
            current.status.as_str()
        )));
    }
    let row = one(
        conn,
        &format!(
            "UPDATE process_versions SET retired_at = ?1 \
             WHERE process_id = ?2 AND version = ?3 AND retired_at IS NULL RETURNING {VERSION_COLS}"
        ),
        params![ts(now), id.0, number],
        rows::version,
    )?;
    row.ok_or_else(|| Error::Conflict(format!("version {number} of process {id} was just retired")))
}
