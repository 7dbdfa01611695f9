//! People: the caller, users (admins manage them), passwords.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use salesflow_domain::Error;
use salesflow_domain::ids::UserId;
use salesflow_domain::records::{NewUser, Role, User, UserPatch};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::{Caller, password};
use crate::extract::{ApiJson, ApiPath};
use crate::problem::{ApiResult, Problem};

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserList {
    pub items: Vec<User>,
}

/// A new user, created by an admin.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub name: String,
    pub email: String,
    /// `zh-CN` or `en`.
    pub locale: String,
    /// IANA name, e.g. `Asia/Shanghai`.
    pub time_zone: String,
    pub role: Role,
    /// At least 10 characters.
    pub password: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    /// Required when changing one's own password.
    pub current_password: Option<String>,
    pub new_password: String,
}

/// The caller.
#[utoipa::path(get, path = "/api/v1/me", tag = "users", responses((status = 200, body = User), (status = 401, body = Problem)))]
pub async fn me(c: Caller) -> Json<User> {
    Json(c.user)
}

/// Every user (for owner pickers).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", responses((status = 200, body = UserList), (status = 401, body = Problem)))]
pub async fn list(c: Caller, State(s): State<AppState>) -> ApiResult<Json<UserList>> {
    Ok(Json(UserList { items: c.guarded(&s).users().await? }))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, body = User), (status = 404, body = Problem)))]
pub async fn get(c: Caller, State(s): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<User>> {
    Ok(Json(c.guarded(&s).user(UserId(id)).await?))
}

/// Creates a user (admins only).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUser,
    responses((status = 201, body = User), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    c: Caller,
    State(s): State<AppState>,
    ApiJson(req): ApiJson<CreateUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let g = c.guarded(&s);
    // Refuse non-admins before spending time on the hash.
    g.require_admin("create users", "user", None, s.clock.now()).await?;
    let mut new = NewUser {
        name: req.name,
        email: req.email,
        locale: req.locale,
        time_zone: req.time_zone,
        role: req.role,
        password_hash: None,
    };
    // Every bad field at once, the password's among them.
    let mut problems = match new.validate() {
        Err(Error::Invalid(errors)) => errors,
        _ => Vec::new(),
    };
    if let Err(Error::Invalid(errors)) = password::check_new("password", &req.password) {
        problems.extend(errors);
    }
    if !problems.is_empty() {
        return Err(Error::Invalid(problems).into());
    }
    new.password_hash = Some(password::hash(&req.password).await?);
    Ok((StatusCode::CREATED, Json(g.create_user(&new, s.clock.now()).await?)))
}

/// Changes a user: admins change anyone (role, activation included); users their own name,
/// language and time zone. Deactivating signs the user out everywhere and stops their tokens;
/// their records keep them as owner.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path)), request_body = UserPatch,
    responses((status = 200, body = User), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<UserPatch>,
) -> ApiResult<Json<User>> {
    let (old, new) = c.guarded(&s).update_user(UserId(id), &patch, s.clock.now()).await?;
    if old.role != new.role || old.active != new.active {
        s.tokens.clear();
    }
    Ok(Json(new))
}

/// Sets a password: one's own (with the current one), or anyone's as an admin (a reset).
/// Every session of the user ends.
#[utoipa::path(post, path = "/api/v1/users/{id}/password", tag = "users", params(("id" = i64, Path)), request_body = ChangePassword,
    responses((status = 204), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn set_password(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<ChangePassword>,
) -> ApiResult<StatusCode> {
    let id = UserId(id);
    password::check_new("new_password", &req.new_password)?;
    if id == c.user.id {
        let current = req.current_password.as_deref().unwrap_or("");
        if !password::verify(current, s.store.password_hash(id).await?).await {
            return Err(Error::invalid("current_password", "is wrong").into());
        }
    }
    let g = c.guarded(&s);
    if id != c.user.id {
        g.require_admin("reset passwords", "user", Some(id.0), s.clock.now()).await?;
    }
    let hash = password::hash(&req.new_password).await?;
    g.set_password(id, &hash, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
