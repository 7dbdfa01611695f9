use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{TeamId, TokenId, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Manager,
    Rep,
    Viewer,
}

impl Role {
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Rep => "rep",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [Role::Admin, Role::Manager, Role::Rep, Role::Viewer].into_iter().find(|r| r.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: UserId,
    pub name: String,
    pub email: String,
    /// `zh-CN` or `en`.
    pub locale: String,
    pub time_zone: String,
    pub role: Role,
    pub active: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct NewUser {
    pub name: String,
    pub email: String,
    pub locale: String,
    pub time_zone: String,
    pub role: Role,
    /// An argon2 PHC string, hashed by the caller; never read from input.
    #[serde(skip)]
    pub password_hash: Option<String>,
}

/// An admin's change to a user. Absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub name: Option<String>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    pub role: Option<Role>,
    /// `false` deactivates: sign-in, sessions and tokens stop working; records keep their owner.
    pub active: Option<bool>,
}

impl UserPatch {
    pub fn is_empty(&self) -> bool {
        self == &UserPatch::default()
    }
}

/// A sales team: its members, and the manager who sees and manages their records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    pub manager_id: Option<UserId>,
    pub members: Vec<UserId>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTeam {
    pub name: String,
    pub manager_id: Option<UserId>,
    #[serde(default)]
    pub members: Vec<UserId>,
}

/// Replaces the fields given. `manager_id: null` is not expressible: a team keeps a manager
/// once it has one, or is given another.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamPatch {
    pub name: Option<String>,
    pub manager_id: Option<UserId>,
    /// The whole new member list.
    pub members: Option<Vec<UserId>>,
}

/// The users whose records a user reaches through teams.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TeamReach {
    /// Members of the teams the user manages.
    pub managed: Vec<UserId>,
    /// Members of the teams the user belongs to (the user included).
    pub fellow: Vec<UserId>,
}

/// What an API token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    /// GET and HEAD only.
    Read,
    /// Everything its user may do.
    ReadWrite,
}

impl TokenScope {
    pub fn as_str(&self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::ReadWrite => "read_write",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [TokenScope::Read, TokenScope::ReadWrite].into_iter().find(|t| t.as_str() == s)
    }
}

/// An API token as its owner sees it; the secret itself is shown once and stored hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ApiToken {
    pub id: TokenId,
    pub user_id: UserId,
    pub label: String,
    pub scope: TokenScope,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct NewApiToken {
    pub user_id: UserId,
    /// SHA-256 of the secret, hex.
    pub token_hash: String,
    pub label: String,
    pub scope: TokenScope,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A signed-in browser. The cookie carries a random id; the store keeps only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSession {
    pub id_hash: String,
    pub user_id: UserId,
    /// Sent back with every state-changing request from a page.
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The absolute end, whatever the activity.
    pub expires_at: DateTime<Utc>,
    pub address: String,
    pub user_agent: String,
}

/// Which kind of record a share or an audit entry is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Account,
    Contact,
    Lead,
    Deal,
}

impl RecordKind {
    pub const ALL: [RecordKind; 4] = [RecordKind::Account, RecordKind::Contact, RecordKind::Lead, RecordKind::Deal];

    pub fn as_str(&self) -> &'static str {
        match self {
            RecordKind::Account => "account",
            RecordKind::Contact => "contact",
            RecordKind::Lead => "lead",
            RecordKind::Deal => "deal",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A record its owner's reach does not cover, opened to one more user (read and write, or
/// read only for a viewer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Share {
    pub record_kind: RecordKind,
    pub record_id: i64,
    pub user_id: UserId,
    pub shared_by: UserId,
    pub created_at: DateTime<Utc>,
}

/// Who is acting: every write records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub user: UserId,
    pub role: Role,
}

/// The two languages every screen speaks.
pub const LOCALES: [&str; 2] = ["zh-CN", "en"];

fn check_time_zone(p: &mut super::Problems, field: &str, tz: &str) {
    let ok = !tz.is_empty()
        && tz.len() <= 64
        && tz
            .split('/')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || "_+-".contains(c)));
    if !ok {
        p.push(field, format!("`{tz}` is not an IANA time zone name such as `Asia/Shanghai`"));
    }
}

impl NewUser {
    pub fn validate(&self) -> Result<(), crate::Error> {
        let mut p = super::Problems::default();
        p.text("name", &self.name, true, super::NAME_MAX);
        if crate::normalize::email(&self.email).is_none() {
            p.push("email", format!("`{}` is not an email address", self.email));
        }
        if !LOCALES.contains(&self.locale.as_str()) {
            p.push("locale", "must be `zh-CN` or `en`");
        }
        check_time_zone(&mut p, "time_zone", &self.time_zone);
        p.finish()
    }
}

impl UserPatch {
    pub fn validate(&self) -> Result<(), crate::Error> {
        let mut p = super::Problems::default();
        if let Some(name) = &self.name {
            p.text("name", name, true, super::NAME_MAX);
        }
        if let Some(locale) = &self.locale
            && !LOCALES.contains(&locale.as_str())
        {
            p.push("locale", "must be `zh-CN` or `en`");
        }
        if let Some(tz) = &self.time_zone {
            check_time_zone(&mut p, "time_zone", tz);
        }
        p.finish()
    }
}

impl NewTeam {
    pub fn validate(&self) -> Result<(), crate::Error> {
        let mut p = super::Problems::default();
        p.text("name", &self.name, true, super::NAME_MAX);
        p.finish()
    }
}

impl TeamPatch {
    pub fn validate(&self) -> Result<(), crate::Error> {
        let mut p = super::Problems::default();
        if let Some(name) = &self.name {
            p.text("name", name, true, super::NAME_MAX);
        }
        p.finish()
    }
}
