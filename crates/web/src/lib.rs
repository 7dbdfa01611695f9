//! HTTP: the REST API under `/api/v1`, RFC 9457 problem responses, the OpenAPI document and
//! its docs page. Handlers parse input, ask the `Store`, and shape the answer; they never
//! write SQL and hold no business rules of their own.

pub mod analytics;
pub mod api;
pub mod auth;
pub mod extract;
pub mod i18n;
pub mod pages;
pub mod print;
pub mod problem;
pub mod routes;

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
    pub auth: Arc<auth::AuthConfig>,
    pub selling: Arc<SellingConfig>,
    /// Process event logs kept between analytics requests.
    pub analytics: Arc<analytics::Cache>,
}

/// Deployment settings of the selling tools.
#[derive(Debug, Clone)]
pub struct SellingConfig {
    /// A quote giving more than this discount (basis points of gross) needs a manager's approval.
    pub approval_threshold_bp: i64,
    /// The address customers reach this server at (`https://crm.example.com`, no trailing
    /// slash): the start of every customer quote link. Unset, links start with the address the
    /// sending request came to (its `Host`).
    pub public_url: Option<String>,
}

impl Default for SellingConfig {
    fn default() -> Self {
        Self { approval_threshold_bp: salesflow_domain::selling::DEFAULT_APPROVAL_THRESHOLD_BP, public_url: None }
    }
}

impl SellingConfig {
    /// The customer's page for a quote token, as a full address: the configured public address,
    /// else the request's own host, over HTTPS when the server is (`secure`: its cookies are
    /// marked `Secure`), else plain HTTP. A host with anything but letters, digits, dots, dashes,
    /// colons and brackets is not trusted: the link stays relative.
    pub fn customer_link(&self, headers: &axum::http::HeaderMap, token: &str, secure: bool) -> String {
        let path = format!("/q/{token}");
        if let Some(base) = &self.public_url {
            return format!("{base}{path}");
        }
        let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
        let plain = !host.is_empty()
            && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
        let scheme = if secure { "https" } else { "http" };
        if plain { format!("{scheme}://{host}{path}") } else { path }
    }
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self::with_auth(store, clock, auth::AuthConfig::default())
    }

    pub fn with_auth(store: Arc<dyn Store>, clock: Arc<dyn Clock>, auth: auth::AuthConfig) -> Self {
        Self {
            store,
            clock,
            tokens: Arc::new(auth::TokenCache::default()),
            auth: Arc::new(auth),
            selling: Arc::new(SellingConfig::default()),
            analytics: Arc::new(analytics::Cache::default()),
        }
    }

    pub fn with_selling(mut self, selling: SellingConfig) -> Self {
        self.selling = Arc::new(selling);
        self
    }

    /// Keeps analytics snapshots within `mb` megabytes (estimated).
    pub fn with_analytics_budget_mb(mut self, mb: usize) -> Self {
        self.analytics = Arc::new(analytics::Cache::with_budget_mb(mb));
        self
    }
}

/// The Content-Security-Policy of every response: nothing inline, nothing from elsewhere.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; \
form-action 'self'; frame-ancestors 'none'";

async fn health() -> &'static str {
    "ok"
}

/// Every route of the application, with the docs page's routes recorded too.
pub fn route_table() -> routes::Routes {
    api::routes()
        .merge(pages::routes())
        .get("/health", health)
        .external(axum::http::Method::GET, api::DOCS_PAGE)
        .external(axum::http::Method::GET, api::DOCS_SPEC)
}

/// The whole application: API, OpenAPI document, docs page and health check.
pub fn router(state: AppState) -> Router {
    let header = |name: &'static str, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(HeaderName::from_static(name), HeaderValue::from_static(value))
    };
    let proxies = auth::client::TrustedProxies(Arc::new(state.auth.trusted_proxies.clone()));
    route_table()
        .into_router()
        .merge(api::docs())
        .fallback(problem::not_found_fallback)
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::session::layer))
        .with_state(state)
        .layer(axum::Extension(proxies))
        .layer(axum::extract::DefaultBodyLimit::max(1024 * 1024))
        .layer(header("content-security-policy", CONTENT_SECURITY_POLICY))
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
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

#[cfg(test)]
mod tests {
    use super::SellingConfig;
    use axum::http::{HeaderMap, HeaderValue, header::HOST};

    fn host(h: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(HOST, HeaderValue::from_str(h).unwrap());
        headers
    }

    #[test]
    fn customer_links_are_whole_addresses() {
        let plain = SellingConfig::default();
        assert_eq!(plain.customer_link(&host("127.0.0.1:8080"), "q_x", false), "http://127.0.0.1:8080/q/q_x");
        assert_eq!(plain.customer_link(&host("crm.example.com"), "q_x", true), "https://crm.example.com/q/q_x");
        assert_eq!(plain.customer_link(&host("[::1]:80"), "q_x", false), "http://[::1]:80/q/q_x");
        // A host that could carry a path or markup is not echoed.
        assert_eq!(plain.customer_link(&host("evil.example/x?"), "q_x", false), "/q/q_x");
        assert_eq!(plain.customer_link(&HeaderMap::new(), "q_x", false), "/q/q_x");
        let public = SellingConfig { public_url: Some("https://crm.example.com".into()), ..Default::default() };
        assert_eq!(public.customer_link(&host("10.0.0.5"), "q_x", false), "https://crm.example.com/q/q_x");
    }
}
