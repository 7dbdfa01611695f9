//! The REST API under `/api/v1`, and its OpenAPI document.

mod accounts;
mod analytics;
mod audit;
mod catalog;
mod contacts;
mod customer;
mod deals;
mod event_log;
mod history_import;
mod leads;
mod processes;
mod selling;
mod shares;
mod teams;
mod tokens;
mod users;

use axum::Router;
use serde::Deserialize;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};

use crate::AppState;
use crate::problem::{ApiError, ApiResult};
use crate::routes::Routes;
use salesflow_domain::records::PageRequest;

pub fn routes() -> Routes {
    Routes::default()
        .get("/api/v1/me", users::me)
        .get("/api/v1/users", users::list)
        .post("/api/v1/users", users::create)
        .get("/api/v1/users/{id}", users::get)
        .patch("/api/v1/users/{id}", users::update)
        .post("/api/v1/users/{id}/password", users::set_password)
        .get("/api/v1/teams", teams::list)
        .post("/api/v1/teams", teams::create)
        .get("/api/v1/teams/{id}", teams::get)
        .patch("/api/v1/teams/{id}", teams::update)
        .delete("/api/v1/teams/{id}", teams::delete)
        .get("/api/v1/tokens", tokens::list)
        .post("/api/v1/tokens", tokens::create)
        .delete("/api/v1/tokens/{id}", tokens::revoke)
        .get("/api/v1/shares", shares::list)
        .post("/api/v1/shares", shares::create)
        .delete("/api/v1/shares/{record_kind}/{record_id}/{user_id}", shares::delete)
        .get("/api/v1/audit", audit::list)
        .get("/api/v1/accounts", accounts::list)
        .post("/api/v1/accounts", accounts::create)
        .get("/api/v1/accounts/{id}", accounts::get)
        .patch("/api/v1/accounts/{id}", accounts::update)
        .get("/api/v1/contacts", contacts::list)
        .post("/api/v1/contacts", contacts::create)
        .get("/api/v1/contacts/{id}", contacts::get)
        .patch("/api/v1/contacts/{id}", contacts::update)
        .get("/api/v1/leads", leads::list)
        .post("/api/v1/leads", leads::create)
        .get("/api/v1/leads/{id}", leads::get)
        .patch("/api/v1/leads/{id}", leads::update)
        .get("/api/v1/leads/{id}/duplicates", leads::duplicates)
        .post("/api/v1/leads/{id}/contacted", leads::contacted)
        .post("/api/v1/leads/{id}/qualify", leads::qualify)
        .post("/api/v1/leads/{id}/disqualify", leads::disqualify)
        .post("/api/v1/leads/{id}/convert", leads::convert)
        .get("/api/v1/deals", deals::list)
        .post("/api/v1/deals", deals::create)
        .get("/api/v1/deals/totals", deals::totals)
        .get("/api/v1/deals/{id}", deals::get)
        .patch("/api/v1/deals/{id}", deals::update)
        .get("/api/v1/deals/{id}/moves", deals::options)
        .post("/api/v1/deals/{id}/moves", deals::move_deal)
        .post("/api/v1/deals/{id}/steps", deals::toggle_step)
        .get("/api/v1/deals/{id}/events", deals::events)
        .get("/api/v1/deals/{id}/needs", selling::needs)
        .put("/api/v1/deals/{id}/needs", selling::save_needs)
        .get("/api/v1/deals/{id}/recommendations", selling::recommendations)
        .get("/api/v1/deals/{id}/quotes", selling::quotes)
        .post("/api/v1/deals/{id}/quotes", selling::create_quote)
        .post("/api/v1/deals/{id}/quotes/from-products", selling::quote_from_products)
        .get("/api/v1/deals/{id}/quotes/compare", selling::compare)
        .put("/api/v1/deals/{id}/quotes/{number}", selling::edit_quote)
        .post("/api/v1/deals/{id}/quotes/{number}/discount-request", selling::request_discount)
        .post("/api/v1/deals/{id}/quotes/{number}/discount-decision", selling::decide_discount)
        .post("/api/v1/deals/{id}/quotes/{number}/send", selling::send_quote)
        .get("/api/v1/deals/{id}/contracts", selling::contracts)
        .post("/api/v1/deals/{id}/contracts", selling::create_contract)
        .patch("/api/v1/deals/{id}/contracts/{contract}", selling::update_contract)
        .get("/api/v1/deals/{id}/contracts/{contract}/pdf", selling::contract_pdf)
        .get("/api/v1/deals/{id}/quotes/{number}/pdf", selling::quote_pdf)
        .get("/api/v1/deals/{id}/objections", selling::objections)
        .post("/api/v1/deals/{id}/objections", selling::raise_objection)
        .patch("/api/v1/deals/{id}/objections/{objection}", selling::update_objection)
        .get("/api/v1/processes/{id}/playbooks/{stage}", selling::playbook)
        .put("/api/v1/processes/{id}/playbooks/{stage}", selling::save_playbook)
        .get("/api/v1/products", selling::products)
        .post("/api/v1/products", selling::create_product)
        .get("/api/v1/price-books", selling::price_books)
        .post("/api/v1/price-books", selling::save_price_book)
        .get("/api/v1/products/export.csv", catalog::export)
        .post("/api/v1/products/import", catalog::import)
        .get("/api/v1/public/quotes/{token}", customer::view)
        .post("/api/v1/public/quotes/{token}/accept", customer::accept)
        .post("/api/v1/public/quotes/{token}/reject", customer::reject)
        .get("/api/v1/processes", processes::list)
        .post("/api/v1/processes", processes::create)
        .post("/api/v1/processes/validate", processes::validate)
        .get("/api/v1/processes/{id}", processes::get)
        .get("/api/v1/processes/{id}/event-log", event_log::export)
        .post("/api/v1/processes/{id}/import", history_import::import)
        .get("/api/v1/processes/{id}/analytics", analytics::report)
        .get("/api/v1/processes/{id}/analytics/heatmap.svg", analytics::heatmap)
        .post("/api/v1/processes/{id}/versions", processes::new_draft)
        .get("/api/v1/processes/{id}/versions/{version}", processes::version)
        .put("/api/v1/processes/{id}/versions/{version}", processes::save_draft)
        .post("/api/v1/processes/{id}/versions/{version}/publish", processes::publish)
        .post("/api/v1/processes/{id}/versions/{version}/retire", processes::retire)
        .post("/api/v1/processes/{id}/migrations/preview", processes::preview_migration)
        .post("/api/v1/processes/{id}/migrations", processes::migrate)
        .post("/api/v1/processes/layout", processes::layout)
        .get("/api/v1/processes/{id}/versions/{version}/diagram.svg", processes::diagram_svg)
        .get("/api/v1/processes/{id}/versions/{version}/diagram.png", processes::diagram_png)
        .get("/api/v1/processes/{id}/versions/{version}/flowchart.mmd", processes::flowchart_mermaid)
        .get("/api/v1/processes/{id}/versions/{version}/flowchart.drawio", processes::flowchart_drawio)
        .get("/api/v1/processes/{id}/versions/{version}/flowchart.bpmn", processes::flowchart_bpmn)
        .post("/api/v1/processes/import/bpmn", processes::import_bpmn)
        .get("/api/v1/process-templates", processes::templates)
        .post("/api/v1/process-templates/{key}/instantiate", processes::instantiate)
        .get("/api/openapi.json", openapi_json)
}

/// Where the docs page and the document it reads are served.
pub const DOCS_PAGE: &str = "/api/docs/";
pub const DOCS_SPEC: &str = "/api/openapi-ui.json";

/// The OpenAPI docs page, served from files compiled into the binary.
pub fn docs() -> Router<AppState> {
    Router::new().merge(utoipa_swagger_ui::SwaggerUi::new("/api/docs").url(DOCS_SPEC, ApiDoc::openapi()))
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
    info(title = "salesflow API", description = "The sales process as a running system: processes, leads, accounts, contacts, deals and their event log; needs, catalog, quotes and contracts; users, teams, shares, API tokens and the audit log. Every caller sees only the records their role and teams reach (others answer 404). Programs send `Authorization: Bearer <token>`; pages use the session cookie plus `X-CSRF-Token`. Errors are RFC 9457 problem documents (`application/problem+json`)."),
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
        processes::save_draft, processes::new_draft, processes::publish, event_log::export, processes::templates, processes::instantiate,
        processes::diagram_svg, processes::flowchart_mermaid, processes::flowchart_drawio, processes::flowchart_bpmn,
        processes::import_bpmn, processes::diagram_png, processes::retire, processes::preview_migration, processes::migrate, processes::layout,
        selling::products, selling::create_product, selling::price_books, selling::save_price_book, selling::needs, selling::save_needs, selling::recommendations,
        selling::quotes, selling::create_quote, selling::quote_from_products, selling::compare, selling::edit_quote, selling::request_discount,
        selling::decide_discount, selling::send_quote, selling::contracts, selling::create_contract,
        selling::update_contract, selling::quote_pdf, selling::contract_pdf, catalog::export, catalog::import,
        selling::objections, selling::raise_objection, selling::update_objection, selling::playbook,
        selling::save_playbook,
        customer::view, customer::accept, customer::reject,
        analytics::report, analytics::heatmap, history_import::import,
    ),
    tags(
        (name = "deals", description = "Deals moving through their process; every change is an event"),
        (name = "selling", description = "Needs analysis, catalog, recommendations, quote versions with discount approval, contracts"),
        (name = "customer", description = "The customer's quote, reached by its link token without signing in"),
        (name = "leads", description = "Leads: qualification, duplicates, conversion"),
        (name = "accounts"), (name = "contacts"), (name = "processes", description = "Versioned process flowcharts"),
        (name = "analytics", description = "Funnel, time in stage, bottlenecks and the heat map, over the deals the caller may read"),
        (name = "users", description = "Users, teams, record shares, API tokens and the audit log"),
    )
)]
pub struct ApiDoc;
