//! Bad input: each gets a 4xx problem naming what is wrong, and nothing changes.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{App, apps, problem_fields};

async fn raw_post(app: &App, path: &str, body: &str) -> (StatusCode, Value) {
    let res = app
        .http
        .post(format!("{}{path}", app.base))
        .bearer_auth(&app.token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = res.status();
    assert_eq!(res.headers()["content-type"], "application/problem+json", "[{}] {path}", app.backend);
    (status, res.json().await.unwrap())
}

async fn new_deal(app: &App, process: i64) -> Value {
    let account = app.expect(
        "account",
        app.post("/api/v1/accounts", json!({ "name": "Northwind Ltd." })).await,
        StatusCode::CREATED,
    );
    let body = json!({ "title": "Northwind rollout", "account_id": account["id"], "process_id": process });
    app.expect("deal", app.post("/api/v1/deals", body).await, StatusCode::CREATED)
}

#[tokio::test]
async fn bad_input_is_named_and_changes_nothing() {
    for app in apps().await {
        let process = app.seed_process().await;
        let deal = new_deal(&app, process).await;
        let id = deal["id"].as_i64().unwrap();

        // Malformed JSON.
        let (status, p) = raw_post(&app, "/api/v1/accounts", "{\"name\": ").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "[{}] {p}", app.backend);
        assert_eq!(p["type"], "/api/problems/malformed-request");

        // Unknown field, wrong type, overflowing amount, unknown currency.
        let (status, p) = raw_post(&app, "/api/v1/accounts", r#"{"name":"A","colour":"red"}"#).await;
        assert_eq!((status, problem_fields(&p)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["colour".to_string()]), "{p}");
        let body = json!({ "title": "x", "account_id": "seven", "process_id": process }).to_string();
        let (status, p) = raw_post(&app, "/api/v1/deals", &body).await;
        assert_eq!(
            (status, problem_fields(&p)),
            (StatusCode::UNPROCESSABLE_ENTITY, vec!["account_id".to_string()]),
            "{p}"
        );
        let body = format!(
            r#"{{"title":"x","account_id":{},"process_id":{process},"amount":{{"minor":99999999999999999999,"currency":"CNY"}}}}"#,
            deal["account_id"]
        );
        let (status, p) = raw_post(&app, "/api/v1/deals", &body).await;
        assert_eq!(
            (status, problem_fields(&p)),
            (StatusCode::UNPROCESSABLE_ENTITY, vec!["amount.minor".to_string()]),
            "{p}"
        );
        let body = json!({ "title": "x", "account_id": deal["account_id"], "process_id": process,
                           "amount": { "minor": 1_000_000_000_000_000_000i64, "currency": "CNY" } });
        let p = app.expect("amount too large", app.post("/api/v1/deals", body).await, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem_fields(&p), ["amount.minor"]);
        let body = json!({ "title": "x", "account_id": deal["account_id"], "process_id": process,
                           "amount": { "minor": 100, "currency": "RMB" } });
        let p = app.expect("bad currency", app.post("/api/v1/deals", body).await, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem_fields(&p), ["amount.currency"], "{p}");
        assert!(p["detail"].as_str().unwrap().contains("ISO 4217"));

        // Ids that do not exist.
        app.expect("missing deal", app.get("/api/v1/deals/999999").await, StatusCode::NOT_FOUND);
        app.expect("malformed id", app.get("/api/v1/deals/abc").await, StatusCode::NOT_FOUND);
        let body = json!({ "title": "x", "account_id": 999999, "process_id": process });
        let p = app.expect("missing account", app.post("/api/v1/deals", body).await, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem_fields(&p), ["account_id"]);
        let body = json!({ "title": "x", "account_id": deal["account_id"], "process_id": 999999 });
        let p = app.expect("missing process", app.post("/api/v1/deals", body).await, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem_fields(&p), ["process_id"]);

        // A move along an edge that does not exist, Lost without a reason, a stale version,
        // a back-dated event before the previous one.
        let path = format!("/api/v1/deals/{id}/moves");
        let p = app.expect(
            "no edge",
            app.post(&path, json!({ "to": "won", "version": deal["version"] })).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
        assert_eq!(problem_fields(&p), ["to"]);
        assert!(p["detail"].as_str().unwrap().contains("needs_analysis"), "the allowed moves are listed: {p}");
        let p = app.expect(
            "lost without reason",
            app.post(&path, json!({ "to": "lost", "version": deal["version"] })).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
        assert_eq!(problem_fields(&p), ["lost_reason"]);
        let p = app.expect(
            "stale",
            app.post(&path, json!({ "to": "lost", "lost_reason": "x", "version": 99 })).await,
            StatusCode::CONFLICT,
        );
        assert_eq!(p["type"], "/api/problems/conflict");
        let p = app.expect(
            "back-dated",
            app.post(&path, json!({ "to": "lost", "lost_reason": "x", "version": deal["version"], "occurred_at": "2001-01-01T00:00:00Z" })).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
        assert_eq!(problem_fields(&p), ["occurred_at"]);
        let still = app.expect("deal", app.get(&format!("/api/v1/deals/{id}")).await, StatusCode::OK);
        assert_eq!(still, deal, "[{}] nothing changed", app.backend);
        let events = app.expect("events", app.get(&format!("/api/v1/deals/{id}/events")).await, StatusCode::OK);
        assert_eq!(events["items"].as_array().unwrap().len(), 1);

        // A process that fails validation cannot be published; a published one cannot change.
        let mut def = salesflow_domain::templates::get("seed-five-stage.en").unwrap();
        def.key = "broken".into();
        def.edges.retain(|e| e.id != "signed");
        let draft = app.expect(
            "draft",
            app.post("/api/v1/processes", serde_json::to_value(&def).unwrap()).await,
            StatusCode::CREATED,
        );
        let pid = draft["process_id"].as_i64().unwrap();
        let p = app.expect(
            "publish invalid",
            app.post(&format!("/api/v1/processes/{pid}/versions/1/publish"), json!({})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
        assert_eq!(p["type"], "/api/problems/process-invalid");
        assert!(
            p["issues"].as_array().unwrap().iter().any(|i| i["node"] == "signing" && i["code"] == "cannot_finish"),
            "{p}"
        );
        let v = app.expect(
            "validate",
            app.post("/api/v1/processes/validate", serde_json::to_value(&def).unwrap()).await,
            StatusCode::OK,
        );
        assert_eq!(v["valid"], false);
        let put = app
            .call(
                reqwest::Method::PUT,
                &format!("/api/v1/processes/{process}/versions/1"),
                Some(serde_json::to_value(salesflow_domain::templates::get("seed-five-stage.zh-CN").unwrap()).unwrap()),
            )
            .await;
        app.expect("published is immutable", put, StatusCode::CONFLICT);

        // Bad list parameters, no token.
        let p = app.expect("bad limit", app.get("/api/v1/deals?limit=0").await, StatusCode::BAD_REQUEST);
        assert_eq!(problem_fields(&p), ["limit"]);
        let p = app.expect("bad status", app.get("/api/v1/deals?status=maybe").await, StatusCode::BAD_REQUEST);
        assert_eq!(problem_fields(&p), ["status"], "{p}");
        let res = app.http.get(format!("{}/api/v1/deals", app.base)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let res = app.http.get(format!("{}/api/v1/deals", app.base)).bearer_auth("sf_forged").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn keyset_pages_cover_every_deal_once() {
    for app in apps().await {
        let process = app.seed_process().await;
        let mut made = Vec::new();
        for _ in 0..7 {
            made.push(new_deal(&app, process).await["id"].as_i64().unwrap());
        }
        let mut seen = Vec::new();
        let mut cursor: Option<i64> = None;
        loop {
            let path = match cursor {
                Some(c) => format!("/api/v1/deals?limit=3&cursor={c}"),
                None => "/api/v1/deals?limit=3".to_string(),
            };
            let page = app.expect("page", app.get(&path).await, StatusCode::OK);
            seen.extend(page["items"].as_array().unwrap().iter().map(|d| d["id"].as_i64().unwrap()));
            match page["next_cursor"].as_i64() {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        made.reverse();
        assert_eq!(seen, made, "[{}] newest first, each once", app.backend);
    }
}

#[tokio::test]
async fn openapi_document_and_docs_page_are_served() {
    let app = apps().await.remove(0);
    let doc = app.expect("openapi", app.get("/api/openapi.json").await, StatusCode::OK);
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/deals",
        "/api/v1/deals/{id}/moves",
        "/api/v1/leads/{id}/convert",
        "/api/v1/processes/{id}/versions/{version}/publish",
    ] {
        assert!(paths.contains_key(p), "OpenAPI lists {p}");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    let page = app.http.get(format!("{}/api/docs/", app.base)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger"), "the docs page is served from the binary");
    assert!(!html.contains("https://"), "no CDN");
}
