//! The REST API under `/api/v1`, and its OpenAPI document.

mod accounts;
mod contacts;
mod deals;
mod leads;
mod processes;

use axum::Router;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};

use crate::AppState;
use crate::auth::Caller;
use crate::problem::{ApiError, ApiResult, Problem};
use salesflow_domain::records::{PageRequest, User};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me", get(me))
        .route("/api/v1/users", get(users))
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

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserList {
    pub items: Vec<User>,
}

/// The caller.
#[utoipa::path(get, path = "/api/v1/me", tag = "users", responses((status = 200, body = User), (status = 401, body = Problem)))]
async fn me(caller: Caller) -> axum::Json<User> {
    axum::Json(caller.user)
}

/// Every user (for owner pickers).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", responses((status = 200, body = UserList), (status = 401, body = Problem)))]
async fn users(
    _caller: Caller,
    axum::extract::State(state): axum::extract::State<AppState>,
) -> ApiResult<axum::Json<UserList>> {
    Ok(axum::Json(UserList { items: state.store.list_users().await? }))
}

struct SecurityAddon;

impl utoipa::Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "salesflow API", description = "The sales process as a running system: processes, leads, accounts, contacts, deals and their event log. Errors are RFC 9457 problem documents (`application/problem+json`)."),
    modifiers(&SecurityAddon),
    security(("bearer" = [])),
    paths(
        me, users,
        accounts::list, accounts::create, accounts::get, accounts::update,
        contacts::list, contacts::create, contacts::get, contacts::update,
        leads::list, leads::create, leads::get, leads::update, leads::duplicates,
        leads::contacted, leads::qualify, leads::disqualify, leads::convert,
        deals::list, deals::create, deals::get, deals::update, deals::options, deals::move_deal,
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
