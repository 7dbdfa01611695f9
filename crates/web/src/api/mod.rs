//! The REST API under `/api/v1`, and its OpenAPI document.

mod accounts;
mod audit;
mod contacts;
mod deals;
mod leads;
mod processes;
mod shares;
mod teams;
mod tokens;
mod users;

use axum::Router;
use axum::routing::{delete, get, post};
use serde::Deserialize;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};

use crate::AppState;
use crate::problem::{ApiError, ApiResult};
use salesflow_domain::records::PageRequest;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me", get(users::me))
        .route("/api/v1/users", get(users::list).post(users::create))
        .route("/api/v1/users/{id}", get(users::get).patch(users::update))
        .route("/api/v1/users/{id}/password", post(users::set_password))
        .route("/api/v1/teams", get(teams::list).post(teams::create))
        .route("/api/v1/teams/{id}", get(teams::get).patch(teams::update).delete(teams::delete))
        .route("/api/v1/tokens", get(tokens::list).post(tokens::create))
        .route("/api/v1/tokens/{id}", delete(tokens::revoke))
        .route("/api/v1/shares", get(shares::list).post(shares::create))
        .route("/api/v1/shares/{record_kind}/{record_id}/{user_id}", delete(shares::delete))
        .route("/api/v1/audit", get(audit::list))
        .route("/api/v1/accounts", get(accounts::list).post(accounts::create))
        .route("/api/v1/accounts/{id}", get(accounts::get).patch(accounts::update))
        .route("/api/v1/contacts", get(contacts::list).post(contacts::create))
        .route("/api/v1/contacts/{id}", get(contacts::get).patch(contacts::update))
        .route("/api/v1/leads", get(leads::list).post(leads::create))
        .route("/api/v1/leads/{id}", get(leads::get).patch(leads::update))
        .route("/api/v1/leads/{id}/duplicates", get(leads::duplicates))
        .route("/api/v1/leads/{id}/contacted", post(leads::contacted))
        .route("/api/v1/leads/{id}/qualify", post(leads::qualify))
        .route("/api/v1/leads/{id}/disqualify", post(leads::disqualify))
        .route("/api/v1/leads/{id}/convert", post(leads::convert))
        .route("/api/v1/deals", get(deals::list).post(deals::create))
        .route("/api/v1/deals/totals", get(deals::totals))
        .route("/api/v1/deals/{id}", get(deals::get).patch(deals::update))
        .route("/api/v1/deals/{id}/moves", get(deals::options).post(deals::move_deal))
        .route("/api/v1/deals/{id}/steps", post(deals::toggle_step))
        .route("/api/v1/deals/{id}/events", get(deals::events))
        .route("/api/v1/processes", get(processes::list).post(processes::create))
        .route("/api/v1/processes/validate", post(processes::validate))
        .route("/api/v1/processes/{id}", get(processes::get))
        .route("/api/v1/processes/{id}/event-log", get(processes::event_log))
        .route("/api/v1/processes/{id}/versions", post(processes::new_draft))
        .route("/api/v1/processes/{id}/versions/{version}", get(processes::version).put(processes::save_draft))
        .route("/api/v1/processes/{id}/versions/{version}/publish", post(processes::publish))
        .route("/api/v1/process-templates", get(processes::templates))
        .route("/api/v1/process-templates/{key}/instantiate", post(processes::instantiate))
        .route("/api/openapi.json", get(openapi_json))
}

/// The OpenAPI docs page, served from files compiled into the binary.
pub fn docs() -> Router<AppState> {
    Router::new().merge(utoipa_swagger_ui::SwaggerUi::new("/api/docs").url("/api/openapi-ui.json", ApiDoc::openapi()))
}

async fn openapi_json() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}

/// Keyset paging parameters shared by every list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// Rows per page, 1–200 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<i64>,
}

impl Paging {
    pub fn page(&self) -> ApiResult<PageRequest> {
        let limit = self.limit.unwrap_or(PageRequest::DEFAULT_LIMIT);
        if limit == 0 || limit > PageRequest::MAX_LIMIT {
            return Err(ApiError::field(
                axum::http::StatusCode::BAD_REQUEST,
                "limit",
                format!("must be between 1 and {}", PageRequest::MAX_LIMIT),
            ));
        }
        Ok(PageRequest { limit, after: self.cursor })
    }
}

/// A list page response: `{ items, next_cursor }`.
macro_rules! page_type {
    ($name:ident, $item:ty) => {
        #[derive(serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            /// Pass as `cursor` to get the next page; absent on the last page.
            pub next_cursor: Option<i64>,
        }

        impl From<salesflow_domain::records::Page<$item>> for $name {
            fn from(p: salesflow_domain::records::Page<$item>) -> Self {
                Self { items: p.items, next_cursor: p.next_cursor }
            }
        }
    };
}
pub(crate) use page_type;

struct SecurityAddon;

impl utoipa::Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        // Pages' requests: the session cookie, plus the `X-CSRF-Token` header on every
        // state-changing request.
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::session::COOKIE,
                "Set by signing in at /login; state-changing requests also send the session's CSRF token in X-CSRF-Token",
            ))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "salesflow API", description = "The sales process as a running system: processes, leads, accounts, contacts, deals and their event log. Errors are RFC 9457 problem documents (`application/problem+json`)."),
    modifiers(&SecurityAddon),
    security(("bearer" = []), ("session" = [])),
    paths(
        users::me, users::list, users::get, users::create, users::update, users::set_password,
        teams::list, teams::get, teams::create, teams::update, teams::delete,
        tokens::create, tokens::list, tokens::revoke,
        shares::list, shares::create, shares::delete,
        audit::list,
        accounts::list, accounts::create, accounts::get, accounts::update,
        contacts::list, contacts::create, contacts::get, contacts::update,
        leads::list, leads::create, leads::get, leads::update, leads::duplicates,
        leads::contacted, leads::qualify, leads::disqualify, leads::convert,
        deals::list, deals::totals, deals::create, deals::get, deals::update, deals::options, deals::move_deal,
        deals::toggle_step, deals::events,
        processes::list, processes::create, processes::validate, processes::get, processes::version,
        processes::save_draft, processes::new_draft, processes::publish, processes::event_log, processes::templates, processes::instantiate,
    ),
    tags(
        (name = "deals", description = "Deals moving through their process; every change is an event"),
        (name = "leads", description = "Leads: qualification, duplicates, conversion"),
        (name = "accounts"), (name = "contacts"), (name = "processes", description = "Versioned process flowcharts"),
        (name = "users"),
    )
)]
pub struct ApiDoc;
