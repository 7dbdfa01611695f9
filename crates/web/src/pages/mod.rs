//! Server-rendered pages (askama templates in `crates/web/templates/`, escaped by default;
//! htmx and the page scripts in `crates/web/static/`, served by [`assets`]). Every page speaks
//! the user's language (or the browser's before sign-in) and reaches records only through
//! [`Ctx::guarded`], the same checks as the API.
//!
//! One module per area: `home`, `crm` (leads, accounts, contacts, deals list, processes),
//! `board` (the pipeline board), `deal` (the deal page).

pub mod analytics;
pub mod assets;
pub mod board;
pub mod contract;
pub mod crm;
pub mod deal;
pub mod documents;
pub mod format;
pub mod home;
pub mod price_books;
pub mod quote;

use askama::Template;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use salesflow_domain::guard::Guarded;
use salesflow_domain::normalize;
use salesflow_domain::records::{AuditAction, User, UserPatch};

use crate::AppState;
use crate::auth::session::{self, COOKIE, LOGIN_CSRF_COOKIE, SignedIn};
use crate::auth::{Caller, audit, new_secret, origin_of, password, same_secret};
use crate::i18n::{Locale, Texts};
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::default()
        .get("/login", login_form)
        .post("/login", login)
        .post("/logout", logout)
        .post("/me/locale", switch_locale)
        .get("/static/{*file}", assets::serve)
        .merge(home::routes())
        .merge(analytics::routes())
        .merge(crm::routes())
        .merge(board::routes())
        .merge(deal::routes())
        .merge(quote::routes())
        .merge(contract::routes())
        .merge(documents::routes())
        .merge(price_books::routes())
}

/// What every page's layout needs.
pub struct Chrome<'a> {
    pub lang: &'static str,
    pub t: &'static Texts,
    /// The session's CSRF token (empty before sign-in).
    pub csrf: &'a str,
    pub user: Option<&'a User>,
    /// The navigation entry to highlight: `home`, `leads`, `accounts`, `contacts`, `deals`,
    /// `board`, `processes`.
    pub active: &'static str,
}

/// A signed-in page request: the caller (with their scope), their language and time zone.
/// Without a session it redirects to the sign-in page.
pub struct Ctx {
    pub caller: Caller,
    pub locale: Locale,
    pub t: &'static Texts,
    pub csrf: String,
    pub tz: chrono_tz::Tz,
}

impl Ctx {
    pub fn guarded<'a>(&'a self, state: &'a AppState) -> Guarded<'a> {
        self.caller.guarded(state)
    }

    pub fn user(&self) -> &User {
        &self.caller.user
    }

    pub fn chrome(&self, active: &'static str) -> Chrome<'_> {
        Chrome { lang: self.locale.tag(), t: self.t, csrf: &self.csrf, user: Some(&self.caller.user), active }
    }
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(signed_in) = parts.extensions.get::<SignedIn>().cloned() else {
            return Err(Redirect::to("/login").into_response());
        };
        // Pages authenticate by session only; a bearer token does not open them.
        parts.headers.remove(header::AUTHORIZATION);
        let caller = Caller::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        let locale = Locale::parse(&signed_in.user.locale).unwrap_or_else(|| Locale::from_headers(&parts.headers));
        let tz = signed_in.user.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
        Ok(Ctx { caller, locale, t: locale.texts(), csrf: signed_in.csrf_token, tz })
    }
}

/// A page for an error the user can understand (not found, forbidden, conflict), in their language.
pub fn error_page(ctx: &Ctx, error: salesflow_domain::Error) -> Response {
    use salesflow_domain::Error;
    let (status, message) = match &error {
        Error::NotFound { .. } => (StatusCode::NOT_FOUND, ctx.t.common.not_found),
        Error::Forbidden(_) => (StatusCode::FORBIDDEN, ctx.t.common.forbidden),
        Error::Conflict(_) => (StatusCode::CONFLICT, ctx.t.common.conflict),
        Error::Invalid(_) | Error::GateBlocked(_) | Error::ProcessInvalid(_) => {
            (StatusCode::UNPROCESSABLE_ENTITY, ctx.t.common.fix_errors)
        }
        _ => return crate::problem::ApiError::from(error).into_response(),
    };
    let mut res = render(&ErrorPage { chrome: ctx.chrome(""), message });
    *res.status_mut() = status;
    res
}

#[derive(Template)]
#[template(
    source = "{% extends \"layout.html\" %}{% block content %}<section class=\"card\"><p class=\"error\" role=\"alert\">{{ message }}</p></section>{% endblock %}",
    ext = "html"
)]
struct ErrorPage<'a> {
    chrome: Chrome<'a>,
    message: &'a str,
}

pub fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "page could not be rendered").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    chrome: Chrome<'a>,
    csrf: &'a str,
    email: &'a str,
    form_error: Option<&'a str>,
    email_error: Option<&'a str>,
    password_error: Option<&'a str>,
}

struct LoginView<'a> {
    email: &'a str,
    form_error: Option<&'a str>,
    email_error: Option<&'a str>,
    password_error: Option<&'a str>,
}

/// The sign-in form with a fresh double-submit CSRF token in a cookie and a hidden field.
fn login_page(s: &AppState, headers: &HeaderMap, status: StatusCode, view: LoginView<'_>) -> Response {
    let locale = Locale::from_headers(headers);
    let csrf = new_secret("");
    let chrome = Chrome { lang: locale.tag(), t: locale.texts(), csrf: "", user: None, active: "" };
    let mut res = render(&LoginPage {
        chrome,
        csrf: &csrf,
        email: view.email,
        form_error: view.form_error,
        email_error: view.email_error,
        password_error: view.password_error,
    });
    *res.status_mut() = status;
    res.headers_mut().append(header::SET_COOKIE, session::set_cookie(&s.auth, LOGIN_CSRF_COOKIE, &csrf, 3600));
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

async fn login_form(State(s): State<AppState>, req: Request) -> Response {
    if req.extensions().get::<SignedIn>().is_some() {
        return Redirect::to("/").into_response();
    }
    login_page(
        &s,
        req.headers(),
        StatusCode::OK,
        LoginView { email: "", form_error: None, email_error: None, password_error: None },
    )
}

#[derive(serde::Deserialize, Default)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

async fn login(State(s): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let origin = origin_of(&parts);
    let headers = parts.headers;
    let t = Locale::from_headers(&headers).texts().common;
    let bytes = axum::body::to_bytes(body, 64 * 1024).await.unwrap_or_default();
    let form: LoginForm = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    let email = form.email.trim();
    let view = |form_error, email_error, password_error| LoginView { email, form_error, email_error, password_error };

    let cookie_csrf = session::cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if cookie_csrf.is_empty() || !same_secret(cookie_csrf, &form.csrf) {
        audit(&s, &origin, None, AuditAction::Denied, ("session", None), "sign-in without a valid CSRF token").await;
        return login_page(&s, &headers, StatusCode::FORBIDDEN, view(Some(t.form_expired), None, None));
    }
    if email.is_empty() || form.password.is_empty() {
        let (e, p) = (email.is_empty().then_some(t.required), form.password.is_empty().then_some(t.required));
        return login_page(&s, &headers, StatusCode::UNPROCESSABLE_ENTITY, view(None, e, p));
    }

    let now = s.clock.now();
    let key = normalize::email(email).unwrap_or_else(|| email.to_lowercase());
    let since = now - s.auth.throttle_window;
    match s.store.login_failures(&key, &origin.address, since).await {
        Ok((by_account, by_address))
            if by_account >= s.auth.max_failures_per_account || by_address >= s.auth.max_failures_per_address =>
        {
            let detail = format!("{key}: {by_account} failures for the account, {by_address} from the address");
            audit(&s, &origin, None, AuditAction::LoginThrottled, ("session", None), detail).await;
            let mut res = login_page(&s, &headers, StatusCode::TOO_MANY_REQUESTS, view(Some(t.throttled), None, None));
            let retry = s.auth.throttle_window.num_seconds().to_string();
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_str(&retry).expect("digits"));
            return res;
        }
        Ok(_) => {}
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    }

    let user = match s.store.user_by_email(&key).await {
        Ok(u) => u,
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    let hash = match &user {
        Some(u) if u.active => s.store.password_hash(u.id).await.ok().flatten(),
        _ => None,
    };
    if !password::verify(&form.password, hash).await {
        if let Err(e) = s.store.record_login_failure(&key, &origin.address, now).await {
            return crate::problem::ApiError::from(e).into_response();
        }
        audit(
            &s,
            &origin,
            user.as_ref(),
            AuditAction::LoginFailed,
            ("session", None),
            format!("sign-in as {key} failed"),
        )
        .await;
        return login_page(&s, &headers, StatusCode::UNAUTHORIZED, view(None, None, Some(t.wrong_credentials)));
    }
    let user = user.expect("a verified password has a user");
    if let Err(e) = s.store.clear_login_failures(&key).await {
        return crate::problem::ApiError::from(e).into_response();
    }
    let agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let id = match session::start(&s, &user, session::cookie(&headers, COOKIE), &origin, agent).await {
        Ok(id) => id,
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    audit(&s, &origin, Some(&user), AuditAction::Login, ("user", Some(user.id.0)), "signed in").await;
    let mut res = Redirect::to("/").into_response();
    let max_age = s.auth.session_absolute.num_seconds();
    res.headers_mut().append(header::SET_COOKIE, session::set_cookie(&s.auth, COOKIE, &id, max_age));
    res.headers_mut().append(header::SET_COOKIE, session::set_cookie(&s.auth, LOGIN_CSRF_COOKIE, "", 0));
    res
}

async fn logout(State(s): State<AppState>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let origin = origin_of(&parts);
    // The session layer has verified the CSRF token of this POST.
    if let Some(signed_in) = parts.extensions.get::<SignedIn>() {
        if let Err(e) = s.store.delete_session(&signed_in.id_hash).await {
            return crate::problem::ApiError::from(e).into_response();
        }
        audit(
            &s,
            &origin,
            Some(&signed_in.user),
            AuditAction::Logout,
            ("user", Some(signed_in.user.id.0)),
            "signed out",
        )
        .await;
    }
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut().append(header::SET_COOKIE, session::set_cookie(&s.auth, COOKIE, "", 0));
    res
}

#[derive(serde::Deserialize)]
struct LocaleForm {
    locale: String,
}

/// Switches the signed-in user's language and returns to the page they were on.
async fn switch_locale(ctx: Ctx, State(s): State<AppState>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let Ok(form) = serde_urlencoded::from_bytes::<LocaleForm>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let patch = UserPatch { locale: Some(form.locale), ..Default::default() };
    if let Err(e) = ctx.guarded(&s).update_user(ctx.user().id, &patch, s.clock.now()).await {
        return error_page(&ctx, e);
    }
    // Only a path on this site: never an open redirect.
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| rest.find('/').map(|i| rest[i..].to_string()))
        .filter(|p| p.starts_with('/') && !p.starts_with("//"))
        .unwrap_or_else(|| "/".into());
    Redirect::to(&back).into_response()
}
