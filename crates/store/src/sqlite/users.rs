//! Users, teams, shares and API tokens.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use salesflow_domain::error::{Error, Result};
use salesflow_domain::ids::*;
use salesflow_domain::normalize;
use salesflow_domain::records::*;

use super::rows::{SHARE_COLS, TOKEN_COLS};
use super::{all, exec, one, opt_ts, row_exists, rows, ts};
use crate::rows::USER_COLS;

fn returned<T>(row: Option<T>) -> Result<T> {
    row.ok_or_else(|| Error::Storage("INSERT … RETURNING returned nothing".into()))
}

// ---------------------------------------------------------------------------------------------
// Users

pub fn create(conn: &Connection, user: &NewUser, now: DateTime<Utc>) -> Result<User> {
    let row = one(
        conn,
        &format!(
            "INSERT INTO users (name, email, locale, time_zone, role, active, created_at, updated_at, password_hash) \
             VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?6, ?7) RETURNING {USER_COLS}"
        ),
        params![
            user.name.trim(),
            normalize::email(&user.email),
            user.locale,
            user.time_zone,
            user.role.as_str(),
            ts(now),
            user.password_hash,
        ],
        rows::user,
    );
    match row {
        Err(Error::Conflict(_)) => Err(Error::invalid("email", "a user with this email already exists")),
        other => returned(other?),
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

/// Applies a validated patch; absent fields stay as they are.
pub fn update(conn: &Connection, id: UserId, patch: &UserPatch, now: DateTime<Utc>) -> Result<User> {
    let row = one(
        conn,
        &format!(
            "UPDATE users SET name = COALESCE(?1, name), locale = COALESCE(?2, locale), \
             time_zone = COALESCE(?3, time_zone), role = COALESCE(?4, role), active = COALESCE(?5, active), \
             updated_at = ?6 WHERE id = ?7 RETURNING {USER_COLS}"
        ),
        params![
            patch.name.as_deref().map(str::trim),
            patch.locale,
            patch.time_zone,
            patch.role.map(|r| r.as_str()),
            patch.active,
            ts(now),
            id.0,
        ],
        rows::user,
    )?;
    row.ok_or_else(|| Error::not_found("user", id))
}

pub fn password_hash(conn: &Connection, id: UserId) -> Result<Option<String>> {
    one(conn, "SELECT password_hash FROM users WHERE id = ?1", [id.0], |r| rows::get(r, 0))?
        .ok_or_else(|| Error::not_found("user", id))
}

pub fn set_password_hash(conn: &Connection, id: UserId, hash: &str, now: DateTime<Utc>) -> Result<()> {
    let done =
        exec(conn, "UPDATE users SET password_hash = ?1, updated_at = ?2 WHERE id = ?3", params![hash, ts(now), id.0])?;
    if done == 0 { Err(Error::not_found("user", id)) } else { Ok(()) }
}

// ---------------------------------------------------------------------------------------------
// Teams

/// The team's members, by id.
fn members(conn: &Connection, team: TeamId) -> Result<Vec<UserId>> {
    all(conn, "SELECT user_id FROM team_members WHERE team_id = ?1 ORDER BY user_id", [team.0], |r| {
        Ok(UserId(rows::get(r, 0)?))
    })
}

/// Every manager and member that is not a user, named by its field.
fn check_people(conn: &Connection, manager: Option<UserId>, members: &[UserId]) -> Result<()> {
    let fields = manager.map(|m| (m, "manager_id".to_string())).into_iter();
    let fields = fields.chain(members.iter().enumerate().map(|(i, m)| (*m, format!("members[{i}]"))));
    let mut problems = Vec::new();
    for (user, field) in fields {
        match row_exists(conn, "users", user.0, &field, "user") {
            Ok(()) => {}
            Err(Error::Invalid(mut e)) => problems.append(&mut e),
            Err(e) => return Err(e),
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(Error::Invalid(problems)) }
}

fn name_taken(e: Error) -> Error {
    match e {
        Error::Conflict(_) => Error::invalid("name", "a team with this name already exists"),
        other => other,
    }
}

fn replace_members(conn: &Connection, team: TeamId, members: &[UserId]) -> Result<()> {
    exec(conn, "DELETE FROM team_members WHERE team_id = ?1", [team.0])?;
    for m in members {
        exec(conn, "INSERT OR IGNORE INTO team_members (team_id, user_id) VALUES (?1, ?2)", [team.0, m.0])?;
    }
    Ok(())
}

/// A validated new team.
pub fn create_team(conn: &Connection, team: &NewTeam, now: DateTime<Utc>) -> Result<Team> {
    check_people(conn, team.manager_id, &team.members)?;
    let id = one(
        conn,
        "INSERT INTO teams (name, manager_id, created_at) VALUES (?1, ?2, ?3) RETURNING id",
        params![team.name.trim(), team.manager_id.map(|m| m.0), ts(now)],
        |r| Ok(TeamId(rows::get(r, 0)?)),
    )
    .map_err(name_taken)?;
    let id = returned(id)?;
    replace_members(conn, id, &team.members)?;
    get_team(conn, id)
}

pub fn get_team(conn: &Connection, id: TeamId) -> Result<Team> {
    let row = one(conn, "SELECT id, name, manager_id FROM teams WHERE id = ?1", [id.0], |r| {
        Ok(Team {
            id: TeamId(rows::get(r, 0)?),
            name: rows::get(r, 1)?,
            manager_id: rows::get::<Option<i64>>(r, 2)?.map(UserId),
            members: Vec::new(),
        })
    })?;
    let mut team = row.ok_or_else(|| Error::not_found("team", id))?;
    team.members = members(conn, id)?;
    Ok(team)
}

/// Every team by id, with its members; the caller reads inside one snapshot.
pub fn list_teams(conn: &Connection) -> Result<Vec<Team>> {
    let mut teams = all(conn, "SELECT id, name, manager_id FROM teams ORDER BY id", [], |r| {
        Ok(Team {
            id: TeamId(rows::get(r, 0)?),
            name: rows::get(r, 1)?,
            manager_id: rows::get::<Option<i64>>(r, 2)?.map(UserId),
            members: Vec::new(),
        })
    })?;
    let pairs = all(conn, "SELECT team_id, user_id FROM team_members ORDER BY team_id, user_id", [], |r| {
        Ok((TeamId(rows::get(r, 0)?), UserId(rows::get(r, 1)?)))
    })?;
    for (team, user) in pairs {
        if let Ok(i) = teams.binary_search_by_key(&team, |t| t.id) {
            teams[i].members.push(user);
        }
    }
    Ok(teams)
}

/// Applies a validated patch: the fields given replace the stored ones, members as a whole.
pub fn update_team(conn: &Connection, id: TeamId, patch: &TeamPatch) -> Result<Team> {
    get_team(conn, id)?;
    check_people(conn, patch.manager_id, patch.members.as_deref().unwrap_or_default())?;
    exec(
        conn,
        "UPDATE teams SET name = COALESCE(?1, name), manager_id = COALESCE(?2, manager_id) WHERE id = ?3",
        params![patch.name.as_deref().map(str::trim), patch.manager_id.map(|m| m.0), id.0],
    )
    .map_err(name_taken)?;
    if let Some(members) = &patch.members {
        replace_members(conn, id, members)?;
    }
    get_team(conn, id)
}

pub fn delete_team(conn: &Connection, id: TeamId) -> Result<()> {
    // Members go with the team (ON DELETE CASCADE).
    let done = exec(conn, "DELETE FROM teams WHERE id = ?1", [id.0])?;
    if done == 0 { Err(Error::not_found("team", id)) } else { Ok(()) }
}

pub fn team_reach(conn: &Connection, user: UserId) -> Result<TeamReach> {
    let managed = all(
        conn,
        "SELECT DISTINCT m.user_id FROM teams t JOIN team_members m ON m.team_id = t.id WHERE t.manager_id = ?1 \
         ORDER BY m.user_id",
        [user.0],
        |r| Ok(UserId(rows::get(r, 0)?)),
    )?;
    let fellow = all(
        conn,
        "SELECT DISTINCT f.user_id FROM team_members me JOIN team_members f ON f.team_id = me.team_id \
         WHERE me.user_id = ?1 ORDER BY f.user_id",
        [user.0],
        |r| Ok(UserId(rows::get(r, 0)?)),
    )?;
    Ok(TeamReach { managed, fellow })
}

// ---------------------------------------------------------------------------------------------
// Shares

fn table_of(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Account => "accounts",
        RecordKind::Contact => "contacts",
        RecordKind::Lead => "leads",
        RecordKind::Deal => "deals",
    }
}

pub fn share(conn: &Connection, share: &Share) -> Result<()> {
    row_exists(conn, table_of(share.record_kind), share.record_id, "record_id", share.record_kind.as_str())?;
    row_exists(conn, "users", share.user_id.0, "user_id", "user")?;
    row_exists(conn, "users", share.shared_by.0, "shared_by", "user")?;
    exec(
        conn,
        &format!("INSERT OR IGNORE INTO record_shares ({SHARE_COLS}) VALUES (?1, ?2, ?3, ?4, ?5)"),
        params![share.record_kind.as_str(), share.record_id, share.user_id.0, share.shared_by.0, ts(share.created_at)],
    )?;
    Ok(())
}

pub fn unshare(conn: &Connection, kind: RecordKind, record_id: i64, user: UserId) -> Result<bool> {
    let done = exec(
        conn,
        "DELETE FROM record_shares WHERE record_kind = ?1 AND user_id = ?2 AND record_id = ?3",
        params![kind.as_str(), user.0, record_id],
    )?;
    Ok(done > 0)
}

pub fn shares(conn: &Connection, kind: RecordKind, record_id: i64) -> Result<Vec<Share>> {
    all(
        conn,
        &format!("SELECT {SHARE_COLS} FROM record_shares WHERE record_kind = ?1 AND record_id = ?2 ORDER BY user_id"),
        params![kind.as_str(), record_id],
        rows::share,
    )
}

pub fn is_shared(conn: &Connection, kind: RecordKind, record_id: i64, user: UserId) -> Result<bool> {
    let found = one(
        conn,
        "SELECT 1 FROM record_shares WHERE record_kind = ?1 AND user_id = ?2 AND record_id = ?3",
        params![kind.as_str(), user.0, record_id],
        |_| Ok(()),
    )?;
    Ok(found.is_some())
}

// ---------------------------------------------------------------------------------------------
// API tokens

pub fn create_token(conn: &Connection, token: &NewApiToken, now: DateTime<Utc>) -> Result<ApiToken> {
    row_exists(conn, "users", token.user_id.0, "user_id", "user")?;
    returned(one(
        conn,
        &format!(
            "INSERT INTO api_tokens (user_id, token_hash, label, scope, created_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING {TOKEN_COLS}"
        ),
        params![
            token.user_id.0,
            token.token_hash,
            token.label,
            token.scope.as_str(),
            ts(now),
            opt_ts(token.expires_at)
        ],
        rows::token,
    )?)
}

pub fn token(conn: &Connection, id: TokenId) -> Result<ApiToken> {
    one(conn, &format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE id = ?1"), [id.0], rows::token)?
        .ok_or_else(|| Error::not_found("api token", id))
}

/// Newest first.
pub fn list_tokens(conn: &Connection, user: Option<UserId>) -> Result<Vec<ApiToken>> {
    match user {
        Some(u) => all(
            conn,
            &format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE user_id = ?1 ORDER BY id DESC"),
            [u.0],
            rows::token,
        ),
        None => all(conn, &format!("SELECT {TOKEN_COLS} FROM api_tokens ORDER BY id DESC"), [], rows::token),
    }
}

/// Revokes a token; revoking it again keeps the first time.
pub fn revoke_token(conn: &Connection, id: TokenId, now: DateTime<Utc>) -> Result<ApiToken> {
    one(
        conn,
        &format!("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?1) WHERE id = ?2 RETURNING {TOKEN_COLS}"),
        params![ts(now), id.0],
        rows::token,
    )?
    .ok_or_else(|| Error::not_found("api token", id))
}

/// The live token with this hash (not revoked, not expired at `now`, its user active) and its
/// user. Timestamps are compared as text: the stored form sorts like time.
pub fn authenticate(conn: &Connection, hash: &str, now: DateTime<Utc>) -> Result<Option<(ApiToken, User)>> {
    // Every API request asks this: the SQL is built once and its statement stays prepared.
    static SQL: LazyLock<String> = LazyLock::new(|| {
        let prefixed =
            |cols: &str, p: &str| cols.split(", ").map(|c| format!("{p}.{c}")).collect::<Vec<_>>().join(", ");
        format!(
            "SELECT {}, {} FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = ?1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?2) \
             AND u.active",
            prefixed(TOKEN_COLS, "t"),
            prefixed(USER_COLS, "u")
        )
    });
    one(conn, &SQL, params![hash, ts(now)], |r| Ok((rows::token_at(r, 0)?, rows::user_at(r, 8)?)))
}

/// Marks a token used at `now` (unless a later use was recorded already); whether it changed.
pub fn mark_used(conn: &Connection, id: TokenId, now: DateTime<Utc>) -> Result<bool> {
    let done = exec(
        conn,
        "UPDATE api_tokens SET last_used_at = ?1 WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at < ?1)",
        params![ts(now), id.0],
    )?;
    Ok(done > 0)
}
