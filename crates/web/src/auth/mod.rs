//! Who is asking, and from where. Programs send `Authorization: Bearer <token>`; browsers
//! carry a session cookie (see [`session`]) and, on every state-changing request, the CSRF
//! token of their session. Either way the handler receives a [`Caller`]: the user, the
//! [`Scope`] their records are reached through, and the request's origin for the audit log.
//! Handlers reach records only through [`Caller::guarded`].

pub mod client;
pub mod password;
pub mod session;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use rand::RngCore;
use salesflow_domain::access::Scope;
use salesflow_domain::guard::{Guarded, Origin};
use salesflow_domain::ids::TokenId;
use salesflow_domain::records::{Actor, AuditAction, NewAuditEntry, TokenScope, User};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::problem::ApiError;

/// A new secret: `prefix` + 32 random bytes in hex.
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

/// A new API token: `sf_` + 64 hex digits.
pub fn new_token() -> String {
    new_secret("sf_")
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Equal secrets, compared in constant time.
pub fn same_secret(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// How sign-in, sessions and throttling behave.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// A session unused this long ends.
    pub session_idle: chrono::Duration,
    /// A session ends this long after sign-in, however active.
    pub session_absolute: chrono::Duration,
    /// Mark cookies `Secure` (served over TLS, directly or behind a proxy).
    pub secure_cookies: bool,
    /// Failed sign-ins for one account within `throttle_window` before it is refused.
    pub max_failures_per_account: u32,
    /// Failed sign-ins from one address within `throttle_window` before it is refused.
    pub max_failures_per_address: u32,
    pub throttle_window: chrono::Duration,
    /// Reverse proxies whose `X-Forwarded-For` names the client (none by default).
    pub trusted_proxies: Vec<client::Network>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            session_idle: chrono::Duration::hours(2),
            session_absolute: chrono::Duration::hours(12),
            secure_cookies: false,
            max_failures_per_account: 5,
            max_failures_per_address: 20,
            throttle_window: chrono::Duration::minutes(15),
            trusted_proxies: Vec::new(),
        }
    }
}

/// A live token's user and scope, cached so that a busy client does not cost database reads
/// on every request. Entries live for `TTL`; revoking a token, changing a user, a team or a
/// role clears what they affect at once.
#[derive(Default)]
pub struct TokenCache {
    entries: RwLock<HashMap<String, (Cached, Instant)>>,
}

#[derive(Clone)]
struct Cached {
    token: TokenId,
    token_scope: TokenScope,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
    user: User,
    scope: Scope,
}

impl TokenCache {
    pub const TTL: Duration = Duration::from_secs(30);
    const MAX_ENTRIES: usize = 10_000;

    fn get(&self, hash: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Cached> {
        let entries = self.entries.read().expect("token cache lock");
        entries
            .get(hash)
            .filter(|(c, at)| at.elapsed() < Self::TTL && c.expires_at.is_none_or(|end| now < end))
            .map(|(c, _)| c.clone())
    }

    fn put(&self, hash: String, cached: Cached) {
        let mut entries = self.entries.write().expect("token cache lock");
        if entries.len() >= Self::MAX_ENTRIES {
            entries.retain(|_, (_, at)| at.elapsed() < Self::TTL);
        }
        entries.insert(hash, (cached, Instant::now()));
    }

    /// Forgets one token at once (revocation).
    pub fn forget_token(&self, id: TokenId) {
        self.entries.write().expect("token cache lock").retain(|_, (c, _)| c.token != id);
    }

    /// Forgets everything (a user, team or role changed).
    pub fn clear(&self) {
        self.entries.write().expect("token cache lock").clear();
    }
}

/// How the caller proved who they are.
#[derive(Debug, Clone)]
pub enum Credential {
    Token { id: TokenId, scope: TokenScope },
    Session { id_hash: String, csrf_token: String },
}

/// The authenticated caller.
pub struct Caller {
    pub user: User,
    pub scope: Scope,
    pub origin: Origin,
    pub credential: Credential,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        Actor { user: self.user.id, role: self.user.role }
    }

    /// The store as this caller may use it.
    pub fn guarded<'a>(&'a self, state: &'a AppState) -> Guarded<'a> {
        Guarded::new(&*state.store, &self.scope, &self.origin)
    }
}

/// The client's address: the TCP peer.
pub fn origin_of(parts: &Parts) -> Origin {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip());
    let trusted = parts.extensions.get::<client::TrustedProxies>();
    let address = match (peer, trusted) {
        (Some(peer), Some(trusted)) => trusted.client(peer, &parts.headers).to_string(),
        (Some(peer), None) => peer.to_string(),
        (None, _) => "unknown".into(),
    };
    Origin { address }
}

/// Appends an audit entry outside any caller's scope (sign-in attempts, refused credentials).
pub async fn audit(
    state: &AppState,
    origin: &Origin,
    actor: Option<&User>,
    action: AuditAction,
    subject: (&str, Option<i64>),
    detail: impl Into<String>,
) {
    let entry = NewAuditEntry {
        at: state.clock.now(),
        actor_id: actor.map(|u| u.id),
        action,
        subject_kind: subject.0.into(),
        subject_id: subject.1,
        address: origin.address.clone(),
        detail: detail.into(),
        old_value: None,
        new_value: None,
    };
    if let Err(e) = state.store.append_audit(&entry).await {
        tracing::error!(error = %e, "audit entry lost");
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let origin = origin_of(parts);
        if let Some(header) = parts.headers.get(axum::http::header::AUTHORIZATION) {
            let token = header
                .to_str()
                .ok()
                .and_then(|h| h.strip_prefix("Bearer "))
                .map(str::trim)
                .filter(|t| !t.is_empty() && t.len() <= 200)
                .ok_or_else(|| ApiError::unauthenticated("the Authorization header must be `Bearer <token>`"))?;
            let cached = match state.tokens.get(&token_hash(token), state.clock.now()) {
                Some(c) => c,
                None => {
                    let hash = token_hash(token);
                    let Some((api_token, user)) = state.store.authenticate_token(&hash, state.clock.now()).await?
                    else {
                        audit(
                            state,
                            &origin,
                            None,
                            AuditAction::Denied,
                            ("api_token", None),
                            "unknown, expired or revoked token",
                        )
                        .await;
                        return Err(ApiError::unauthenticated("the token is unknown, expired or revoked"));
                    };
                    let reach = state.store.team_reach(user.id).await?;
                    let cached = Cached {
                        token: api_token.id,
                        token_scope: api_token.scope,
                        expires_at: api_token.expires_at,
                        scope: Scope::for_user(&user, &reach),
                        user,
                    };
                    state.tokens.put(hash, cached.clone());
                    cached
                }
            };
            if cached.token_scope == TokenScope::Read && !is_safe(&parts.method) {
                audit(
                    state,
                    &origin,
                    Some(&cached.user),
                    AuditAction::Denied,
                    ("api_token", Some(cached.token.0)),
                    "write with a read-only token",
                )
                .await;
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "token-scope",
                    "Token scope too narrow",
                    "this token may only read (GET); create a read_write token to change data",
                ));
            }
            return Ok(Caller {
                user: cached.user,
                scope: cached.scope,
                origin,
                credential: Credential::Token { id: cached.token, scope: cached.token_scope },
            });
        }
        if let Some(signed_in) = parts.extensions.get::<session::SignedIn>().cloned() {
            // The session layer has checked the CSRF token of every unsafe request already;
            // this only makes sure it ran.
            if !is_safe(&parts.method) && parts.extensions.get::<session::CsrfChecked>().is_none() {
                return Err(session::csrf_problem());
            }
            let reach = state.store.team_reach(signed_in.user.id).await?;
            return Ok(Caller {
                scope: Scope::for_user(&signed_in.user, &reach),
                user: signed_in.user,
                origin,
                credential: Credential::Session { id_hash: signed_in.id_hash, csrf_token: signed_in.csrf_token },
            });
        }
        Err(ApiError::unauthenticated("send `Authorization: Bearer <token>` or sign in"))
    }
}
