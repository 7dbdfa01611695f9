//! The analytics report and heat map over HTTP: numbers from the deals the caller may read,
//! filters, refusals naming the field.

use reqwest::{Method, StatusCode};
use salesflow_domain::records::Role;
use serde_json::{Value, json};

use crate::helpers::{App, apps, problem_fields};

async fn deal_for(app: &App, token: &str, process: i64, amount: i64, channel: Option<&str>) -> i64 {
    let account = app.call_as(
        token,
        Method::POST,
        "/api/v1/accounts",
        Some(json!({ "name": format!("客户 {amount}"), "region": "华东" })),
    );
    let account = app.expect("account", account.await, StatusCode::CREATED)["id"].as_i64().unwrap();
    let mut deal = json!({ "title": format!("采购 {amount}"), "account_id": account, "process_id": process,
        "amount": { "minor": amount, "currency": "CNY" } });
    if let Some(c) = channel {
        deal["channel"] = json!(c);
    }
    let deal = app.call_as(token, Method::POST, "/api/v1/deals", Some(deal)).await;
    app.expect("deal", deal, StatusCode::CREATED)["id"].as_i64().unwrap()
}

async fn lose(app: &App, token: &str, deal: i64, reason: &str) {
    let version = app.call_as(token, Method::GET, &format!("/api/v1/deals/{deal}"), None).await.1["version"].clone();
    let body = json!({ "version": version, "to": "lost", "lost_reason": reason });
    let got = app.call_as(token, Method::POST, &format!("/api/v1/deals/{deal}/moves"), Some(body)).await;
    app.expect("lose", got, StatusCode::CREATED);
}

async fn report(app: &App, token: &str, path: &str) -> Value {
    let got = app.call_as(token, Method::GET, path, None).await;
    app.expect(path, got, StatusCode::OK)
}

#[tokio::test]
async fn analytics_count_only_the_callers_deals() {
    for app in apps().await {
        let b = app.backend.clone();
        let process = app.seed_process().await;
        let rep_a = app.person(Role::Rep).await;
        let rep_c = app.person(Role::Rep).await;
        let a1 = deal_for(&app, &rep_a.token, process, 100_000, Some("trade_show")).await;
        deal_for(&app, &rep_a.token, process, 250_000, Some("referral")).await;
        let c1 = deal_for(&app, &rep_c.token, process, 9_900_000, Some("trade_show")).await;
        lose(&app, &rep_a.token, a1, "预算不足").await;
        lose(&app, &rep_c.token, c1, "选了竞品").await;
        let path = format!("/api/v1/processes/{process}/analytics");

        // The admin sees all three deals; each rep only their own.
        let all = report(&app, &app.token, &path).await;
        assert_eq!(all["outcome"]["cases"], 3, "[{b}] {}", all["outcome"]);
        assert_eq!((all["outcome"]["lost"].as_u64(), all["outcome"]["open"].as_u64()), (Some(2), Some(1)));
        let mine = report(&app, &rep_a.token, &path).await;
        assert_eq!(mine["outcome"]["cases"], 2, "[{b}] {}", mine["outcome"]);
        assert_eq!(mine["outcome"]["lost"], 1);
        assert_eq!(mine["analysis"]["dfg"]["cases"], 2, "[{b}] the engine saw only A's deals");
        let lost = &mine["lost_by_stage"];
        assert_eq!(lost.as_array().unwrap().len(), 1, "[{b}] {lost}");
        assert_eq!(lost[0]["reasons"], json!([["预算不足", 1]]), "[{b}] C's reason is not shown to A");
        assert_eq!(mine["outcome"]["open_value"], 2500.0, "[{b}] pipeline in major units");
        let channels: Vec<&str> =
            mine["segments"]["channel"].as_array().unwrap().iter().map(|s| s["value"].as_str().unwrap()).collect();
        assert_eq!(channels, ["referral", "trade_show"], "[{b}]");
        assert!(mine["headline_zh"].as_str().is_some_and(|s| !s.is_empty()), "[{b}] a bottleneck sentence");
        assert_eq!(mine["current_period"]["outcome"]["cases"], 2, "[{b}] created today, within the last 90 days");
        assert_eq!(mine["previous_period"]["outcome"]["cases"], 0);
        assert_eq!(mine["conformance"]["cases"], 2);

        // Filters.
        let filtered = report(&app, &app.token, &format!("{path}?channel=trade_show")).await;
        assert_eq!(filtered["outcome"]["cases"], 2, "[{b}]");
        let owner = report(&app, &app.token, &format!("{path}?owner={}", rep_c.id)).await;
        assert_eq!(owner["outcome"]["cases"], 1, "[{b}]");
        let past = report(&app, &app.token, &format!("{path}?from=2001-01-01&to=2001-12-31")).await;
        assert_eq!(past["outcome"]["cases"], 0, "[{b}]");
        let versions = report(&app, &app.token, &format!("{path}?version=1&compare_version=1")).await;
        assert_eq!(versions["version_comparison"][1]["outcome"]["cases"], 3, "[{b}]");

        // Bad filters name their field.
        for (query, field) in [
            ("channel=carrier_pigeon", "channel"),
            ("from=2025-02-01&to=2025-01-01", "to"),
            ("version=99", "version"),
            ("compare_version=99", "compare_version"),
            ("team=999999", "team"),
        ] {
            let got = app.get(&format!("{path}?{query}")).await;
            assert_eq!(got.0, StatusCode::BAD_REQUEST, "[{b}] {query}: {}", got.1);
            assert_eq!(problem_fields(&got.1), [field], "[{b}] {query}");
        }
        assert_eq!(app.get("/api/v1/processes/999999/analytics").await.0, StatusCode::NOT_FOUND);

        // The heat map: the drawing with every stage filled and captioned.
        let res = app
            .http
            .get(format!("{}{path}/heatmap.svg", app.base))
            .bearer_auth(&rep_a.token)
            .send()
            .await
            .expect("heat map");
        assert_eq!(res.status(), StatusCode::OK, "[{b}]");
        assert_eq!(res.headers()["content-type"], "image/svg+xml");
        let svg = res.text().await.unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("中位"), "[{b}] {}", &svg[..200.min(svg.len())]);

        // The event log, filtered: CSV rows and XES events of the selected deals only.
        let get = |q: String| {
            let req = app.http.get(format!("{}/api/v1/processes/{process}/event-log?{q}", app.base));
            req.bearer_auth(app.token.clone()).send()
        };
        let res = get("channel=trade_show".into()).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "[{b}]");
        let body = res.bytes().await.unwrap();
        assert!(body.starts_with("\u{feff}".as_bytes()), "[{b}] BOM");
        let (log, read) = salesflow_analytics::csv::read_csv(&body[3..]).expect("CSV reads back");
        assert_eq!((log.cases(), read.skipped), (2, 0), "[{b}] the two trade-show deals");
        assert_eq!(
            log.case_attribute("case:channel").or(log.case_attribute("channel")).unwrap().get(0),
            Some("trade_show")
        );
        let res = get(format!("format=xes&owner={}", rep_a.id)).await.unwrap();
        assert_eq!(res.headers()["content-type"], "application/xml; charset=utf-8");
        let body = res.bytes().await.unwrap();
        let (log, read) = salesflow_analytics::xes::read_xes(&body[..]).expect("XES reads back");
        assert_eq!((log.cases(), log.events(), read.skipped), (2, 3, 0), "[{b}] A's deals: created, created, lost");
        let xes_path = format!("/api/v1/processes/{process}/event-log?format=xes");
        let mine = app.call_as(&rep_c.token, Method::GET, &xes_path, None).await;
        let mine = app.expect("C's export", mine, StatusCode::OK);
        assert_eq!(mine.as_str().unwrap().matches("<trace>").count(), 1, "[{b}] a rep exports only their deals");
        let bad = app.get(&format!("/api/v1/processes/{process}/event-log?format=pdf")).await;
        assert_eq!(problem_fields(&bad.1), ["format"], "[{b}]");

        // New events reach reports already computed: the server keeps each scope's log and
        // reads only the deals with new events; another rep's new deal stays out.
        let a3 = deal_for(&app, &rep_a.token, process, 5_000, None).await;
        lose(&app, &rep_a.token, a3, "时机不对").await;
        deal_for(&app, &rep_c.token, process, 7_000, None).await;
        let again = report(&app, &rep_a.token, &path).await;
        assert_eq!(
            (again["outcome"]["cases"].as_u64(), again["outcome"]["lost"].as_u64()),
            (Some(3), Some(2)),
            "[{b}]"
        );
        let all = report(&app, &app.token, &path).await;
        assert_eq!(all["outcome"]["cases"], 5, "[{b}] {}", all["outcome"]);
    }
}

async fn post_log(app: &App, token: &str, path: &str, content_type: &str, body: String) -> (StatusCode, Value) {
    let res = app
        .http
        .post(format!("{}{path}", app.base))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("request");
    let status = res.status();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

#[tokio::test]
async fn importing_past_deals_from_csv_and_xes() {
    for app in apps().await {
        let b = app.backend.clone();
        let process = app.seed_process().await;
        let rep = app.person(Role::Rep).await;
        let rep_email = app.email_of(rep.id).await;
        let path = format!("/api/v1/processes/{process}/import");
        let analytics_path = format!("/api/v1/processes/{process}/analytics");

        // A CSV with its own column names, local times in Shanghai, one bad row among good ones:
        // nothing is written and every bad row is named.
        let bad = format!(
            "deal;stage;when;who;customer;value;why\n\
             h1,潜在客户识别,2024-03-01 09:00,{rep_email},华东机械,12500.50,\n\
             h1,客户接触与需求分析,2024-03-04 09:00,,,,\n\
             h2,潜在客户识别,2024-03-02 09:00,,杭州云帆,abc,\n\
             h2,nowhere,2024-03-03 09:00,,,,\n\
             h3,潜在客户识别,not a date,,,,\n"
        )
        .replace(';', ",");
        let mapping = "?case=deal&activity=stage&timestamp=when&resource=who&account=customer&amount=value&lost_reason=why&time_zone=Asia/Shanghai";
        let got = post_log(&app, &app.token, &format!("{path}{mapping}"), "text/csv", bad.clone()).await;
        assert_eq!(got.0, StatusCode::UNPROCESSABLE_ENTITY, "[{b}] {}", got.1);
        assert_eq!(
            problem_fields(&got.1),
            ["rows[4].amount", "rows[5].activity", "rows[6].timestamp"],
            "[{b}] {}",
            got.1
        );
        let none = app.get(&analytics_path).await.1;
        assert_eq!(none["outcome"]["cases"], 0, "[{b}] nothing written");
        let good: String = bad.lines().take(4).map(|l| format!("{}\n", l.replace("abc", "300"))).collect();
        let good = format!("{good}h2,lost,2024-03-09 18:30,,,,预算取消\n");
        let got = post_log(&app, &app.token, &format!("{path}{mapping}"), "text/csv", good).await;
        let done = app.expect("import", got, StatusCode::CREATED);
        assert_eq!((done["deals"].as_u64(), done["events"].as_u64()), (Some(2), Some(4)), "[{b}] {done}");
        let report = report(&app, &app.token, &format!("/api/v1/processes/{process}/analytics")).await;
        assert_eq!((report["outcome"]["cases"].as_u64(), report["outcome"]["lost"].as_u64()), (Some(2), Some(1)));
        assert_eq!(report["lost_by_stage"][0]["reasons"], json!([["预算取消", 1]]), "[{b}]");
        // 09:00 in Shanghai is 01:00 UTC; the deals list shows them, with their first event then.
        let deals = app.get(&format!("/api/v1/deals?process={process}")).await.1;
        let h1 = deals["items"].as_array().unwrap().iter().find(|d| d["title"] == "h1").expect("h1").clone();
        let events = app.get(&format!("/api/v1/deals/{}/events", h1["id"])).await.1;
        assert_eq!(events["items"][0]["occurred_at"], "2024-03-01T01:00:00Z", "[{b}] {events}");
        assert_eq!(h1["amount"], json!({ "minor": 1_250_050, "currency": "CNY" }));

        // The process's own XES export goes back in (into a second process) with the same counts.
        let xes = app.http.get(format!("{}/api/v1/processes/{process}/event-log?format=xes", app.base));
        let xes = xes.bearer_auth(&app.token).send().await.unwrap().text().await.unwrap();
        let other = app.post(
            "/api/v1/process-templates/seed-five-stage.zh-CN/instantiate",
            json!({ "publish": true, "key": "imported-history" }),
        );
        let other = app.expect("second process", other.await, StatusCode::CREATED)["process_id"].as_i64().unwrap();
        let got =
            post_log(&app, &app.token, &format!("/api/v1/processes/{other}/import"), "application/xml", xes).await;
        let done = app.expect("XES import", got, StatusCode::CREATED);
        assert_eq!((done["deals"].as_u64(), done["events"].as_u64()), (Some(2), Some(4)), "[{b}] {done}");

        // A viewer may not import; an unknown owner is named.
        let viewer = app.person(Role::Viewer).await;
        let one =
            "case:concept:name,concept:name,time:timestamp,case:owner\nv1,潜在客户识别,2024-01-01,nobody@example.com\n";
        let got = post_log(&app, &viewer.token, &path, "text/csv", one.into()).await;
        assert_eq!(got.0, StatusCode::FORBIDDEN, "[{b}]");
        let got = post_log(&app, &rep.token, &path, "text/csv", one.into()).await;
        assert_eq!(problem_fields(&got.1), ["rows[2].owner"], "[{b}] {}", got.1);
    }
}

/// The analytics page as a browser gets it, in both languages: the bottleneck sentence, the
/// heat map inlined, the chart data in an attribute, the segment tables; the import form for
/// writers only, and the import API reached with the session and its CSRF token.
#[tokio::test]
async fn analytics_page_in_both_languages() {
    for app in apps().await {
        let b = app.backend.clone();
        let process = app.seed_process().await;
        let rep = app.person(Role::Rep).await;
        let d = deal_for(&app, &rep.token, process, 120_000, Some("referral")).await;
        lose(&app, &rep.token, d, "预算不足").await;
        deal_for(&app, &rep.token, process, 80_000, Some("trade_show")).await;

        let mut browser = crate::board::Browser::sign_in(&app, &rep).await;
        let (status, _, html) = browser.get(&format!("/analytics?process={process}")).await;
        assert_eq!(status, StatusCode::OK, "[{b}] {html}");
        for needle in [
            "<html lang=\"zh-CN\"",
            "瓶颈环节",
            "data-testid=\"heat-map\"",
            "<g data-flow-node=\"",
            "data-charts=\"{",
            "预算不足",
            "import-form",
            "aria-current=\"page\">分析",
        ] {
            assert!(html.contains(needle), "[{b}] the Chinese page lacks {needle}");
        }
        assert!(!html.contains("<script>") && !html.contains("<script type"), "[{b}] no inline script");

        // The page form's request: the import API with the session cookie and CSRF header.
        let csv = "case:concept:name,concept:name,time:timestamp\np1,lead_identification,2024-01-02 09:00\n";
        let req = browser
            .http
            .post(format!("{}/api/v1/processes/{process}/import", app.base))
            .header("content-type", "text/csv")
            .header("x-csrf-token", browser.csrf.clone())
            .body(csv);
        let (status, _, body) = browser.send(req).await;
        assert_eq!(status, StatusCode::CREATED, "[{b}] {body}");
        let req = browser.http.post(format!("{}/api/v1/processes/{process}/import", app.base)).body(csv);
        assert_eq!(browser.send(req).await.0, StatusCode::FORBIDDEN, "[{b}] no CSRF token, no import");

        let csrf = browser.csrf.clone();
        let (status, _, _) = browser.form("/me/locale", &[("locale", "en"), ("_csrf", &csrf)]).await;
        assert!(status.is_redirection() || status.is_success(), "[{b}] {status}");
        let (_, _, html) = browser.get(&format!("/analytics?process={process}&channel=referral")).await;
        for needle in ["<html lang=\"en\"", "Bottleneck", "Lost reasons by stage", "Segments", "median"] {
            assert!(html.contains(needle), "[{b}] the English page lacks {needle}");
        }
        // Without a process named, an English reader whose deals are all in the Chinese process
        // lands there, not on an English process holding none of theirs.
        let created = app
            .post("/api/v1/process-templates/seed-five-stage.en/instantiate", serde_json::json!({ "publish": true }));
        app.expect("English process", created.await, StatusCode::CREATED);
        let (_, _, html) = browser.get("/analytics").await;
        assert!(html.contains(&format!("<option value=\"{process}\" selected>")), "[{b}] {html}");
        let (status, _, html) = browser.get(&format!("/analytics?process={process}&channel=pigeon")).await;
        assert_eq!(status, StatusCode::OK, "[{b}]");
        assert!(html.contains("unknown channel"), "[{b}] the bad filter is named");

        let viewer = app.person(Role::Viewer).await;
        let mut viewing = crate::board::Browser::sign_in(&app, &viewer).await;
        let (status, _, html) = viewing.get(&format!("/analytics?process={process}")).await;
        assert_eq!(status, StatusCode::OK, "[{b}]");
        assert!(!html.contains("import-form"), "[{b}] viewers write nothing");
    }
}
