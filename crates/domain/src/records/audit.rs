use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::UserId;

/// What happened, in the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    Create,
    Update,
    Delete,
    /// A deal moved to another stage.
    Move,
    /// A step ticked or unticked, a lead qualified or converted, a process published.
    Transition,
    Login,
    LoginFailed,
    Logout,
    /// Sign-in refused because of repeated failures.
    LoginThrottled,
    PasswordChanged,
    TokenCreated,
    TokenRevoked,
    /// Role, activation, team membership or a share changed.
    PermissionChanged,
    /// A request refused: a viewer writing, a role escalation, a forged CSRF token.
    Denied,
}

impl AuditAction {
    pub const ALL: [AuditAction; 14] = [
        AuditAction::Create,
        AuditAction::Update,
        AuditAction::Delete,
        AuditAction::Move,
        AuditAction::Transition,
        AuditAction::Login,
        AuditAction::LoginFailed,
        AuditAction::Logout,
        AuditAction::LoginThrottled,
        AuditAction::PasswordChanged,
        AuditAction::TokenCreated,
        AuditAction::TokenRevoked,
        AuditAction::PermissionChanged,
        AuditAction::Denied,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            AuditAction::Create => "create",
            AuditAction::Update => "update",
            AuditAction::Delete => "delete",
            AuditAction::Move => "move",
            AuditAction::Transition => "transition",
            AuditAction::Login => "login",
            AuditAction::LoginFailed => "login_failed",
            AuditAction::Logout => "logout",
            AuditAction::LoginThrottled => "login_throttled",
            AuditAction::PasswordChanged => "password_changed",
            AuditAction::TokenCreated => "token_created",
            AuditAction::TokenRevoked => "token_revoked",
            AuditAction::PermissionChanged => "permission_changed",
            AuditAction::Denied => "denied",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// One row of the append-only audit log.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// Absent for anonymous attempts (a failed sign-in with an unknown email).
    pub actor_id: Option<UserId>,
    pub action: AuditAction,
    /// `deal`, `lead`, `account`, `contact`, `user`, `team`, `api_token`, `process`, `session`, `share`.
    pub subject_kind: String,
    pub subject_id: Option<i64>,
    /// The client address.
    pub address: String,
    pub detail: String,
    pub old_value: Option<serde_json::Value>,
    pub new_value: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEntry {
    pub at: DateTime<Utc>,
    pub actor_id: Option<UserId>,
    pub action: AuditAction,
    pub subject_kind: String,
    pub subject_id: Option<i64>,
    pub address: String,
    pub detail: String,
    pub old_value: Option<serde_json::Value>,
    pub new_value: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    pub actor: Option<UserId>,
    pub action: Option<AuditAction>,
    pub subject_kind: Option<String>,
    pub subject_id: Option<i64>,
    /// Inclusive.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub to: Option<DateTime<Utc>>,
}
