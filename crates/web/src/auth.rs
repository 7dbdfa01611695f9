//! Who is asking: `Authorization: Bearer <token>`. Tokens are random, shown once, and stored
//! only as their SHA-256 hash.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use rand::RngCore;
use salesflow_domain::records::{Actor, User};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::problem::ApiError;

/// A new token: `sf_` + 32 random bytes in hex.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("sf_{}", hex::encode(bytes))
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Recently seen tokens, so that a busy client does not cost a database read per request.
/// An entry lives for `TTL`: a revoked or expired token stops working within that time.
#[derive(Default)]
pub struct TokenCache {
    entries: RwLock<HashMap<String, (User, Instant)>>,
}

impl TokenCache {
    pub const TTL: Duration = Duration::from_secs(30);
    const MAX_ENTRIES: usize = 10_000;

    fn get(&self, hash: &str) -> Option<User> {
        let entries = self.entries.read().expect("token cache lock");
        entries.get(hash).filter(|(_, at)| at.elapsed() < Self::TTL).map(|(u, _)| u.clone())
    }

    fn put(&self, hash: String, user: User) {
        let mut entries = self.entries.write().expect("token cache lock");
        if entries.len() >= Self::MAX_ENTRIES {
            entries.retain(|_, (_, at)| at.elapsed() < Self::TTL);
        }
        entries.insert(hash, (user, Instant::now()));
    }
}

/// The authenticated caller.
pub struct Caller {
    pub user: User,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        Actor { user: self.user.id, role: self.user.role }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthenticated("send `Authorization: Bearer <token>`"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 200)
            .ok_or_else(|| ApiError::unauthenticated("the Authorization header must be `Bearer <token>`"))?;
        let hash = token_hash(token);
        if let Some(user) = state.tokens.get(&hash) {
            return Ok(Caller { user });
        }
        let user = state
            .store
            .user_by_token(&hash, state.clock.now())
            .await?
            .ok_or_else(|| ApiError::unauthenticated("the token is unknown, expired or revoked"))?;
        state.tokens.put(hash, user.clone());
        Ok(Caller { user })
    }
}
