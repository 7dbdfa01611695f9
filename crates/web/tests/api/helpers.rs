use std::sync::Arc;

use reqwest::StatusCode;
use salesflow_domain::clock::SystemClock;
use salesflow_domain::records::Role;
use salesflow_testkit::TestStore;
use serde_json::Value;

/// A running server on its own port and database, with an admin token.
pub struct App {
    pub backend: String,
    pub base: String,
    pub token: String,
    pub http: reqwest::Client,
    pub _store: TestStore,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

/// One app per available backend (SQLite always, PostgreSQL when installed or required).
pub async fn apps() -> Vec<App> {
    let mut out = Vec::new();
    for store in salesflow_testkit::stores().await {
        out.push(spawn(store).await);
    }
    out
}

async fn spawn(store: TestStore) -> App {
    let actor = salesflow_testkit::seed_user(store.store.as_ref(), Role::Admin).await;
    let token = salesflow_web::auth::new_token();
    store
        .store
        .create_api_token(actor.user, &salesflow_web::auth::token_hash(&token), "test", chrono::Utc::now())
        .await
        .expect("token");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let state = salesflow_web::AppState::new(store.store.clone(), Arc::new(SystemClock));
    tokio::spawn(salesflow_web::serve(listener, state, async {
        let _ = rx.await;
    }));
    App { backend: store.name.clone(), base, token, http: reqwest::Client::new(), _store: store, _shutdown: tx }
}

impl App {
    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let text = res.text().await.expect("body");
        let json =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        (status, json)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::PATCH, path, Some(body)).await
    }

    /// Asserts the status, labelling failures with the backend and the response body.
    pub fn expect(&self, what: &str, got: (StatusCode, Value), want: StatusCode) -> Value {
        assert_eq!(got.0, want, "[{}] {what}: {}", self.backend, got.1);
        got.1
    }

    /// The seed five-stage template (zh-CN), published through the API; returns its id.
    pub async fn seed_process(&self) -> i64 {
        let created = self.post(
            "/api/v1/process-templates/seed-five-stage.zh-CN/instantiate",
            serde_json::json!({ "publish": true }),
        );
        let v = self.expect("instantiate template", created.await, StatusCode::CREATED);
        assert_eq!(v["status"], "published");
        v["process_id"].as_i64().expect("process id")
    }
}

/// The field names a problem response reports.
pub fn problem_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|a| a.iter().map(|e| e["field"].as_str().unwrap_or("").to_string()).collect())
        .unwrap_or_default()
}
