//! The deal page from a browser's side: what it shows (the contract's selectors) and what its
//! forms do — edits with errors beside their fields, ticks, refused and accepted moves, stale
//! versions — on every backend.

use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::{Method, StatusCode};
use salesflow_domain::records::Role;
use serde_json::{Value, json};

use crate::helpers::{App, Person, apps};

/// A browser that keeps cookies and follows no redirects.
pub(crate) struct Browser {
    http: reqwest::Client,
    base: String,
    cookies: std::collections::BTreeMap<String, String>,
}

impl Browser {
    pub(crate) async fn signed_in(app: &App, person: &Person) -> Browser {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        let mut b = Browser { http, base: app.base.clone(), cookies: Default::default() };
        let (_, page) = b.get("/login").await;
        let csrf = between(&page, "name=\"_csrf\" value=\"", "\"").expect("sign-in form").to_string();
        let email = app.email_of(person.id).await;
        let password = format!("password-{}!", person.id);
        let (status, _) =
            b.form_raw("/login", &[("email", email.as_str()), ("password", password.as_str()), ("_csrf", &csrf)]).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "[{}] signed in", app.backend);
        b
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> (StatusCode, String, Option<String>) {
        let cookie = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let res = req.header(COOKIE, cookie).send().await.expect("request");
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
        let location = res.headers().get("location").map(|l| l.to_str().unwrap().to_string());
        (res.status(), res.text().await.expect("body"), location)
    }

    pub(crate) async fn get(&mut self, path: &str) -> (StatusCode, String) {
        let (status, body, _) = self.send(self.http.get(format!("{}{path}", self.base))).await;
        (status, body)
    }

    async fn form_raw(&mut self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
        let (status, body, _) = self.send(self.http.post(format!("{}{path}", self.base)).form(fields)).await;
        (status, body)
    }

    /// Posts a form of the page `page` (its CSRF token added): status, body, redirect target.
    pub(crate) async fn submit(
        &mut self,
        page: &str,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (StatusCode, String, Option<String>) {
        let csrf = between(page, "name=\"csrf-token\" content=\"", "\"").expect("CSRF meta").to_string();
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("_csrf", &csrf));
        self.send(self.http.post(format!("{}{path}", self.base)).form(&all)).await
    }
}

pub(crate) fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    text[from..].split(end).next()
}

/// Every value of `attr` in `html`, in order.
pub(crate) fn values<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let key = format!("{attr}=\"");
    html.match_indices(&key).filter_map(|(i, _)| html[i + key.len()..].split('"').next()).collect()
}

/// The element starting at the first occurrence of `marker`, up to its tag's end.
fn tag_with<'a>(html: &'a str, marker: &str) -> Option<&'a str> {
    let at = html.find(marker)?;
    let start = html[..at].rfind('<')?;
    let end = at + html[at..].find('>')?;
    Some(&html[start..=end])
}

fn version_in(html: &str) -> String {
    let header = tag_with(html, "data-testid=\"deal-header\"").expect("deal header");
    between(header, "data-version=\"", "\"").expect("version").to_string()
}

async fn api_deal(app: &App, id: i64) -> Value {
    app.expect("read deal", app.get(&format!("/api/v1/deals/{id}")).await, StatusCode::OK)
}

/// A rep's deal in the first stage of the seed process, with a contact on it.
async fn rep_deal(app: &App, rep: &Person) -> i64 {
    let process = app.seed_process().await;
    let call = |method, path: &'static str, body| app.call_as(&rep.token, method, path, Some(body));
    let account = app.expect(
        "account",
        call(Method::POST, "/api/v1/accounts", json!({ "name": "杭州云帆科技有限公司" })).await,
        StatusCode::CREATED,
    )["id"]
        .as_i64()
        .unwrap();
    let contact = app.expect(
        "contact",
        call(Method::POST, "/api/v1/contacts", json!({ "name": "王芳", "account_id": account })).await,
        StatusCode::CREATED,
    )["id"]
        .as_i64()
        .unwrap();
    let deal = json!({ "title": "年度采购", "account_id": account, "contact_ids": [contact], "process_id": process });
    app.expect("deal", call(Method::POST, "/api/v1/deals", deal).await, StatusCode::CREATED)["id"].as_i64().unwrap()
}

#[tokio::test]
async fn the_deal_page_shows_the_process_and_changes_the_deal_through_its_forms() {
    for app in apps().await {
        let b = app.backend.clone();
        let rep = app.person(Role::Rep).await;
        let id = rep_deal(&app, &rep).await;
        let url = format!("/deals/{id}");
        let mut browser = Browser::signed_in(&app, &rep).await;

        // What the page shows.
        let (status, page) = browser.get(&url).await;
        assert_eq!(status, StatusCode::OK, "[{b}] {page}");
        assert!(page.contains("data-testid=\"deal-path\""), "[{b}] the path");
        let current = tag_with(&page, "aria-current=\"step\"").expect("a current stage");
        assert!(current.contains("data-node=\"lead_identification\""), "[{b}] {current}");
        let nodes = values(&page, "data-node");
        assert_eq!(nodes.first(), Some(&"lead_identification"), "[{b}] stages in process order");
        assert_eq!(&nodes[nodes.len() - 2..], ["won", "lost"], "[{b}] Won and Lost at the end");
        assert!(page.contains("data-testid=\"stage-goal\""), "[{b}] the goal");
        assert_eq!(values(&page, "data-step"), ["define_target", "screen_channels", "check_fit"], "[{b}]");
        assert!(values(&page, "data-tool").len() >= 2, "[{b}] tools");
        assert!(page.contains("<a data-tool=\""), "[{b}] tools with a link are links");
        let criterion = tag_with(&page, "data-criterion=\"c_fit\"").expect("criterion c_fit");
        assert!(criterion.contains("data-met=\"false\""), "[{b}] {criterion}");
        let criterion = tag_with(&page, "data-criterion=\"c_contact\"").expect("criterion c_contact");
        assert!(criterion.contains("data-met=\"true\""), "[{b}] {criterion}");
        assert_eq!(values(&page, "data-event-kind"), ["created"], "[{b}] the timeline");
        assert!(page.contains("data-testid=\"deal-edit\"") && page.contains("data-testid=\"move-form\""), "[{b}]");
        assert!(page.contains("href=\"/accounts/"), "[{b}] the account link");

        // An edit with bad fields comes back with each error beside its field and the input kept.
        let v = version_in(&page);
        let bad = [
            ("version", v.as_str()),
            ("title", "年度采购"),
            ("amount", "12,500.505"),
            ("currency", "CNY"),
            ("probability", "150"),
            ("expected_close_date", "2025-06-30"),
        ];
        let (status, body, _) = browser.submit(&page, &format!("{url}/edit"), &bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "[{b}]");
        let errors: Vec<&str> = body
            .match_indices("class=\"field-error\"")
            .filter_map(|(i, _)| between(&body[i..], "data-field=\"", "\""))
            .collect();
        assert_eq!(errors, ["amount", "probability"], "[{b}]");
        assert!(body.contains("value=\"12,500.505\"") && body.contains("value=\"2025-06-30\""), "[{b}] input kept");
        assert_eq!(api_deal(&app, id).await["version"].to_string(), v, "[{b}] nothing written");

        // A good edit is saved: the amount exactly, in minor units.
        let good = [
            ("version", v.as_str()),
            ("title", "年度采购（续）"),
            ("amount", "12,500.50"),
            ("currency", "CNY"),
            ("probability", "10"),
            ("expected_close_date", "2025-06-30"),
        ];
        let (status, _, location) = browser.submit(&page, &format!("{url}/edit"), &good).await;
        assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some(&*format!("{url}?notice=saved"))));
        let deal = api_deal(&app, id).await;
        assert_eq!(deal["amount"], json!({ "minor": 1_250_050, "currency": "CNY" }), "[{b}]");
        assert_eq!(deal["title"], "年度采购（续）");
        assert_eq!(deal["probability_overridden"], false, "[{b}] an unchanged probability stays the default");

        // The same (now stale) version again: a clear conflict, the input still there.
        let (status, body, _) = browser.submit(&page, &format!("{url}/edit"), &bad).await;
        assert_eq!(status, StatusCode::CONFLICT, "[{b}]");
        assert!(body.contains("value=\"12,500.505\""), "[{b}] input kept on conflict");
        assert_eq!(version_in(&body), deal["version"].to_string(), "[{b}] the page shows the current deal");

        // A move with a hard criterion missing is refused: every missing criterion listed.
        let (_, page) = browser.get(&url).await;
        assert!(page.contains("¥12,500.50"), "[{b}] money in the user's format");
        let v = version_in(&page);
        let move_to = [("version", v.as_str()), ("to", "needs_analysis"), ("override_reason", ""), ("lost_reason", "")];
        let (status, body, _) = browser.submit(&page, &format!("{url}/move"), &move_to).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "[{b}]");
        let gate = between(&body, "data-testid=\"gate-missing\"", "</ul>").expect("gate-missing");
        assert_eq!(values(gate, "data-criterion"), ["c_fit"], "[{b}]");
        assert_eq!(api_deal(&app, id).await["current_node"], "lead_identification", "[{b}] the deal stayed");

        // Ticking the step meets the criterion, and the move goes through.
        let tick = [("version", v.as_str()), ("step", "check_fit"), ("done", "true")];
        let (status, _, _) = browser.submit(&page, &format!("{url}/steps"), &tick).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "[{b}]");
        let (_, page) = browser.get(&url).await;
        let criterion = tag_with(&page, "data-criterion=\"c_fit\"").expect("criterion c_fit");
        assert!(criterion.contains("data-met=\"true\""), "[{b}] {criterion}");
        let checkbox = tag_with(&page, "data-step=\"check_fit\"").expect("step");
        assert!(checkbox.contains("checked"), "[{b}] {checkbox}");
        let v = version_in(&page);
        let move_to = [("version", v.as_str()), ("to", "needs_analysis"), ("override_reason", ""), ("lost_reason", "")];
        let (status, _, location) = browser.submit(&page, &format!("{url}/move"), &move_to).await;
        assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some(&*format!("{url}?notice=moved"))));
        let (_, page) = browser.get(&url).await;
        let current = tag_with(&page, "aria-current=\"step\"").expect("a current stage");
        assert!(current.contains("data-node=\"needs_analysis\""), "[{b}] {current}");
        let passed = tag_with(&page, "data-node=\"lead_identification\"").expect("first stage");
        assert!(passed.contains("data-state=\"passed\""), "[{b}] {passed}");
        let kinds = values(&page, "data-event-kind");
        assert_eq!(kinds.first(), Some(&"moved"), "[{b}] newest first: {kinds:?}");
        assert!(kinds.contains(&"amount_changed") && kinds.contains(&"step_completed"), "[{b}] {kinds:?}");

        // Lost needs a reason; the reason typed is kept when something else is wrong.
        let v = version_in(&page);
        let lost = [("version", v.as_str()), ("to", "lost"), ("override_reason", "看看"), ("lost_reason", " ")];
        let (status, body, _) = browser.submit(&page, &format!("{url}/move"), &lost).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "[{b}]");
        assert!(body.contains("class=\"field-error\" data-field=\"lost_reason\""), "[{b}]");
        assert!(body.contains(">看看</textarea>"), "[{b}] the other reason kept");
        let lost = [("version", v.as_str()), ("to", "lost"), ("override_reason", ""), ("lost_reason", "预算冻结")];
        let (status, _, _) = browser.submit(&page, &format!("{url}/move"), &lost).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "[{b}]");
        let deal = api_deal(&app, id).await;
        assert_eq!((deal["status"].as_str(), deal["lost_reason"].as_str()), (Some("lost"), Some("预算冻结")));
        let (_, page) = browser.get(&url).await;
        assert!(!page.contains("data-testid=\"move-form\""), "[{b}] a closed deal moves no more");
        let current = tag_with(&page, "aria-current=\"step\"").expect("a current node");
        assert!(current.contains("data-node=\"lost\""), "[{b}] {current}");
        assert!(page.contains("预算冻结"), "[{b}] the lost reason on the page");
    }
}

#[tokio::test]
async fn a_deal_outside_the_callers_reach_is_not_found_from_the_page_either() {
    for app in apps().await {
        let b = app.backend.clone();
        let owner = app.person(Role::Rep).await;
        let other = app.person(Role::Rep).await;
        let id = rep_deal(&app, &owner).await;
        let before = api_deal(&app, id).await;
        let mut browser = Browser::signed_in(&app, &other).await;
        let (status, page) = browser.get(&format!("/deals/{id}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "[{b}]");
        let v = before["version"].to_string();
        for (path, fields) in [
            ("edit", vec![("version", v.as_str()), ("title", "改名")]),
            ("steps", vec![("version", v.as_str()), ("step", "check_fit"), ("done", "true")]),
            ("move", vec![("version", v.as_str()), ("to", "lost"), ("lost_reason", "x")]),
        ] {
            let (status, _, _) = browser.submit(&page, &format!("/deals/{id}/{path}"), &fields).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "[{b}] POST /deals/{id}/{path}");
        }
        assert_eq!(api_deal(&app, id).await, before, "[{b}] nothing changed");
        let (status, _) = browser.get("/deals/not-a-number").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "[{b}]");
    }
}
