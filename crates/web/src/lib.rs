//! HTTP: the REST API under `/api/v1`, RFC 9457 problem responses, the OpenAPI document and
//! its docs page. Handlers parse input, ask the `Store`, and shape the answer; they never
//! write SQL and hold no business rules of their own.

pub mod api;
pub mod auth;
pub mod extract;
pub mod problem;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, HeaderValue};
use salesflow_domain::clock::Clock;
use salesflow_domain::store::Store;
use tower_http::set_header::SetResponseHeaderLayer;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub tokens: Arc<auth::TokenCache>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock, tokens: Arc::new(auth::TokenCache::default()) }
    }
}

/// The whole application: API, OpenAPI document, docs page and health check.
pub fn router(state: AppState) -> Router {
    let header = |name: &'static str, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(HeaderName::from_static(name), HeaderValue::from_static(value))
    };
    Router::new()
        .merge(api::routes())
        .merge(api::docs())
        .route("/health", axum::routing::get(|| async { "ok" }))
        .fallback(problem::not_found_fallback)
        .with_state(state)
        .layer(axum::extract::DefaultBodyLimit::max(1024 * 1024))
        .layer(header("x-content-type-options", "nosniff"))
        .layer(header("referrer-policy", "same-origin"))
        .layer(header("x-frame-options", "DENY"))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await
}
