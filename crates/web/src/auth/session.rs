//! Browser sessions: a random id in an HttpOnly, SameSite=Lax cookie, only its hash in the
//! database; idle and absolute expiry; a CSRF token per session that every state-changing
//! request from a page sends back (`X-CSRF-Token` header for htmx and scripts, `_csrf` field
//! for forms). This layer runs before every route, so no handler can forget the check.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use salesflow_domain::guard::Origin;
use salesflow_domain::records::{AuditAction, User, WebSession};

use super::{AuthConfig, audit, same_secret, token_hash};
use crate::AppState;
use crate::problem::ApiError;

pub const COOKIE: &str = "sf_session";
/// The double-submit cookie that protects the sign-in form itself.
pub const LOGIN_CSRF_COOKIE: &str = "sf_login_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "_csrf";
/// Form bodies read for their CSRF field at most this large.
const FORM_LIMIT: usize = 1024 * 1024;

/// The signed-in user of this request, put there by [`layer`].
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: User,
    pub id_hash: String,
    pub csrf_token: String,
}

/// Marks a request whose CSRF token matched.
#[derive(Debug, Clone, Copy)]
pub struct CsrfChecked;

pub fn csrf_problem() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "csrf",
        "CSRF token missing or wrong",
        "reload the page and try again: state-changing requests from a page must carry its CSRF token",
    )
}

/// The value of cookie `name`, if sent.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

fn well_formed(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `Set-Cookie` for a session id (or for removing it when `value` is empty).
pub fn set_cookie(config: &AuthConfig, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if config.secure_cookies { "; Secure" } else { "" };
    let max_age = if value.is_empty() { 0 } else { max_age };
    HeaderValue::from_str(&format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"))
        .expect("cookie characters are ASCII")
}

/// Starts a session for `user`, ending `previous` if the browser had one (the id always
/// changes at sign-in). Returns the cookie value.
pub async fn start(
    state: &AppState,
    user: &User,
    previous: Option<&str>,
    origin: &Origin,
    user_agent: &str,
) -> Result<String, salesflow_domain::Error> {
    if let Some(old) = previous.filter(|id| well_formed(id)) {
        state.store.delete_session(&token_hash(old)).await?;
    }
    let id = super::new_secret("");
    let now = state.clock.now();
    state
        .store
        .create_session(&WebSession {
            id_hash: token_hash(&id),
            user_id: user.id,
            csrf_token: super::new_secret(""),
            created_at: now,
            last_seen_at: now,
            expires_at: now + state.auth.session_absolute,
            address: origin.address.clone(),
            user_agent: user_agent.chars().take(300).collect(),
        })
        .await?;
    Ok(id)
}

/// The live session of this cookie value and its user, or `None` (expired sessions are removed).
async fn resume(state: &AppState, id: &str) -> Result<Option<SignedIn>, salesflow_domain::Error> {
    let hash = token_hash(id);
    let Some(session) = state.store.session(&hash).await? else { return Ok(None) };
    let now = state.clock.now();
    if now >= session.expires_at || now - session.last_seen_at >= state.auth.session_idle {
        state.store.delete_session(&hash).await?;
        return Ok(None);
    }
    let user = state.store.user(session.user_id).await?;
    if !user.active {
        state.store.delete_session(&hash).await?;
        return Ok(None);
    }
    if now - session.last_seen_at >= chrono::Duration::seconds(60) {
        state.store.touch_session(&hash, now).await?;
    }
    Ok(Some(SignedIn { user, id_hash: hash, csrf_token: session.csrf_token }))
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// The CSRF token a request carries: its header, or its form field (the body is read and put
/// back).
async fn presented_csrf(req: Request) -> Result<(Option<String>, Request), Response> {
    if let Some(v) = req.headers().get(CSRF_HEADER) {
        return Ok((v.to_str().ok().map(str::to_string), req));
    }
    if !is_form(req.headers()) {
        return Ok((None, req));
    }
    let (parts, body) = req.into_parts();
    let bytes: Bytes = axum::body::to_bytes(body, FORM_LIMIT).await.map_err(|_| {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body-too-large", "Body too large", "the form is too large")
            .into_response()
    })?;
    let token = form_urlencoded::parse(&bytes).find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v.into_owned());
    Ok((token, Request::from_parts(parts, Body::from(bytes))))
}

/// Paths that check their own CSRF protection (the sign-in form, before any session exists), or
/// need none: the customer's quote, whose token in the path is its only authority.
fn checks_itself(path: &str) -> bool {
    path == "/login" || path.starts_with("/q/") || path.starts_with("/api/v1/public/")
}

/// Resolves the session cookie and enforces CSRF on state-changing requests that rely on it.
pub async fn layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let origin = super::origin_of(&parts);
    let mut clear_cookie = false;
    if let Some(id) = cookie(&parts.headers, COOKIE).map(str::to_string) {
        if !well_formed(&id) {
            audit(&state, &origin, None, AuditAction::Denied, ("session", None), "malformed session cookie").await;
            let mut res = ApiError::bad_request("the session cookie is malformed; sign in again").into_response();
            res.headers_mut().append(header::SET_COOKIE, set_cookie(&state.auth, COOKIE, "", 0));
            return res;
        }
        match resume(&state, &id).await {
            Ok(Some(signed_in)) => {
                parts.extensions.insert(signed_in);
            }
            Ok(None) => clear_cookie = true,
            Err(e) => return ApiError::from(e).into_response(),
        }
    }
    req = Request::from_parts(parts, body);

    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let uses_session = req.headers().get(header::AUTHORIZATION).is_none();
    if unsafe_method
        && uses_session
        && !checks_itself(req.uri().path())
        && let Some(signed_in) = req.extensions().get::<SignedIn>().cloned()
    {
        let (presented, r) = match presented_csrf(req).await {
            Ok(x) => x,
            Err(res) => return res,
        };
        req = r;
        if !presented.is_some_and(|p| same_secret(&p, &signed_in.csrf_token)) {
            let detail = format!("{} {} without a valid CSRF token", req.method(), req.uri().path());
            audit(&state, &origin, Some(&signed_in.user), AuditAction::Denied, ("session", None), detail).await;
            return csrf_problem().into_response();
        }
        req.extensions_mut().insert(CsrfChecked);
    }

    let mut res = next.run(req).await;
    if clear_cookie && !res.headers().contains_key(header::SET_COOKIE) {
        res.headers_mut().append(header::SET_COOKIE, set_cookie(&state.auth, COOKIE, "", 0));
    }
    res
}
