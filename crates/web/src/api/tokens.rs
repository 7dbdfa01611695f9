//! API tokens: created by their user, shown once, stored hashed, scoped, expiring, revocable.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use salesflow_domain::ids::TokenId;
use salesflow_domain::records::{ApiToken, NewApiToken, TokenScope};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::{Caller, new_token, token_hash};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::problem::{ApiResult, Problem};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    pub label: String,
    pub scope: TokenScope,
    /// When it stops working; absent for no expiry.
    pub expires_at: Option<DateTime<Utc>>,
}

/// The new token: `secret` is shown this once and never again.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    pub token: ApiToken,
    pub secret: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenList {
    pub items: Vec<ApiToken>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TokenQuery {
    /// Every user's tokens (admins only).
    #[serde(default)]
    all: bool,
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "users", request_body = CreateToken,
    responses((status = 201, body = CreatedToken), (status = 422, body = Problem)))]
pub async fn create(
    c: Caller,
    State(s): State<AppState>,
    ApiJson(req): ApiJson<CreateToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let secret = new_token();
    let new = NewApiToken {
        user_id: c.user.id,
        token_hash: token_hash(&secret),
        label: req.label,
        scope: req.scope,
        expires_at: req.expires_at,
    };
    let token = c.guarded(&s).create_token(&new, s.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { token, secret })))
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "users", params(TokenQuery),
    responses((status = 200, body = TokenList), (status = 403, body = Problem)))]
pub async fn list(
    c: Caller,
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<TokenQuery>,
) -> ApiResult<Json<TokenList>> {
    Ok(Json(TokenList { items: c.guarded(&s).tokens(q.all, s.clock.now()).await? }))
}

/// Revokes a token at once.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, body = ApiToken), (status = 404, body = Problem)))]
pub async fn revoke(c: Caller, State(s): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<ApiToken>> {
    let token = c.guarded(&s).revoke_token(TokenId(id), s.clock.now()).await?;
    s.tokens.forget_token(token.id);
    Ok(Json(token))
}
