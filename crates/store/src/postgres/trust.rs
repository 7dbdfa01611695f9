//! The SQL of teams and trust on PostgreSQL: users' passwords and profile changes, teams,
//! shares, API tokens, web sessions, sign-in throttling, the audit log, and the scope filter
//! every list applies. Free functions on the pool, called from the `Store` impl in `store.rs`;
//! the SQLite adapter implements the same behaviour.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use salesflow_domain::access::{Reach, Scope};
use salesflow_domain::error::{Error, Result};
use salesflow_domain::ids::*;
use salesflow_domain::records::*;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};

use crate::rows::{USER_COLS, UserRow};
use crate::{DbResult, db_error};

fn corrupt(what: &str, value: &str) -> Error {
    Error::Storage(format!("stored {what} `{value}` is not valid"))
}

/// A write refused by a foreign key: every key of these tables but `team_members.team_id`
/// refers to a user, and the constraint `<table>_<column>_fkey` names the field.
fn write_error(e: sqlx::Error) -> Error {
    if let sqlx::Error::Database(d) = &e
        && d.is_foreign_key_violation()
    {
        let field = match (d.constraint(), d.table()) {
            (Some(c), Some(t)) => c
                .strip_prefix(t)
                .and_then(|c| c.strip_prefix('_'))
                .and_then(|c| c.strip_suffix("_fkey"))
                .unwrap_or("user_id")
                .to_string(),
            _ => "user_id".to_string(),
        };
        return Error::invalid(field, "refers to a user that does not exist");
    }
    db_error(e)
}

/// Restricts a list to `scope`'s read reach. `prefix` qualifies the table's columns (`d.` or
/// empty); ids and the user are bound, never spliced.
pub(super) fn push_scope(q: &mut QueryBuilder<'_, Postgres>, scope: &Scope, kind: RecordKind, prefix: &str) {
    let shared = |q: &mut QueryBuilder<'_, Postgres>| {
        q.push(format!(
            "{prefix}id IN (SELECT record_id FROM record_shares WHERE record_kind = '{}' AND user_id = ",
            kind.as_str()
        ))
        .push_bind(scope.user.0)
        .push(")");
    };
    match scope.read_reach() {
        Reach::All => {}
        Reach::Owners(ids) => {
            q.push(format!(" AND ({prefix}owner_id = ANY("))
                .push_bind(ids.iter().map(|u| u.0).collect::<Vec<i64>>())
                .push(") OR ");
            shared(q);
            q.push(")");
        }
        Reach::Nothing => {
            q.push(" AND ");
            shared(q);
        }
    }
}

// Users.

pub(super) async fn update_user(pool: &PgPool, id: UserId, patch: &UserPatch, now: DateTime<Utc>) -> Result<User> {
    patch.validate()?;
    let row: Option<UserRow> = if patch.is_empty() {
        sqlx::query_as(&format!("SELECT {USER_COLS} FROM users WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(pool)
            .await
            .db()?
    } else {
        sqlx::query_as(&format!(
            "UPDATE users SET name = COALESCE($1, name), locale = COALESCE($2, locale), \
             time_zone = COALESCE($3, time_zone), role = COALESCE($4, role), active = COALESCE($5, active), \
             updated_at = $6 WHERE id = $7 RETURNING {USER_COLS}"
        ))
        .bind(patch.name.as_deref().map(str::trim))
        .bind(patch.locale.as_deref())
        .bind(patch.time_zone.as_deref())
        .bind(patch.role.map(|r| r.as_str()))
        .bind(patch.active)
        .bind(now)
        .bind(id.0)
        .fetch_optional(pool)
        .await
        .db()?
    };
    row.ok_or_else(|| Error::not_found("user", id))?.try_into()
}

pub(super) async fn password_hash(pool: &PgPool, id: UserId) -> Result<Option<String>> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT password_hash FROM users WHERE id = $1").bind(id.0).fetch_optional(pool).await.db()?;
    Ok(row.ok_or_else(|| Error::not_found("user", id))?.0)
}

pub(super) async fn set_password_hash(pool: &PgPool, id: UserId, hash: &str, now: DateTime<Utc>) -> Result<()> {
    let done = sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(hash)
        .bind(now)
        .bind(id.0)
        .execute(pool)
        .await
        .db()?;
    if done.rows_affected() == 0 {
        return Err(Error::not_found("user", id));
    }
    Ok(())
}

// Teams.

const TEAM_SQL: &str = "SELECT t.id, t.name, t.manager_id, \
    ARRAY(SELECT m.user_id FROM team_members m WHERE m.team_id = t.id ORDER BY m.user_id) AS members FROM teams t";

#[derive(sqlx::FromRow)]
struct TeamRow {
    id: i64,
    name: String,
    manager_id: Option<i64>,
    members: Vec<i64>,
}

impl From<TeamRow> for Team {
    fn from(r: TeamRow) -> Self {
        Team {
            id: TeamId(r.id),
            name: r.name,
            manager_id: r.manager_id.map(UserId),
            members: r.members.into_iter().map(UserId).collect(),
        }
    }
}

async fn load_team(conn: &mut PgConnection, id: TeamId) -> Result<Team> {
    let row: Option<TeamRow> =
        sqlx::query_as(&format!("{TEAM_SQL} WHERE t.id = $1")).bind(id.0).fetch_optional(&mut *conn).await.db()?;
    Ok(row.ok_or_else(|| Error::not_found("team", id))?.into())
}

/// The manager and every member must be users; each missing one is named.
async fn check_team_users(conn: &mut PgConnection, manager: Option<UserId>, members: Option<&[UserId]>) -> Result<()> {
    let wanted: Vec<i64> = manager.iter().chain(members.unwrap_or_default()).map(|u| u.0).collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let found: Vec<(i64,)> =
        sqlx::query_as("SELECT id FROM users WHERE id = ANY($1)").bind(&wanted).fetch_all(&mut *conn).await.db()?;
    let found: BTreeSet<i64> = found.into_iter().map(|(id,)| id).collect();
    let mut problems = Vec::new();
    if let Some(m) = manager
        && !found.contains(&m.0)
    {
        problems.push(salesflow_domain::FieldError::new("manager_id", format!("user {m} does not exist")));
    }
    for (i, m) in members.unwrap_or_default().iter().enumerate() {
        if !found.contains(&m.0) {
            problems
                .push(salesflow_domain::FieldError::new(format!("members[{i}]"), format!("user {m} does not exist")));
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(Error::Invalid(problems)) }
}

fn team_name_taken(e: Error) -> Error {
    match e {
        Error::Conflict(_) => Error::invalid("name", "a team with this name already exists"),
        other => other,
    }
}

async fn replace_members(conn: &mut PgConnection, team: i64, members: &[UserId]) -> Result<()> {
    sqlx::query("DELETE FROM team_members WHERE team_id = $1").bind(team).execute(&mut *conn).await.db()?;
    let ids: Vec<i64> = members.iter().map(|u| u.0).collect::<BTreeSet<_>>().into_iter().collect();
    if !ids.is_empty() {
        sqlx::query("INSERT INTO team_members (team_id, user_id) SELECT $1, u FROM UNNEST($2::BIGINT[]) AS u")
            .bind(team)
            .bind(&ids)
            .execute(&mut *conn)
            .await
            .db()?;
    }
    Ok(())
}

pub(super) async fn create_team(pool: &PgPool, team: &NewTeam, now: DateTime<Utc>) -> Result<Team> {
    team.validate()?;
    let mut tx = pool.begin().await.db()?;
    check_team_users(&mut tx, team.manager_id, Some(&team.members)).await?;
    let (id,): (i64,) =
        sqlx::query_as("INSERT INTO teams (name, manager_id, created_at) VALUES ($1, $2, $3) RETURNING id")
            .bind(team.name.trim())
            .bind(team.manager_id.map(|u| u.0))
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .db()
            .map_err(team_name_taken)?;
    replace_members(&mut tx, id, &team.members).await?;
    let created = load_team(&mut tx, TeamId(id)).await?;
    tx.commit().await.db()?;
    Ok(created)
}

pub(super) async fn team(pool: &PgPool, id: TeamId) -> Result<Team> {
    load_team(&mut *pool.acquire().await.db()?, id).await
}

pub(super) async fn list_teams(pool: &PgPool) -> Result<Vec<Team>> {
    let rows: Vec<TeamRow> = sqlx::query_as(&format!("{TEAM_SQL} ORDER BY t.id")).fetch_all(pool).await.db()?;
    Ok(rows.into_iter().map(Team::from).collect())
}

pub(super) async fn update_team(pool: &PgPool, id: TeamId, patch: &TeamPatch) -> Result<Team> {
    patch.validate()?;
    let mut tx = pool.begin().await.db()?;
    // Locks the team, so that concurrent member lists do not interleave.
    let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM teams WHERE id = $1 FOR UPDATE")
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await
        .db()?;
    if found.is_none() {
        return Err(Error::not_found("team", id));
    }
    check_team_users(&mut tx, patch.manager_id, patch.members.as_deref()).await?;
    if patch.name.is_some() || patch.manager_id.is_some() {
        sqlx::query("UPDATE teams SET name = COALESCE($1, name), manager_id = COALESCE($2, manager_id) WHERE id = $3")
            .bind(patch.name.as_deref().map(str::trim))
            .bind(patch.manager_id.map(|u| u.0))
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .db()
            .map_err(team_name_taken)?;
    }
    if let Some(members) = &patch.members {
        replace_members(&mut tx, id.0, members).await?;
    }
    let updated = load_team(&mut tx, id).await?;
    tx.commit().await.db()?;
    Ok(updated)
}

pub(super) async fn delete_team(pool: &PgPool, id: TeamId) -> Result<()> {
    let done = sqlx::query("DELETE FROM teams WHERE id = $1").bind(id.0).execute(pool).await.db()?;
    if done.rows_affected() == 0 {
        return Err(Error::not_found("team", id));
    }
    Ok(())
}

pub(super) async fn team_reach(pool: &PgPool, user: UserId) -> Result<TeamReach> {
    let (managed, fellow): (Vec<i64>, Vec<i64>) = sqlx::query_as(
        "SELECT ARRAY(SELECT DISTINCT m.user_id FROM team_members m JOIN teams t ON t.id = m.team_id \
                      WHERE t.manager_id = $1 ORDER BY m.user_id), \
                ARRAY(SELECT DISTINCT o.user_id FROM team_members me JOIN team_members o ON o.team_id = me.team_id \
                      WHERE me.user_id = $1 ORDER BY o.user_id)",
    )
    .bind(user.0)
    .fetch_one(pool)
    .await
    .db()?;
    Ok(TeamReach {
        managed: managed.into_iter().map(UserId).collect(),
        fellow: fellow.into_iter().map(UserId).collect(),
    })
}

// Shares.

#[derive(sqlx::FromRow)]
struct ShareRow {
    record_kind: String,
    record_id: i64,
    user_id: i64,
    shared_by: i64,
    created_at: DateTime<Utc>,
}

impl TryFrom<ShareRow> for Share {
    type Error = Error;
    fn try_from(r: ShareRow) -> Result<Self> {
        Ok(Share {
            record_kind: RecordKind::parse(&r.record_kind).ok_or_else(|| corrupt("record kind", &r.record_kind))?,
            record_id: r.record_id,
            user_id: UserId(r.user_id),
            shared_by: UserId(r.shared_by),
            created_at: r.created_at,
        })
    }
}

fn table_of(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Account => "accounts",
        RecordKind::Contact => "contacts",
        RecordKind::Lead => "leads",
        RecordKind::Deal => "deals",
    }
}

pub(super) async fn share(pool: &PgPool, share: &Share) -> Result<()> {
    let (record, user, by): (bool, bool, bool) = sqlx::query_as(&format!(
        "SELECT EXISTS (SELECT 1 FROM {} WHERE id = $1), EXISTS (SELECT 1 FROM users WHERE id = $2), \
         EXISTS (SELECT 1 FROM users WHERE id = $3)",
        table_of(share.record_kind)
    ))
    .bind(share.record_id)
    .bind(share.user_id.0)
    .bind(share.shared_by.0)
    .fetch_one(pool)
    .await
    .db()?;
    let kind = share.record_kind.as_str();
    let problems: Vec<_> = [
        (record, "record_id", format!("{kind} {} does not exist", share.record_id)),
        (user, "user_id", format!("user {} does not exist", share.user_id)),
        (by, "shared_by", format!("user {} does not exist", share.shared_by)),
    ]
    .into_iter()
    .filter(|(found, _, _)| !found)
    .map(|(_, field, message)| salesflow_domain::FieldError::new(field, message))
    .collect();
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    sqlx::query(
        "INSERT INTO record_shares (record_kind, record_id, user_id, shared_by, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(share.record_kind.as_str())
    .bind(share.record_id)
    .bind(share.user_id.0)
    .bind(share.shared_by.0)
    .bind(share.created_at)
    .execute(pool)
    .await
    .map_err(write_error)?;
    Ok(())
}

pub(super) async fn unshare(pool: &PgPool, kind: RecordKind, record_id: i64, user: UserId) -> Result<bool> {
    let done = sqlx::query("DELETE FROM record_shares WHERE record_kind = $1 AND record_id = $2 AND user_id = $3")
        .bind(kind.as_str())
        .bind(record_id)
        .bind(user.0)
        .execute(pool)
        .await
        .db()?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn shares(pool: &PgPool, kind: RecordKind, record_id: i64) -> Result<Vec<Share>> {
    let rows: Vec<ShareRow> = sqlx::query_as(
        "SELECT record_kind, record_id, user_id, shared_by, created_at FROM record_shares \
         WHERE record_kind = $1 AND record_id = $2 ORDER BY user_id",
    )
    .bind(kind.as_str())
    .bind(record_id)
    .fetch_all(pool)
    .await
    .db()?;
    rows.into_iter().map(TryInto::try_into).collect()
}

pub(super) async fn is_shared(pool: &PgPool, kind: RecordKind, record_id: i64, user: UserId) -> Result<bool> {
    let (shared,): (bool,) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM record_shares WHERE record_kind = $1 AND record_id = $2 AND user_id = $3)",
    )
    .bind(kind.as_str())
    .bind(record_id)
    .bind(user.0)
    .fetch_one(pool)
    .await
    .db()?;
    Ok(shared)
}

// API tokens.

const TOKEN_COLS: &str = "id, user_id, label, scope, created_at, expires_at, last_used_at, revoked_at";

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: i64,
    user_id: i64,
    label: String,
    scope: String,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<TokenRow> for ApiToken {
    type Error = Error;
    fn try_from(r: TokenRow) -> Result<Self> {
        Ok(ApiToken {
            id: TokenId(r.id),
            user_id: UserId(r.user_id),
            scope: TokenScope::parse(&r.scope).ok_or_else(|| corrupt("token scope", &r.scope))?,
            label: r.label,
            created_at: r.created_at,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        })
    }
}

/// A live token with its user, as `authenticate_token` reads and marks it.
#[derive(sqlx::FromRow)]
struct AuthRow {
    #[sqlx(flatten)]
    token: TokenRow,
    #[sqlx(flatten)]
    user: AuthUserRow,
}

#[derive(sqlx::FromRow)]
struct AuthUserRow {
    u_name: String,
    u_email: String,
    u_locale: String,
    u_time_zone: String,
    u_role: String,
    u_active: bool,
}

pub(super) async fn create_api_token(pool: &PgPool, token: &NewApiToken, now: DateTime<Utc>) -> Result<ApiToken> {
    let row: TokenRow = sqlx::query_as(&format!(
        "INSERT INTO api_tokens (user_id, token_hash, label, scope, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {TOKEN_COLS}"
    ))
    .bind(token.user_id.0)
    .bind(&token.token_hash)
    .bind(token.label.trim())
    .bind(token.scope.as_str())
    .bind(now)
    .bind(token.expires_at)
    .fetch_one(pool)
    .await
    .map_err(|e| match write_error(e) {
        Error::Invalid(_) => Error::invalid("user_id", format!("user {} does not exist", token.user_id)),
        other => other,
    })?;
    row.try_into()
}

pub(super) async fn api_token(pool: &PgPool, id: TokenId) -> Result<ApiToken> {
    let row: Option<TokenRow> = sqlx::query_as(&format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE id = $1"))
        .bind(id.0)
        .fetch_optional(pool)
        .await
        .db()?;
    row.ok_or_else(|| Error::not_found("api token", id))?.try_into()
}

pub(super) async fn list_api_tokens(pool: &PgPool, user: Option<UserId>) -> Result<Vec<ApiToken>> {
    let rows: Vec<TokenRow> = sqlx::query_as(&format!(
        "SELECT {TOKEN_COLS} FROM api_tokens WHERE ($1::BIGINT IS NULL OR user_id = $1) ORDER BY id DESC"
    ))
    .bind(user.map(|u| u.0))
    .fetch_all(pool)
    .await
    .db()?;
    rows.into_iter().map(TryInto::try_into).collect()
}

pub(super) async fn revoke_api_token(pool: &PgPool, id: TokenId, now: DateTime<Utc>) -> Result<ApiToken> {
    let row: Option<TokenRow> = sqlx::query_as(&format!(
        "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 RETURNING {TOKEN_COLS}"
    ))
    .bind(now)
    .bind(id.0)
    .fetch_optional(pool)
    .await
    .db()?;
    row.ok_or_else(|| Error::not_found("api token", id))?.try_into()
}

/// One round trip: the live token and its user, and `last_used_at` moved to `now` unless it is
/// less than a minute old (then the stored value comes back).
pub(super) async fn authenticate_token(
    pool: &PgPool,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<(ApiToken, User)>> {
    let row: Option<AuthRow> = sqlx::query_as(
        "WITH live AS ( \
             SELECT t.id, t.user_id, t.label, t.scope, t.created_at, t.expires_at, t.last_used_at, t.revoked_at, \
                    u.name AS u_name, u.email AS u_email, u.locale AS u_locale, u.time_zone AS u_time_zone, \
                    u.role AS u_role, u.active AS u_active \
             FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2) \
               AND u.active), \
         touched AS ( \
             UPDATE api_tokens SET last_used_at = $2 \
             WHERE id = (SELECT id FROM live) \
               AND (last_used_at IS NULL OR last_used_at <= $2 - INTERVAL '60 seconds') \
             RETURNING id, last_used_at) \
         SELECT l.id, l.user_id, l.label, l.scope, l.created_at, l.expires_at, \
                COALESCE(x.last_used_at, l.last_used_at) AS last_used_at, l.revoked_at, \
                l.u_name, l.u_email, l.u_locale, l.u_time_zone, l.u_role, l.u_active \
         FROM live l LEFT JOIN touched x ON x.id = l.id",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(pool)
    .await
    .db()?;
    let Some(AuthRow { token, user: u }) = row else { return Ok(None) };
    let user = User {
        id: UserId(token.user_id),
        role: Role::parse(&u.u_role).ok_or_else(|| corrupt("role", &u.u_role))?,
        name: u.u_name,
        email: u.u_email,
        locale: u.u_locale,
        time_zone: u.u_time_zone,
        active: u.u_active,
    };
    Ok(Some((token.try_into()?, user)))
}

// Web sessions.

#[derive(sqlx::FromRow)]
struct SessionRow {
    id_hash: String,
    user_id: i64,
    csrf_token: String,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    address: String,
    user_agent: String,
}

impl From<SessionRow> for WebSession {
    fn from(r: SessionRow) -> Self {
        WebSession {
            id_hash: r.id_hash,
            user_id: UserId(r.user_id),
            csrf_token: r.csrf_token,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            expires_at: r.expires_at,
            address: r.address,
            user_agent: r.user_agent,
        }
    }
}

pub(super) async fn create_session(pool: &PgPool, s: &WebSession) -> Result<()> {
    sqlx::query(
        "INSERT INTO web_sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, address, \
         user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&s.id_hash)
    .bind(s.user_id.0)
    .bind(&s.csrf_token)
    .bind(s.created_at)
    .bind(s.last_seen_at)
    .bind(s.expires_at)
    .bind(&s.address)
    .bind(&s.user_agent)
    .execute(pool)
    .await
    .map_err(write_error)?;
    Ok(())
}

pub(super) async fn session(pool: &PgPool, id_hash: &str) -> Result<Option<WebSession>> {
    let row: Option<SessionRow> = sqlx::query_as(
        "SELECT id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, address, user_agent \
         FROM web_sessions WHERE id_hash = $1",
    )
    .bind(id_hash)
    .fetch_optional(pool)
    .await
    .db()?;
    Ok(row.map(WebSession::from))
}

pub(super) async fn touch_session(pool: &PgPool, id_hash: &str, now: DateTime<Utc>) -> Result<()> {
    sqlx::query("UPDATE web_sessions SET last_seen_at = $1 WHERE id_hash = $2")
        .bind(now)
        .bind(id_hash)
        .execute(pool)
        .await
        .db()?;
    Ok(())
}

pub(super) async fn delete_session(pool: &PgPool, id_hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM web_sessions WHERE id_hash = $1").bind(id_hash).execute(pool).await.db()?;
    Ok(())
}

pub(super) async fn delete_sessions_of(pool: &PgPool, user: UserId) -> Result<()> {
    sqlx::query("DELETE FROM web_sessions WHERE user_id = $1").bind(user.0).execute(pool).await.db()?;
    Ok(())
}

pub(super) async fn delete_expired_sessions(
    pool: &PgPool,
    now: DateTime<Utc>,
    idle_since: DateTime<Utc>,
) -> Result<u64> {
    let done = sqlx::query("DELETE FROM web_sessions WHERE expires_at <= $1 OR last_seen_at < $2")
        .bind(now)
        .bind(idle_since)
        .execute(pool)
        .await
        .db()?;
    Ok(done.rows_affected())
}

// Sign-in throttling.

pub(super) async fn record_login_failure(
    pool: &PgPool,
    email_key: &str,
    address: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query("INSERT INTO login_failures (email_key, address, at) VALUES ($1, $2, $3)")
        .bind(email_key)
        .bind(address)
        .bind(now)
        .execute(pool)
        .await
        .db()?;
    Ok(())
}

pub(super) async fn login_failures(
    pool: &PgPool,
    email_key: &str,
    address: &str,
    since: DateTime<Utc>,
) -> Result<(u32, u32)> {
    let (by_email, by_address): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM login_failures WHERE email_key = $1 AND at >= $3), \
                (SELECT COUNT(*) FROM login_failures WHERE address = $2 AND at >= $3)",
    )
    .bind(email_key)
    .bind(address)
    .bind(since)
    .fetch_one(pool)
    .await
    .db()?;
    let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
    Ok((count(by_email), count(by_address)))
}

pub(super) async fn clear_login_failures(pool: &PgPool, email_key: &str) -> Result<()> {
    sqlx::query("DELETE FROM login_failures WHERE email_key = $1").bind(email_key).execute(pool).await.db()?;
    Ok(())
}

pub(super) async fn prune_login_failures(pool: &PgPool, before: DateTime<Utc>) -> Result<u64> {
    let done = sqlx::query("DELETE FROM login_failures WHERE at < $1").bind(before).execute(pool).await.db()?;
    Ok(done.rows_affected())
}

// The audit log. `old_value` / `new_value` are JSONB, passed as text (sqlx runs without its
// `json` feature here).

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    at: DateTime<Utc>,
    actor_id: Option<i64>,
    action: String,
    subject_kind: String,
    subject_id: Option<i64>,
    address: String,
    detail: String,
    old_value: Option<String>,
    new_value: Option<String>,
}

fn json(what: &str, text: Option<String>) -> Result<Option<serde_json::Value>> {
    text.map(|t| {
        serde_json::from_str(&t).map_err(|e| Error::Storage(format!("stored audit {what} does not parse: {e}")))
    })
    .transpose()
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = Error;
    fn try_from(r: AuditRow) -> Result<Self> {
        Ok(AuditEntry {
            id: r.id,
            at: r.at,
            actor_id: r.actor_id.map(UserId),
            action: AuditAction::parse(&r.action).ok_or_else(|| corrupt("audit action", &r.action))?,
            subject_kind: r.subject_kind,
            subject_id: r.subject_id,
            address: r.address,
            detail: r.detail,
            old_value: json("old value", r.old_value)?,
            new_value: json("new value", r.new_value)?,
        })
    }
}

pub(super) async fn append_audit(pool: &PgPool, e: &NewAuditEntry) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor_id, action, subject_kind, subject_id, address, detail, old_value, new_value) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::JSONB, $9::JSONB)",
    )
    .bind(e.at)
    .bind(e.actor_id.map(|u| u.0))
    .bind(e.action.as_str())
    .bind(&e.subject_kind)
    .bind(e.subject_id)
    .bind(&e.address)
    .bind(&e.detail)
    .bind(e.old_value.as_ref().map(|v| v.to_string()))
    .bind(e.new_value.as_ref().map(|v| v.to_string()))
    .execute(pool)
    .await
    .map_err(write_error)?;
    Ok(())
}

pub(super) async fn list_audit(pool: &PgPool, f: &AuditFilter, page: PageRequest) -> Result<Page<AuditEntry>> {
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
        "SELECT id, at, actor_id, action, subject_kind, subject_id, address, detail, old_value::TEXT AS old_value, \
         new_value::TEXT AS new_value FROM audit_log WHERE 1 = 1",
    );
    if let Some(a) = f.actor {
        q.push(" AND actor_id = ").push_bind(a.0);
    }
    if let Some(a) = f.action {
        q.push(" AND action = ").push_bind(a.as_str());
    }
    if let Some(k) = &f.subject_kind {
        q.push(" AND subject_kind = ").push_bind(k.clone());
    }
    if let Some(id) = f.subject_id {
        q.push(" AND subject_id = ").push_bind(id);
    }
    if let Some(from) = f.from {
        q.push(" AND at >= ").push_bind(from);
    }
    if let Some(to) = f.to {
        q.push(" AND at < ").push_bind(to);
    }
    if let Some(after) = page.after {
        q.push(" AND id < ").push_bind(after);
    }
    q.push(" ORDER BY id DESC LIMIT ").push_bind(page.limit as i64 + 1);
    let rows: Vec<AuditRow> = q.build_query_as().fetch_all(pool).await.db()?;
    let items = rows.into_iter().map(TryInto::try_into).collect::<Result<Vec<AuditEntry>>>()?;
    Ok(Page::from_rows(items, page.limit, |e| e.id))
}
