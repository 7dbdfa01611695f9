//! The pipeline board from a browser's side, on every backend: columns and their totals, lazily
//! loaded card pages, and moves — accepted, refused by a hard gate, passed with an override
//! reason, to Lost with a reason, along no edge, on a stale version, without script, without a
//! CSRF token, and outside the caller's reach. Users are Chinese-speaking (`seed_user`), so the
//! pages are in zh-CN.

use reqwest::header::{ACCEPT, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use salesflow_domain::records::Role;
use serde_json::{Value, json};

use crate::helpers::{App, Person, apps};

/// A signed-in browser: no redirects followed, cookies kept by hand (also used by other modules).
pub(crate) struct Browser {
    pub(crate) http: reqwest::Client,
    base: String,
    cookies: std::collections::BTreeMap<String, String>,
    pub(crate) csrf: String,
}

impl Browser {
    pub(crate) async fn sign_in(app: &App, person: &Person) -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        let mut b = Browser { http, base: app.base.clone(), cookies: Default::default(), csrf: String::new() };
        let (_, _, page) = b.get("/login").await;
        let csrf = csrf_in(&page);
        let email = app.email_of(person.id).await;
        let password = format!("password-{}!", person.id);
        let (status, _, _) = b.form("/login", &[("email", &email), ("password", &password), ("_csrf", &csrf)]).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "[{}] sign-in", app.backend);
        let (_, _, board) = b.get("/board").await;
        b.csrf = csrf_in(&board);
        b
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    pub(crate) async fn send(
        &mut self,
        req: reqwest::RequestBuilder,
    ) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let res = req.header(COOKIE, self.cookie_header()).send().await.expect("request");
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
        let (status, headers) = (res.status(), res.headers().clone());
        (status, headers, res.text().await.expect("body"))
    }

    pub(crate) async fn get(&mut self, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let req = self.http.get(format!("{}{path}", self.base)).header("accept-language", "en");
        self.send(req).await
    }

    pub(crate) async fn form(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let req = self.http.post(format!("{}{path}", self.base)).header("accept-language", "en").form(fields);
        self.send(req).await
    }

    /// A move as the board script sends it: form-encoded, CSRF header, JSON answer.
    async fn drop(&mut self, fields: &[(&str, &str)]) -> (StatusCode, Value) {
        let req = self
            .http
            .request(Method::POST, format!("{}/board/move", self.base))
            .header(ACCEPT, "application/json")
            .header("x-csrf-token", self.csrf.clone())
            .form(fields);
        let (status, _, text) = self.send(req).await;
        (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}")))
    }
}

fn csrf_in(html: &str) -> String {
    let at = html.find("name=\"_csrf\" value=\"").unwrap_or_else(|| panic!("no CSRF field in {html}"))
        + "name=\"_csrf\" value=\"".len();
    html[at..].split('"').next().expect("value").to_string()
}

/// The HTML of a column section.
fn section<'a>(html: &'a str, node: &str) -> &'a str {
    let start = html.find(&format!("data-stage=\"{node}\"")).unwrap_or_else(|| panic!("no column {node}"));
    let end = html[start..].find("</section>").map(|e| start + e).unwrap_or(html.len());
    &html[start..end]
}

/// The text of the element with `data-testid="<testid>"` inside `html`.
fn testid<'a>(html: &'a str, testid: &str) -> &'a str {
    let at = html.find(&format!("data-testid=\"{testid}\"")).unwrap_or_else(|| panic!("no {testid} in {html}"));
    let rest = &html[at..];
    let open = rest.find('>').expect("tag end") + 1;
    rest[open..].split('<').next().expect("text").trim()
}

fn count(html: &str, node: &str) -> u64 {
    testid(section(html, node), "column-count").parse().expect("a number")
}

fn columns_of(html: &str) -> Vec<String> {
    html.match_indices("<section class=\"board-column")
        .map(|(i, _)| {
            let rest = &html[i..];
            let at = rest.find("data-stage=\"").expect("data-stage") + "data-stage=\"".len();
            rest[at..].split('"').next().expect("id").to_string()
        })
        .collect()
}

/// The column stats of a JSON move answer, by node: (count, amount).
fn stats(answer: &Value, node: &str) -> (u64, String) {
    let c = answer["columns"].as_array().expect("columns").iter().find(|c| c["node"] == node).expect("column");
    (c["count"].as_u64().expect("count"), c["amount"].as_str().expect("amount").to_string())
}

async fn new_deal(app: &App, owner: &Person, process: i64, title: &str) -> Value {
    let token = &owner.token;
    let account =
        app.call_as(token, Method::POST, "/api/v1/accounts", Some(json!({ "name": format!("{title} 公司") })));
    let account = app.expect("account", account.await, StatusCode::CREATED)["id"].as_i64().unwrap();
    let contact = json!({ "account_id": account, "name": "王芳" });
    let contact = app.call_as(token, Method::POST, "/api/v1/contacts", Some(contact));
    let contact = app.expect("contact", contact.await, StatusCode::CREATED)["id"].as_i64().unwrap();
    let deal = json!({ "title": title, "account_id": account, "contact_ids": [contact], "process_id": process,
        "amount": { "minor": 1_250_000, "currency": "CNY" } });
    app.expect("deal", app.call_as(token, Method::POST, "/api/v1/deals", Some(deal)).await, StatusCode::CREATED)
}

async fn api(app: &App, who: &Person, method: Method, path: &str, body: Option<Value>) -> Value {
    let what = format!("{method} {path}");
    let got = app.call_as(&who.token, method, path, body).await;
    assert!(got.0.is_success(), "[{}] {what}: {} {}", app.backend, got.0, got.1);
    got.1
}

#[tokio::test]
async fn the_board_shows_columns_and_moves_cards_along_edges_only() {
    for app in apps().await {
        let b = app.backend.clone();
        let process = app.seed_process().await;
        let rep = app.person(Role::Rep).await;
        let other = app.person(Role::Rep).await;
        let deal = new_deal(&app, &rep, process, "年度采购").await;
        let id = deal["id"].as_i64().unwrap();
        let sid = id.to_string();
        new_deal(&app, &other, process, "别人的商机").await;
        let mut browser = Browser::sign_in(&app, &rep).await;

        // The board: every stage in process order, then Won and Lost; only the rep's deal counts.
        let (status, _, html) = browser.get("/board").await;
        assert_eq!(status, StatusCode::OK, "[{b}]");
        assert!(html.contains("data-testid=\"process-picker\""), "[{b}]");
        assert_eq!(
            columns_of(&html),
            [
                "lead_identification",
                "needs_analysis",
                "recommendation",
                "negotiation",
                "signing",
                "tiered_package",
                "won",
                "lost"
            ],
            "[{b}]"
        );
        assert_eq!(count(&html, "lead_identification"), 1, "[{b}] the other rep's deal is not counted");
        assert_eq!(testid(section(&html, "lead_identification"), "column-amount"), "¥12,500.00", "[{b}]");
        assert_eq!(testid(section(&html, "lead_identification"), "column-weighted"), "¥1,250.00", "[{b}]");
        assert!(!html.contains("data-deal="), "[{b}] cards load lazily, not with the page");
        let (_, _, same) = browser.get(&format!("/board?process={process}")).await;
        assert_eq!(columns_of(&same), columns_of(&html), "[{b}] ?process= picks the same board");
        let (status, _, _) = browser.get("/board?process=999999").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "[{b}] an unknown process");

        // The column's first page of cards.
        let (status, _, cards) = browser.get(&format!("/board/{process}/columns/lead_identification")).await;
        assert_eq!(status, StatusCode::OK, "[{b}]");
        assert!(cards.contains(&format!("data-deal=\"{id}\" data-version=\"1\"")), "[{b}] {cards}");
        assert!(cards.contains("draggable=\"true\"") && cards.contains(&format!("href=\"/deals/{id}\"")), "[{b}]");
        assert!(cards.contains("data-testid=\"move-to\"") && cards.contains("停留 0 天"), "[{b}] {cards}");
        assert!(!cards.contains("别人的商机") && !cards.contains("sla-overdue"), "[{b}]");

        // A hard gate: the step "check_fit" is not ticked. Nothing changes.
        let (status, refused) = browser.drop(&[("deal", &sid), ("version", "1"), ("to", "needs_analysis")]).await;
        assert_eq!(
            (status, refused["moved"].as_bool(), refused["reason"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(false), Some("gate")),
            "[{b}] {refused}"
        );
        let panel = refused["panel"].as_str().unwrap();
        assert!(
            panel.contains("data-testid=\"gate-missing\"") && panel.contains("data-criterion=\"c_fit\""),
            "[{b}] {panel}"
        );
        assert!(!panel.contains("data-criterion=\"c_contact\""), "[{b}] the contact is there");
        assert!(panel.contains(&format!("href=\"/deals/{id}\"")), "[{b}]");
        let unchanged = api(&app, &rep, Method::GET, &format!("/api/v1/deals/{id}"), None).await;
        assert_eq!(
            (unchanged["version"].as_i64(), unchanged["current_node"].as_str()),
            (Some(1), Some("lead_identification")),
            "[{b}]"
        );

        // Ticked, the move passes: the new card and every column's totals come back.
        let step = json!({ "step": "check_fit", "done": true, "version": 1 });
        let d = api(&app, &rep, Method::POST, &format!("/api/v1/deals/{id}/steps"), Some(step)).await;
        let v = d["version"].as_i64().unwrap().to_string();
        let (status, moved) = browser.drop(&[("deal", &sid), ("version", &v), ("to", "needs_analysis")]).await;
        assert_eq!(status, StatusCode::OK, "[{b}] {moved}");
        assert_eq!(
            (moved["moved"].as_bool(), moved["from"].as_str(), moved["to"].as_str()),
            (Some(true), Some("lead_identification"), Some("needs_analysis")),
            "[{b}]"
        );
        let v = moved["version"].as_i64().unwrap().to_string();
        assert!(moved["card"].as_str().unwrap().contains(&format!("data-deal=\"{id}\" data-version=\"{v}\"")), "[{b}]");
        assert!(moved["card"].as_str().unwrap().contains("年度采购 公司"), "[{b}] with its account's name");
        assert_eq!(stats(&moved, "lead_identification"), (0, "—".to_string()), "[{b}]");
        assert_eq!(stats(&moved, "needs_analysis"), (1, "¥12,500.00".to_string()), "[{b}]");
        assert_eq!(moved["columns"].as_array().unwrap().len(), 2, "[{b}] the two columns involved");

        // A stale version: someone else changed the deal.
        let (status, stale) = browser.drop(&[("deal", &sid), ("version", "1"), ("to", "recommendation")]).await;
        assert_eq!((status, stale["reason"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "[{b}] {stale}");
        assert!(stale["panel"].as_str().unwrap().contains(&format!("/board?process={process}")), "[{b}] a reload link");

        // No edge from needs analysis to Won.
        let (status, nowhere) = browser.drop(&[("deal", &sid), ("version", &v), ("to", "won")]).await;
        assert_eq!((status, nowhere["reason"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("no_route")), "[{b}]");
        assert!(nowhere["panel"].as_str().unwrap().contains("输单"), "[{b}] names the allowed moves: {nowhere}");

        // Only a soft criterion missing: the override form, then the move with a reason.
        let patch = json!({ "version": v.parse::<i64>().unwrap(), "needs_summary": "痛点：报价慢" });
        let d = api(&app, &rep, Method::PATCH, &format!("/api/v1/deals/{id}"), Some(patch)).await;
        let v = d["version"].as_i64().unwrap().to_string();
        let (status, soft) = browser.drop(&[("deal", &sid), ("version", &v), ("to", "recommendation")]).await;
        assert_eq!(
            (status, soft["reason"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("override")),
            "[{b}] {soft}"
        );
        let panel = soft["panel"].as_str().unwrap();
        assert!(panel.contains("data-testid=\"override-form\"") && panel.contains("name=\"override_reason\""), "[{b}]");
        assert!(
            panel.contains("data-criterion=\"c_intent\"") && !panel.contains("data-testid=\"gate-missing\""),
            "[{b}]"
        );
        let reason =
            [("deal", sid.as_str()), ("version", &v), ("to", "recommendation"), ("override_reason", "客户口头确认")];
        let (status, moved) = browser.drop(&reason).await;
        assert_eq!((status, moved["to"].as_str()), (StatusCode::OK, Some("recommendation")), "[{b}] {moved}");
        let v = moved["version"].as_i64().unwrap().to_string();

        // Lost needs a reason: the lost form, then the move.
        let (status, lost) = browser.drop(&[("deal", &sid), ("version", &v), ("to", "lost")]).await;
        assert_eq!((status, lost["reason"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("lost_reason")), "[{b}]");
        assert!(lost["panel"].as_str().unwrap().contains("data-testid=\"lost-form\""), "[{b}] {lost}");
        let (status, moved) =
            browser.drop(&[("deal", &sid), ("version", &v), ("to", "lost"), ("lost_reason", "预算取消")]).await;
        assert_eq!((status, moved["to"].as_str()), (StatusCode::OK, Some("lost")), "[{b}] {moved}");
        assert_eq!(stats(&moved, "lost").0, 1, "[{b}]");
        assert_eq!(stats(&moved, "recommendation").0, 0, "[{b}]");
        let (_, _, lost_cards) = browser.get(&format!("/board/{process}/columns/lost")).await;
        assert!(lost_cards.contains(&format!("data-deal=\"{id}\"")), "[{b}]");
        assert!(!lost_cards.contains("data-testid=\"move-to\""), "[{b}] a closed deal has nowhere to go");
        let v = moved["version"].as_i64().unwrap().to_string();
        let (status, closed) = browser.drop(&[("deal", &sid), ("version", &v), ("to", "needs_analysis")]).await;
        assert_eq!((status, closed["reason"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("closed")), "[{b}]");

        // Another rep's deal is out of reach: not found, and not moved.
        let theirs = app.call_as(&other.token, Method::GET, "/api/v1/deals", None).await.1;
        let their_id = theirs["items"][0]["id"].as_i64().unwrap().to_string();
        let (status, hidden) =
            browser.drop(&[("deal", &their_id), ("version", "1"), ("to", "lost"), ("lost_reason", "x")]).await;
        assert_eq!((status, hidden["reason"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "[{b}]");

        // A malformed request is explained too.
        let (status, bad) = browser.drop(&[("deal", "x"), ("version", "1"), ("to", "lost")]).await;
        assert_eq!((status, bad["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid")), "[{b}]");

        // Without the CSRF token nothing happens.
        let no_csrf = browser.http.post(format!("{}/board/move", app.base)).header(ACCEPT, "application/json");
        let (status, _, _) = browser.send(no_csrf.form(&[("deal", their_id.as_str()), ("version", "1")])).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "[{b}]");
    }
}

#[tokio::test]
async fn without_script_the_forms_post_and_the_board_explains_refusals() {
    for app in apps().await {
        let b = app.backend.clone();
        let process = app.seed_process().await;
        let rep = app.person(Role::Rep).await;
        let deal = new_deal(&app, &rep, process, "无脚本").await;
        let sid = deal["id"].as_i64().unwrap().to_string();
        let mut browser = Browser::sign_in(&app, &rep).await;
        let csrf = browser.csrf.clone();

        let (status, _, html) = browser
            .form("/board/move", &[("_csrf", &csrf), ("deal", &sid), ("version", "1"), ("to", "needs_analysis")])
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "[{b}]");
        assert!(
            html.contains("data-testid=\"gate-missing\"") && html.contains("data-stage=\"needs_analysis\""),
            "[{b}] the board with the panel"
        );

        let (status, _, html) = browser
            .form(
                "/board/move",
                &[("_csrf", &csrf), ("deal", &sid), ("version", "1"), ("to", "lost"), ("lost_reason", " ")],
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "[{b}]");
        assert!(
            html.contains("data-testid=\"lost-form\"") && html.contains("data-field=\"lost_reason\""),
            "[{b}] {html}"
        );

        let (status, headers, _) = browser
            .form(
                "/board/move",
                &[("_csrf", &csrf), ("deal", &sid), ("version", "1"), ("to", "lost"), ("lost_reason", "预算取消")],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "[{b}]");
        assert_eq!(headers[LOCATION], format!("/board?process={process}").as_str(), "[{b}]");
    }
}

#[tokio::test]
async fn cards_come_twenty_at_a_time_and_viewers_cannot_move_them() {
    for app in apps().await {
        let b = app.backend.clone();
        let process = app.seed_process().await;
        let rep = app.person(Role::Rep).await;
        let mut ids = Vec::new();
        for i in 0..23 {
            ids.push(new_deal(&app, &rep, process, &format!("商机 {i:02}")).await["id"].as_i64().unwrap());
        }
        let mut browser = Browser::sign_in(&app, &rep).await;
        let (_, _, html) = browser.get("/board").await;
        assert_eq!(count(&html, "lead_identification"), 23, "[{b}]");

        let (_, _, first) = browser.get(&format!("/board/{process}/columns/lead_identification")).await;
        assert_eq!(first.matches("<article ").count(), 20, "[{b}]");
        assert!(first.contains(&format!("data-deal=\"{}\"", ids[22])), "[{b}] newest first");
        let at = first.find("hx-get=\"").expect("a loader for the next page") + "hx-get=\"".len();
        let next = first[at..].split('"').next().unwrap().replace("&#x3d;", "=").replace("&#61;", "=");
        assert!(next.contains("cursor="), "[{b}] {next}");
        let (status, _, second) = browser.get(&next).await;
        assert_eq!(status, StatusCode::OK, "[{b}] {next}");
        assert_eq!(second.matches("<article ").count(), 3, "[{b}]");
        assert!(!second.contains("hx-get"), "[{b}] the last page");
        assert!(second.contains(&format!("data-deal=\"{}\"", ids[0])), "[{b}]");

        // A viewer of the rep's team sees the cards but gets no move controls.
        let viewer = app.person(Role::Viewer).await;
        let team = json!({ "name": "华东", "members": [rep.id, viewer.id] });
        app.expect("team", app.post("/api/v1/teams", team).await, StatusCode::CREATED);
        let mut browser = Browser::sign_in(&app, &viewer).await;
        let (_, _, html) = browser.get("/board").await;
        assert_eq!(count(&html, "lead_identification"), 23, "[{b}] the team's deals");
        let (_, _, cards) = browser.get(&format!("/board/{process}/columns/lead_identification")).await;
        assert_eq!(cards.matches("<article ").count(), 20, "[{b}]");
        assert!(!cards.contains("data-testid=\"move-to\""), "[{b}] no move controls for a viewer");
        let sid = ids[0].to_string();
        let (status, refused) =
            browser.drop(&[("deal", &sid), ("version", "1"), ("to", "lost"), ("lost_reason", "x")]).await;
        assert_eq!((status, refused["reason"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "[{b}]");
    }
}
