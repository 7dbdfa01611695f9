//! The foundation story: a trade-show lead becomes a won deal through all five stages of the
//! shipped template, including one "quote rejected → tiered package → negotiation" loop.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{App, apps};

async fn tick(app: &App, deal: &mut Value, step: &str) {
    let id = deal["id"].as_i64().unwrap();
    let body = json!({ "step": step, "done": true, "version": deal["version"] });
    *deal =
        app.expect(&format!("tick {step}"), app.post(&format!("/api/v1/deals/{id}/steps"), body).await, StatusCode::OK);
}

async fn patch(app: &App, deal: &mut Value, mut body: Value) {
    let id = deal["id"].as_i64().unwrap();
    body["version"] = deal["version"].clone();
    *deal = app.expect("patch deal", app.patch(&format!("/api/v1/deals/{id}"), body).await, StatusCode::OK);
}

async fn try_move(app: &App, deal: &Value, mut body: Value) -> (StatusCode, Value) {
    let id = deal["id"].as_i64().unwrap();
    body["version"] = deal["version"].clone();
    app.post(&format!("/api/v1/deals/{id}/moves"), body).await
}

async fn advance(app: &App, deal: &mut Value, body: Value) -> Value {
    let what = format!("move to {}", body["to"]);
    let done = app.expect(&what, try_move(app, deal, body).await, StatusCode::CREATED);
    *deal = done["deal"].clone();
    done["event"].clone()
}

#[tokio::test]
async fn trade_show_lead_to_won_deal() {
    for app in apps().await {
        run(&app).await;
    }
}

async fn run(app: &App) {
    let process = app.seed_process().await;

    // A lead from a trade show, qualified and converted.
    let lead = app.expect(
        "create lead",
        app.post(
            "/api/v1/leads",
            json!({ "name": "王芳", "company": "杭州云帆科技有限公司", "email": "wang.fang@yunfan.example.com",
                    "phone": "+86 138 0013 8000", "channel": "trade_show" }),
        )
        .await,
        StatusCode::CREATED,
    );
    assert_eq!(lead["duplicates"], json!([]), "[{}] a fresh database has no duplicates", app.backend);
    let lead_id = lead["lead"]["id"].as_i64().unwrap();
    let l = app.expect(
        "contacted",
        app.post(&format!("/api/v1/leads/{lead_id}/contacted"), json!({ "version": 1 })).await,
        StatusCode::OK,
    );
    let l = app.expect(
        "qualify",
        app.post(&format!("/api/v1/leads/{lead_id}/qualify"), json!({ "version": l["version"] })).await,
        StatusCode::OK,
    );
    assert_eq!(l["status"], "qualified");
    let conversion = app.expect(
        "convert",
        app.post(
            &format!("/api/v1/leads/{lead_id}/convert"),
            json!({ "version": l["version"], "process_id": process }),
        )
        .await,
        StatusCode::CREATED,
    );
    assert_eq!(conversion["lead"]["status"], "converted");
    assert_eq!(conversion["account"]["name"], "杭州云帆科技有限公司");
    assert_eq!(conversion["contact"]["email"], "wang.fang@yunfan.example.com");
    assert!(conversion["account_created"].as_bool().unwrap() && conversion["contact_created"].as_bool().unwrap());
    let mut deal = conversion["deal"].clone();
    assert_eq!(deal["current_node"], "lead_identification");
    assert_eq!(deal["channel"], "trade_show");
    assert_eq!(deal["probability"], 10);
    let id = deal["id"].as_i64().unwrap();

    // 1 → 2: the contact came with the lead; the fit check is ticked.
    tick(app, &mut deal, "check_fit").await;
    advance(app, &mut deal, json!({ "to": "needs_analysis" })).await;

    // 2 → 3: needs recorded; the purchase intent step (a soft gate) is overridden with a reason.
    patch(app, &mut deal, json!({ "needs_summary": "痛点:线索分散在表格里;需求:统一的销售流程和看板;预算约十五万" }))
        .await;
    let refused = try_move(app, &deal, json!({ "to": "recommendation" })).await;
    let problem = app.expect("soft gate without reason", refused, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["override_required"], true, "[{}] {problem}", app.backend);
    assert_eq!(ids(&problem["missing"]), ["c_intent"]);
    let moved =
        advance(app, &mut deal, json!({ "to": "recommendation", "override_reason": "客户在展会上口头确认了采购意向" }))
            .await;
    assert_eq!(moved["details"]["override_reason"], "客户在展会上口头确认了采购意向");
    assert_eq!(moved["details"]["overridden"], json!(["c_intent"]));

    // 3 → 4: a hard gate lists every missing item at once and changes nothing.
    let before = app.expect("events", app.get(&format!("/api/v1/deals/{id}/events")).await, StatusCode::OK);
    let refused = try_move(app, &deal, json!({ "to": "negotiation" })).await;
    let problem = app.expect("hard gate", refused, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["type"], "/api/problems/gate-blocked");
    assert_eq!(ids(&problem["missing"]), ["c_amount", "c_present", "c_evidence"], "[{}] {problem}", app.backend);
    assert!(problem.get("override_required").is_none());
    let after = app.expect("events", app.get(&format!("/api/v1/deals/{id}/events")).await, StatusCode::OK);
    assert_eq!(before, after, "[{}] a refused move appends nothing", app.backend);
    let unchanged = app.expect("deal", app.get(&format!("/api/v1/deals/{id}")).await, StatusCode::OK);
    assert_eq!(unchanged, deal, "[{}] a refused move leaves the deal where it was", app.backend);

    patch(app, &mut deal, json!({ "amount": { "minor": 15_000_000, "currency": "CNY" } })).await;
    tick(app, &mut deal, "present_advantages").await;
    tick(app, &mut deal, "share_evidence").await;
    advance(app, &mut deal, json!({ "to": "negotiation" })).await;
    assert_eq!(deal["probability"], 60);

    // 4: the quote is sent and rejected → tiered package → negotiation again.
    tick(app, &mut deal, "send_quote").await;
    patch(app, &mut deal, json!({ "expected_close_date": "2026-12-31" })).await;
    let rejected = advance(app, &mut deal, json!({ "to": "tiered_package", "edge": "rejected" })).await;
    assert_eq!(rejected["details"]["route"], json!(["quote_sent", "rejected"]));
    tick(app, &mut deal, "select_tier").await;
    advance(app, &mut deal, json!({ "to": "negotiation" })).await;
    assert_eq!(deal["completed_steps"], json!([]), "[{}] a new visit starts with a fresh checklist", app.backend);
    patch(app, &mut deal, json!({ "amount": { "minor": 12_000_000, "currency": "CNY" } })).await;
    tick(app, &mut deal, "send_quote").await;
    advance(app, &mut deal, json!({ "to": "signing", "edge": "accepted" })).await;

    // 5 → Won.
    tick(app, &mut deal, "sign_contract").await;
    tick(app, &mut deal, "kickoff_execution").await;
    let won = advance(app, &mut deal, json!({ "to": "won" })).await;
    assert_eq!(deal["status"], "won");
    assert_eq!(deal["probability"], 100);
    assert_eq!(won["amount_minor"], 12_000_000);
    assert_eq!(won["currency"], "CNY");
    assert_eq!(won["expected_close_date"], "2026-12-31");

    // The event log holds exactly the story, in order.
    let events = app.expect("events", app.get(&format!("/api/v1/deals/{id}/events")).await, StatusCode::OK);
    let rows: Vec<(i64, String, String, String, Option<String>, i64)> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["seq"].as_i64().unwrap(),
                e["kind"].as_str().unwrap().to_string(),
                e["from_node"].as_str().unwrap().to_string(),
                e["to_node"].as_str().unwrap().to_string(),
                e["edge_id"].as_str().map(str::to_string),
                e["probability"].as_i64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(&str, &str, &str, Option<&str>, i64)> = vec![
        ("created", "lead_identification", "lead_identification", None, 10),
        ("step_completed", "lead_identification", "lead_identification", None, 10),
        ("moved", "lead_identification", "needs_analysis", Some("qualified"), 25),
        ("updated", "needs_analysis", "needs_analysis", None, 25),
        ("moved", "needs_analysis", "recommendation", Some("needs_confirmed"), 40),
        ("amount_changed", "recommendation", "recommendation", None, 40),
        ("step_completed", "recommendation", "recommendation", None, 40),
        ("step_completed", "recommendation", "recommendation", None, 40),
        ("moved", "recommendation", "negotiation", Some("proposal_accepted_for_quote"), 60),
        ("step_completed", "negotiation", "negotiation", None, 60),
        ("close_date_changed", "negotiation", "negotiation", None, 60),
        ("moved", "negotiation", "tiered_package", Some("rejected"), 45),
        ("step_completed", "tiered_package", "tiered_package", None, 45),
        ("moved", "tiered_package", "negotiation", Some("renegotiate"), 60),
        ("amount_changed", "negotiation", "negotiation", None, 60),
        ("step_completed", "negotiation", "negotiation", None, 60),
        ("moved", "negotiation", "signing", Some("accepted"), 90),
        ("step_completed", "signing", "signing", None, 90),
        ("step_completed", "signing", "signing", None, 90),
        ("moved", "signing", "won", Some("signed"), 100),
    ];
    let expected: Vec<_> = expected
        .into_iter()
        .enumerate()
        .map(|(i, (k, f, t, e, p))| {
            (i as i64 + 1, k.to_string(), f.to_string(), t.to_string(), e.map(str::to_string), p)
        })
        .collect();
    assert_eq!(rows, expected, "[{}] the event log", app.backend);
    let items = events["items"].as_array().unwrap();
    assert_eq!(items[5]["details"], json!({ "old": null, "new": { "minor": 15_000_000, "currency": "CNY" } }));
    assert_eq!(items[14]["details"]["old"]["minor"], 15_000_000);
    let times: Vec<chrono::DateTime<chrono::Utc>> =
        items.iter().map(|e| e["occurred_at"].as_str().unwrap().parse().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "[{}] business time never goes backwards", app.backend);

    // The process's event log, as process-mining tools read it: the stages this deal entered.
    let res = app
        .http
        .get(format!("{}/api/v1/processes/{process}/event-log", app.base))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let body = res.bytes().await.unwrap();
    assert!(body.starts_with("\u{feff}".as_bytes()), "a BOM so that spreadsheets show Chinese");
    let mut reader = csv::Reader::from_reader(&body[3..]);
    assert_eq!(
        reader.headers().unwrap().iter().take(4).collect::<Vec<_>>(),
        ["case:concept:name", "concept:name", "time:timestamp", "org:resource"]
    );
    let nodes: Vec<String> =
        reader.records().map(|r| r.unwrap()).filter(|r| r[0] == id.to_string()).map(|r| r[5].to_string()).collect();
    let entered: Vec<String> =
        rows.iter().filter(|r| r.1 == "created" || r.1 == "moved").map(|r| r.3.clone()).collect();
    assert_eq!(nodes, entered, "[{}] one row per stage entered, in order", app.backend);

    // The won deal shows up in a filtered list.
    let page = app.expect("list", app.get("/api/v1/deals?status=won&channel=trade_show").await, StatusCode::OK);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["account_name"], "杭州云帆科技有限公司");
}

fn ids(missing: &Value) -> Vec<String> {
    missing.as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_string()).collect()
}
