use std::sync::Arc;

use reqwest::StatusCode;
use salesflow_domain::clock::SystemClock;
use salesflow_domain::ids::UserId;
use salesflow_domain::records::{NewApiToken, Role, TokenScope};
use salesflow_domain::store::Store;
use salesflow_testkit::TestStore;
use salesflow_web::auth::AuthConfig;
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

/// A user of the app under test and their read-write API token.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: i64,
    pub token: String,
}

/// A token for `user` with `scope`, created in the store.
pub async fn token_for(store: &dyn Store, user: UserId, scope: TokenScope) -> String {
    let token = salesflow_web::auth::new_token();
    let new = NewApiToken {
        user_id: user,
        token_hash: salesflow_web::auth::token_hash(&token),
        label: "test".into(),
        scope,
        expires_at: None,
    };
    store.create_api_token(&new, chrono::Utc::now()).await.expect("token");
    token
}

async fn spawn(store: TestStore) -> App {
    spawn_with(store, AuthConfig::default()).await
}

/// An app with its own sign-in settings.
pub async fn spawn_with(store: TestStore, auth: AuthConfig) -> App {
    let actor = salesflow_testkit::seed_user(store.store.as_ref(), Role::Admin).await;
    let token = token_for(&*store.store, actor.user, TokenScope::ReadWrite).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let state = salesflow_web::AppState::with_auth(store.store.clone(), Arc::new(SystemClock), auth);
    tokio::spawn(salesflow_web::serve(listener, state, async {
        let _ = rx.await;
    }));
    App { backend: store.name.clone(), base, token, http: reqwest::Client::new(), _store: store, _shutdown: tx }
}

impl App {
    pub fn store(&self) -> &dyn Store {
        &*self._store.store
    }

    /// A new active user with `role`, a password (`password-<id>!`) and a read-write token.
    pub async fn person(&self, role: Role) -> Person {
        let actor = salesflow_testkit::seed_user(self.store(), role).await;
        let hash = salesflow_web::auth::password::hash(&format!("password-{}!", actor.user.0)).await.expect("hash");
        self.store().set_password_hash(actor.user, &hash, chrono::Utc::now()).await.expect("password");
        Person { id: actor.user.0, token: token_for(self.store(), actor.user, TokenScope::ReadWrite).await }
    }

    /// The email `seed_user` gave a user.
    pub async fn email_of(&self, id: i64) -> String {
        self.store().user(UserId(id)).await.expect("user").email
    }

    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.call_as(&self.token, method, path, body).await
    }

    /// A request with `token` (empty: no Authorization header).
    pub async fn call_as(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if !token.is_empty() {
            req = req.bearer_auth(token);
        }
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

/// A PDF's text as poppler's `pdftotext -layout` reads it; `None` (skipped) outside CI when
/// poppler-utils is not installed.
pub fn pdf_text(bytes: &[u8]) -> Option<String> {
    assert!(bytes.starts_with(b"%PDF-"), "a PDF file: {:?}", String::from_utf8_lossy(&bytes[..bytes.len().min(200)]));
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("doc.pdf");
    std::fs::write(&file, bytes).expect("write pdf");
    match std::process::Command::new("pdftotext").arg("-layout").arg(&file).arg("-").output() {
        Ok(out) => {
            assert!(out.status.success(), "pdftotext: {}", String::from_utf8_lossy(&out.stderr));
            Some(String::from_utf8(out.stdout).expect("utf-8"))
        }
        Err(_) if std::env::var("CI").is_err() => {
            eprintln!("skipped reading a PDF back: pdftotext (poppler-utils) is not installed");
            None
        }
        Err(e) => panic!("pdftotext is needed in CI: {e}"),
    }
}

impl App {
    /// GET `path` with a bearer token, the body as bytes with its content type.
    pub async fn bytes_as(&self, token: &str, path: &str) -> (StatusCode, String, Vec<u8>) {
        let res = self.http.get(format!("{}{path}", self.base)).bearer_auth(token).send().await.expect("request");
        let status = res.status();
        let kind = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        (status, kind, res.bytes().await.expect("body").to_vec())
    }
}
