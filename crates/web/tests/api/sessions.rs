//! Signing in from a browser, sessions, CSRF, throttling, token scopes and revocation, and
//! what lists and totals reveal — on every backend.

use std::time::Duration;

use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::{Method, StatusCode};
use salesflow_domain::ids::UserId;
use salesflow_domain::records::{NewApiToken, Role, TokenScope};
use salesflow_web::auth::AuthConfig;
use serde_json::{Value, json};

use crate::helpers::{App, apps, spawn_with};

/// A browser: no redirects followed, cookies kept by hand.
struct Browser {
    http: reqwest::Client,
    base: String,
    cookies: std::collections::BTreeMap<String, String>,
    /// Sent as `X-Forwarded-For`, as a reverse proxy in front would.
    forwarded_for: Option<String>,
}

impl Browser {
    fn new(app: &App) -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        Browser { http, base: app.base.clone(), cookies: Default::default(), forwarded_for: None }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn keep(&mut self, res: &reqwest::Response) {
        for v in res.headers().get_all(SET_COOKIE) {
            let v = v.to_str().expect("ascii cookie");
            let (pair, _) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = pair.split_once('=').expect("name=value");
            if val.is_empty() || v.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), val.to_string());
            }
        }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let mut req = req.header(COOKIE, self.cookie_header());
        if let Some(client) = &self.forwarded_for {
            req = req.header("x-forwarded-for", client);
        }
        let res = req.send().await.expect("request");
        self.keep(&res);
        let (status, headers) = (res.status(), res.headers().clone());
        (status, headers, res.text().await.expect("body"))
    }

    async fn get(&mut self, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let req = self.http.get(format!("{}{path}", self.base)).header("accept-language", "en");
        self.send(req).await
    }

    async fn form(&mut self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let req = self.http.post(format!("{}{path}", self.base)).header("accept-language", "en").form(fields);
        self.send(req).await
    }

    async fn json(&mut self, method: Method, path: &str, body: Value, csrf: Option<&str>) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base)).json(&body);
        if let Some(t) = csrf {
            req = req.header("x-csrf-token", t);
        }
        let (status, _, text) = self.send(req).await;
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// The CSRF token of the page's first form.
    fn csrf_in(html: &str) -> String {
        let at = html.find("name=\"_csrf\" value=\"").unwrap_or_else(|| panic!("no CSRF field in {html}"))
            + "name=\"_csrf\" value=\"".len();
        html[at..].split('"').next().expect("value").to_string()
    }

    /// Signs in through the form; returns the status.
    async fn sign_in(&mut self, email: &str, password: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let (_, _, page) = self.get("/login").await;
        let csrf = Self::csrf_in(&page);
        self.form("/login", &[("email", email), ("password", password), ("_csrf", &csrf)]).await
    }
}

async fn lead_count(app: &App) -> usize {
    app.get("/api/v1/leads?limit=200").await.1["items"].as_array().map(|a| a.len()).unwrap_or(0)
}

async fn audit_actions(app: &App, action: &str) -> Vec<Value> {
    let got = app.get(&format!("/api/v1/audit?action={action}&limit=200")).await;
    app.expect("audit", got, StatusCode::OK)["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn signing_in_rotates_the_session_and_every_page_write_needs_its_csrf_token() {
    for app in apps().await {
        let b = app.backend.clone();
        let rep = app.person(Role::Rep).await;
        let email = app.email_of(rep.id).await;
        let password = format!("password-{}!", rep.id);
        let mut browser = Browser::new(&app);

        let (status, headers, _) = browser.sign_in(&email, &password).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "[{b}] sign-in redirects home");
        let cookie = headers.get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_string()).collect::<Vec<_>>();
        let session = cookie.iter().find(|c| c.starts_with("sf_session=")).expect("session cookie");
        assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"), "[{b}] {session}");
        let first = browser.cookies["sf_session"].clone();

        // The home page greets the user and carries the CSRF token.
        let (status, headers, home) = browser.get("/").await;
        assert_eq!(status, StatusCode::OK, "[{b}] home");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "[{b}] {csp}");
        let csrf = Browser::csrf_in(&home);

        // The session authenticates API reads…
        let (status, me) = browser.json(Method::GET, "/api/v1/me", Value::Null, None).await;
        assert_eq!((status, me["id"].as_i64()), (StatusCode::OK, Some(rep.id)), "[{b}] session reads");

        // …but a write without the CSRF token, or with a forged one, changes nothing.
        let before = lead_count(&app).await;
        let lead = json!({ "name": "孙女士", "company": "晨光文具", "channel": "referral" });
        let (status, problem) = browser.json(Method::POST, "/api/v1/leads", lead.clone(), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "[{b}] no CSRF token: {problem}");
        assert_eq!(problem["type"], "/api/problems/csrf");
        let forged = "0".repeat(64);
        let (status, _) = browser.json(Method::POST, "/api/v1/leads", lead.clone(), Some(&forged)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "[{b}] forged CSRF token");
        assert_eq!(lead_count(&app).await, before, "[{b}] refused writes created nothing");
        let denied = audit_actions(&app, "denied").await;
        assert!(
            denied.iter().any(|e| e["detail"].as_str().unwrap_or("").contains("without a valid CSRF token")
                && e["actor_id"].as_i64() == Some(rep.id)),
            "[{b}] the refused attempts are audited: {denied:?}"
        );
        let (status, created) = browser.json(Method::POST, "/api/v1/leads", lead, Some(&csrf)).await;
        assert_eq!(status, StatusCode::CREATED, "[{b}] with the token: {created}");
        assert_eq!(created["lead"]["owner_id"].as_i64(), Some(rep.id));

        // Signing in again (the form fetched in another tab, the old cookie still sent)
        // replaces the session: the old id stops working.
        let kept = browser.cookies.remove("sf_session").expect("session");
        let (_, _, page) = browser.get("/login").await;
        browser.cookies.insert("sf_session".into(), kept);
        let csrf = Browser::csrf_in(&page);
        let (status, _, _) =
            browser.form("/login", &[("email", &email), ("password", &password), ("_csrf", &csrf)]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let second = browser.cookies["sf_session"].clone();
        assert_ne!(first, second, "[{b}] the session id changes at sign-in");
        let stale = reqwest::Client::new()
            .get(format!("{}/api/v1/me", app.base))
            .header(COOKIE, format!("sf_session={first}"))
            .send()
            .await
            .expect("request");
        assert_eq!(stale.status(), StatusCode::UNAUTHORIZED, "[{b}] the old session is gone");

        // A malformed cookie is refused and audited.
        let bad = reqwest::Client::new()
            .get(format!("{}/api/v1/me", app.base))
            .header(COOKIE, "sf_session=<script>")
            .send()
            .await
            .expect("request");
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST, "[{b}] malformed cookie");
        assert!(bad.text().await.unwrap().contains("malformed"));

        // Signing out needs the form's CSRF token, and ends the session.
        let (status, _, _) = browser.form("/logout", &[("_csrf", "wrong")]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "[{b}] sign-out without the token");
        let (_, _, home) = browser.get("/").await;
        let csrf = Browser::csrf_in(&home);
        let (status, _, _) = browser.form("/logout", &[("_csrf", &csrf)]).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "[{b}] sign-out");
        let (status, _) = browser.json(Method::GET, "/api/v1/me", Value::Null, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "[{b}] signed out");
        let (status, headers, _) = browser.get("/").await;
        assert_eq!((status, headers["location"].to_str().unwrap()), (StatusCode::SEE_OTHER, "/login"));

        let logins = audit_actions(&app, "login").await;
        assert!(logins.iter().filter(|e| e["actor_id"].as_i64() == Some(rep.id)).count() >= 2, "[{b}] logins audited");
        assert!(!audit_actions(&app, "logout").await.is_empty(), "[{b}] logout audited");
    }
}

#[tokio::test]
async fn repeated_failed_sign_ins_are_throttled_per_account_and_per_address() {
    for ts in salesflow_testkit::stores().await {
        let config = AuthConfig { max_failures_per_account: 3, max_failures_per_address: 6, ..AuthConfig::default() };
        let app = spawn_with(ts, config).await;
        let b = app.backend.clone();
        let rep = app.person(Role::Rep).await;
        let email = app.email_of(rep.id).await;
        let mut browser = Browser::new(&app);

        for _ in 0..3 {
            let (status, _, page) = browser.sign_in(&email, "wrong password!").await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "[{b}] wrong password");
            assert!(page.contains("Wrong email or password."), "[{b}] the error is shown beside the field");
            assert!(page.contains(&email), "[{b}] the email typed is kept");
        }
        // The right password no longer helps until the window has passed.
        let (status, headers, page) = browser.sign_in(&email, &format!("password-{}!", rep.id)).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "[{b}] throttled");
        assert!(headers.contains_key("retry-after"));
        assert!(page.contains("Too many failed sign-ins"), "[{b}] {page}");
        assert!(!browser.cookies.contains_key("sf_session"), "[{b}] no session while throttled");

        // Per address: failures for several unknown accounts add up.
        for i in 0..3 {
            let (status, _, _) = browser.sign_in(&format!("nobody{i}@example.com"), "whatever").await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "[{b}] unknown account {i}");
        }
        let (status, _, _) = browser.sign_in("someone.else@example.com", "whatever").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "[{b}] the address is throttled");

        assert_eq!(audit_actions(&app, "login_failed").await.len(), 6, "[{b}] every failure is audited");
        assert!(audit_actions(&app, "login_throttled").await.len() >= 2, "[{b}] throttled attempts are audited");

        // The sign-in page speaks Chinese to a Chinese browser.
        let zh = reqwest::Client::new()
            .get(format!("{}/login", app.base))
            .header("accept-language", "zh-CN,zh;q=0.9")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(zh.contains("登录 salesflow") && zh.contains("lang=\"zh-CN\""), "[{b}] {zh}");
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_is_throttled_by_its_own_address() {
    for ts in salesflow_testkit::stores().await {
        let loopback = salesflow_web::auth::client::Network::parse("127.0.0.0/8").unwrap();
        let config =
            AuthConfig { max_failures_per_address: 2, trusted_proxies: vec![loopback], ..AuthConfig::default() };
        let app = spawn_with(ts, config).await;
        let b = app.backend.clone();
        let mut one = Browser::new(&app);
        one.forwarded_for = Some("198.51.100.7".into());
        let mut two = Browser::new(&app);
        two.forwarded_for = Some("203.0.113.9".into());
        for i in 0..2 {
            let (status, _, _) = one.sign_in(&format!("nobody{i}@example.com"), "whatever").await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "[{b}]");
        }
        let (status, _, _) = one.sign_in("nobody9@example.com", "whatever").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "[{b}] the first client's address is throttled");
        let (status, _, _) = two.sign_in("nobody9@example.com", "whatever").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "[{b}] the second, behind the same proxy, is not");
        let failed = audit_actions(&app, "login_failed").await;
        let addresses: Vec<&str> = failed.iter().filter_map(|e| e["address"].as_str()).collect();
        assert!(addresses.contains(&"198.51.100.7") && addresses.contains(&"203.0.113.9"), "[{b}] {addresses:?}");
    }
}

#[tokio::test]
async fn sessions_end_when_idle_and_tokens_obey_scope_expiry_and_revocation() {
    for ts in salesflow_testkit::stores().await {
        let config = AuthConfig { session_idle: chrono::Duration::seconds(2), ..AuthConfig::default() };
        let app = spawn_with(ts, config).await;
        let b = app.backend.clone();
        let rep = app.person(Role::Rep).await;

        // Idle expiry.
        let mut browser = Browser::new(&app);
        let (status, _, _) = browser.sign_in(&app.email_of(rep.id).await, &format!("password-{}!", rep.id)).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(browser.json(Method::GET, "/api/v1/me", Value::Null, None).await.0, StatusCode::OK);
        tokio::time::sleep(Duration::from_millis(2_300)).await;
        assert_eq!(
            browser.json(Method::GET, "/api/v1/me", Value::Null, None).await.0,
            StatusCode::UNAUTHORIZED,
            "[{b}] an idle session ends"
        );

        // A read token reads and may not write; the secret is shown once and never listed.
        let created = app.call_as(
            &rep.token,
            Method::POST,
            "/api/v1/tokens",
            Some(json!({ "label": "报表脚本", "scope": "read" })),
        );
        let created = app.expect("create token", created.await, StatusCode::CREATED);
        let secret = created["secret"].as_str().expect("secret").to_string();
        let id = created["token"]["id"].as_i64().expect("id");
        assert_eq!(app.call_as(&secret, Method::GET, "/api/v1/deals", None).await.0, StatusCode::OK);
        let write =
            app.call_as(&secret, Method::POST, "/api/v1/leads", Some(json!({ "name": "x", "channel": "other" }))).await;
        assert_eq!(write.0, StatusCode::FORBIDDEN, "[{b}] read scope: {}", write.1);
        assert_eq!(write.1["type"], "/api/problems/token-scope");
        let listed = app.call_as(&rep.token, Method::GET, "/api/v1/tokens", None).await.1;
        let listed_text = listed.to_string();
        assert!(!listed_text.contains(&secret) && !listed_text.contains("hash"), "[{b}] secrets never listed");
        let mine = listed["items"].as_array().unwrap().iter().find(|t| t["id"].as_i64() == Some(id)).cloned().unwrap();
        assert!(mine["last_used_at"].is_string(), "[{b}] last use recorded: {mine}");

        // Another rep cannot revoke it (and cannot tell it exists); its owner can, at once.
        let other = app.person(Role::Rep).await;
        let path = format!("/api/v1/tokens/{id}");
        assert_eq!(app.call_as(&other.token, Method::DELETE, &path, None).await.0, StatusCode::NOT_FOUND);
        assert_eq!(app.call_as(&rep.token, Method::DELETE, &path, None).await.0, StatusCode::OK);
        assert_eq!(
            app.call_as(&secret, Method::GET, "/api/v1/deals", None).await.0,
            StatusCode::UNAUTHORIZED,
            "[{b}] revoked tokens stop at once, cache or not"
        );

        // An expiring token stops at its expiry even though it was just used (and cached).
        let short = salesflow_web::auth::new_token();
        let new = NewApiToken {
            user_id: UserId(rep.id),
            token_hash: salesflow_web::auth::token_hash(&short),
            label: "short".into(),
            scope: TokenScope::ReadWrite,
            expires_at: Some(chrono::Utc::now() + chrono::Duration::seconds(1)),
        };
        app.store().create_api_token(&new, chrono::Utc::now()).await.expect("token");
        assert_eq!(app.call_as(&short, Method::GET, "/api/v1/me", None).await.0, StatusCode::OK);
        tokio::time::sleep(Duration::from_millis(1_300)).await;
        assert_eq!(
            app.call_as(&short, Method::GET, "/api/v1/me", None).await.0,
            StatusCode::UNAUTHORIZED,
            "[{b}] expired"
        );

        // Deactivating a user stops their tokens at once; their records keep their owner.
        let lead = app
            .call_as(
                &rep.token,
                Method::POST,
                "/api/v1/leads",
                Some(json!({ "name": "钱先生", "channel": "referral" })),
            )
            .await;
        let lead_id = app.expect("lead", lead, StatusCode::CREATED)["lead"]["id"].as_i64().unwrap();
        let off = app.patch(&format!("/api/v1/users/{}", rep.id), json!({ "active": false })).await;
        assert_eq!(app.expect("deactivate", off, StatusCode::OK)["active"], false);
        assert_eq!(app.call_as(&rep.token, Method::GET, "/api/v1/me", None).await.0, StatusCode::UNAUTHORIZED);
        let kept = app.get(&format!("/api/v1/leads/{lead_id}")).await.1;
        assert_eq!(kept["owner_id"].as_i64(), Some(rep.id), "[{b}] nothing is reassigned silently");
        assert!(!audit_actions(&app, "permission_changed").await.is_empty(), "[{b}] deactivation audited");
    }
}

#[tokio::test]
async fn managers_cannot_escalate_and_reps_see_only_their_own_numbers() {
    for app in apps().await {
        let b = app.backend.clone();
        let manager = app.person(Role::Manager).await;
        let rep_a = app.person(Role::Rep).await;
        let rep_c = app.person(Role::Rep).await;

        // Role escalation by a manager: refused, unchanged, audited.
        for target in [manager.id, rep_a.id] {
            let path = format!("/api/v1/users/{target}");
            let got = app.call_as(&manager.token, Method::PATCH, &path, Some(json!({ "role": "admin" }))).await;
            assert_eq!(got.0, StatusCode::FORBIDDEN, "[{b}] escalation of {target}: {}", got.1);
            assert_ne!(app.get(&path).await.1["role"], "admin");
        }
        let denied = audit_actions(&app, "denied").await;
        assert!(
            denied.iter().filter(|e| e["actor_id"].as_i64() == Some(manager.id)).count() >= 2,
            "[{b}] escalation attempts audited: {denied:?}"
        );
        // Creating users is for admins, and a password must be long enough.
        let new_user = json!({ "name": "新人", "email": "new.person@example.com", "locale": "en",
            "time_zone": "Europe/London", "role": "admin", "password": "short" });
        assert_eq!(
            app.call_as(&manager.token, Method::POST, "/api/v1/users", Some(new_user.clone())).await.0,
            StatusCode::FORBIDDEN
        );
        let short = app.post("/api/v1/users", new_user).await;
        assert_eq!(short.0, StatusCode::UNPROCESSABLE_ENTITY, "[{b}] {}", short.1);
        assert_eq!(crate::helpers::problem_fields(&short.1), vec!["password"]);
        let both = json!({ "name": "新人", "email": "not an email", "locale": "en",
            "time_zone": "Europe/London", "role": "rep", "password": "short" });
        let both = app.post("/api/v1/users", both).await;
        assert_eq!(crate::helpers::problem_fields(&both.1), vec!["email", "password"], "[{b}] every bad field at once");

        // Totals: a rep's count and sums leave out other reps' deals.
        let process = app.seed_process().await;
        deal_for(&app, &rep_a.token, process, 100_000).await;
        deal_for(&app, &rep_a.token, process, 250_000).await;
        deal_for(&app, &rep_c.token, process, 9_900_000).await;
        let mine = app.call_as(&rep_a.token, Method::GET, "/api/v1/deals/totals", None).await;
        let mine = app.expect("rep totals", mine, StatusCode::OK);
        assert_eq!(mine["count"], 2, "[{b}] {mine}");
        assert_eq!(mine["amount"], json!([{ "minor": 350_000, "currency": "CNY" }]), "[{b}] {mine}");
        let listed = app.call_as(&rep_a.token, Method::GET, "/api/v1/deals", None).await.1;
        assert_eq!(listed["items"].as_array().unwrap().len(), 2, "[{b}] the list agrees with the totals");
        let all = app.expect("admin totals", app.get("/api/v1/deals/totals").await, StatusCode::OK);
        assert_eq!(all["count"], 3, "[{b}] {all}");

        // Another rep's deal by id: 404, as if it did not exist.
        let c_deal =
            app.call_as(&rep_c.token, Method::GET, "/api/v1/deals", None).await.1["items"][0]["id"].as_i64().unwrap();
        let got = app.call_as(&rep_a.token, Method::GET, &format!("/api/v1/deals/{c_deal}"), None).await;
        assert_eq!(got.0, StatusCode::NOT_FOUND, "[{b}] {}", got.1);
        // Shared with A, it appears in A's list and totals; unshared, it is gone again.
        let share = json!({ "record_kind": "deal", "record_id": c_deal, "user_id": rep_a.id });
        app.expect(
            "share",
            app.call_as(&rep_c.token, Method::POST, "/api/v1/shares", Some(share)).await,
            StatusCode::CREATED,
        );
        let mine = app.call_as(&rep_a.token, Method::GET, "/api/v1/deals/totals", None).await.1;
        assert_eq!(mine["count"], 3, "[{b}] shared deal counted: {mine}");
        assert_eq!(
            app.call_as(&rep_a.token, Method::GET, &format!("/api/v1/deals/{c_deal}"), None).await.0,
            StatusCode::OK
        );
        let unshare = format!("/api/v1/shares/deal/{c_deal}/{}", rep_a.id);
        assert_eq!(app.call_as(&rep_c.token, Method::DELETE, &unshare, None).await.0, StatusCode::NO_CONTENT);
        assert_eq!(app.call_as(&rep_a.token, Method::GET, "/api/v1/deals/totals", None).await.1["count"], 2);

        // Every response carries the security headers, errors included.
        let res = reqwest::get(format!("{}/api/v1/nothing-here", app.base)).await.unwrap();
        for h in ["content-security-policy", "x-content-type-options", "referrer-policy", "x-frame-options"] {
            assert!(res.headers().contains_key(h), "[{b}] {h} missing on a 404");
        }
    }
}

async fn deal_for(app: &App, token: &str, process: i64, amount: i64) {
    let account =
        app.call_as(token, Method::POST, "/api/v1/accounts", Some(json!({ "name": format!("客户 {amount}") })));
    let account = app.expect("account", account.await, StatusCode::CREATED)["id"].as_i64().unwrap();
    let deal = json!({ "title": "采购", "account_id": account, "process_id": process,
        "amount": { "minor": amount, "currency": "CNY" } });
    app.expect("deal", app.call_as(token, Method::POST, "/api/v1/deals", Some(deal)).await, StatusCode::CREATED);
}
