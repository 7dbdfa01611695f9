//! The flowchart downloads (SVG, Mermaid, draw.io, BPMN) and the BPMN import, over HTTP.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{App, apps, problem_fields};

async fn fetch(app: &App, path: &str) -> (StatusCode, String, String, String) {
    let res = app.http.get(format!("{}{path}", app.base)).bearer_auth(&app.token).send().await.expect("request");
    let header = |name: &str| res.headers().get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let (ct, cd) = (header("content-type"), header("content-disposition"));
    (res.status(), ct, cd, res.text().await.expect("body"))
}

async fn import(app: &App, content_type: &str, body: impl Into<reqwest::Body>) -> (StatusCode, Value) {
    let res = app
        .http
        .post(format!("{}/api/v1/processes/import/bpmn", app.base))
        .bearer_auth(&app.token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("request");
    let status = res.status();
    assert!(
        res.headers()["content-type"].to_str().unwrap().starts_with("application/"),
        "answers are JSON or problems"
    );
    (status, res.json().await.expect("JSON"))
}

#[tokio::test]
async fn downloads_have_their_content_types_and_escape_names() {
    for app in apps().await {
        let b = app.backend.clone();
        let mut def = salesflow_domain::templates::get("seed-five-stage.zh-CN").expect("template");
        def.key = "流程<x>".into();
        def.nodes[0].name = "<script>alert(1)</script>".into();
        def.edges[0].label = "\"引号\" & <b>".into();
        let created = app.post("/api/v1/processes", serde_json::to_value(&def).unwrap()).await;
        let id = app.expect("create", created, StatusCode::CREATED)["process_id"].as_i64().expect("id");
        let base = format!("/api/v1/processes/{id}/versions/1");

        let (status, ct, _, svg) = fetch(&app, &format!("{base}/diagram.svg")).await;
        assert_eq!((status, ct.as_str()), (StatusCode::OK, "image/svg+xml"), "[{b}]");
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""), "[{b}]");
        assert!(!svg.contains("<script"), "[{b}] markup in a stage name is text");
        assert!(svg.contains("&lt;script&gt;alert(1)"), "[{b}] {svg}");
        assert!(svg.contains("&quot;引号&quot; &amp; &lt;b&gt;"), "[{b}]");
        assert!(svg.contains("<g data-node=\"negotiation\">") && svg.contains("<g data-edge=\"renegotiate\">"));

        let (status, ct, _, mmd) = fetch(&app, &format!("{base}/flowchart.mmd")).await;
        assert_eq!((status, ct.as_str()), (StatusCode::OK, "text/plain; charset=utf-8"), "[{b}]");
        assert!(mmd.starts_with("flowchart LR\n") && mmd.contains("#quot;引号#quot; #amp; #lt;b#gt;"), "[{b}] {mmd}");

        let (status, ct, cd, drawio) = fetch(&app, &format!("{base}/flowchart.drawio")).await;
        assert_eq!((status, ct.as_str()), (StatusCode::OK, "application/xml"), "[{b}]");
        assert_eq!(cd, "attachment; filename=\"x-v1.drawio\"", "[{b}] an ASCII file name");
        assert!(drawio.contains("<mxfile") && drawio.contains("&lt;script&gt;"), "[{b}]");

        let (status, ct, cd, bpmn) = fetch(&app, &format!("{base}/flowchart.bpmn")).await;
        assert_eq!((status, ct.as_str()), (StatusCode::OK, "application/xml"), "[{b}]");
        assert!(cd.starts_with("attachment; filename=\"") && cd.ends_with(".bpmn\""), "[{b}] {cd}");
        assert!(!bpmn.contains("<script"), "[{b}]");

        let (status, ct, _, body) = fetch(&app, &format!("/api/v1/processes/{id}/versions/9/diagram.svg")).await;
        assert_eq!((status, ct.as_str()), (StatusCode::NOT_FOUND, "application/problem+json"), "[{b}] {body}");
        let unauthenticated =
            app.http.get(format!("{}{base}/diagram.svg", app.base)).send().await.expect("request").status();
        assert_eq!(unauthenticated, StatusCode::UNAUTHORIZED, "[{b}]");
    }
}

#[tokio::test]
async fn bpmn_import_creates_a_draft_or_names_every_problem() {
    for app in apps().await {
        let b = app.backend.clone();
        // A round trip: export the seed process, import it under another key.
        let id = app.seed_process().await;
        let (_, _, _, bpmn) = fetch(&app, &format!("/api/v1/processes/{id}/versions/1/flowchart.bpmn")).await;
        let seed_key = salesflow_domain::templates::get("seed-five-stage.zh-CN").unwrap().key;
        let bpmn = bpmn.replace(&seed_key, "imported-seed");
        let (status, v) = import(&app, "application/xml; charset=utf-8", bpmn.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "[{b}] {v}");
        assert_eq!(v["status"], "draft", "[{b}]");
        assert_eq!(v["version"], 1, "[{b}]");
        let seed = salesflow_domain::templates::get("seed-five-stage.zh-CN").unwrap();
        assert_eq!(v["definition"]["nodes"].as_array().map(Vec::len), Some(seed.nodes.len()), "[{b}]");

        // Elements salesflow cannot represent: one error per element, named by its id.
        let foreign = r#"<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
  <process id="p" isExecutable="false">
    <startEvent id="start"/>
    <userTask id="approve" name="审批"/>
    <parallelGateway id="fork"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="approve"/>
    <sequenceFlow id="f2" sourceRef="approve" targetRef="fork"/>
  </process>
</definitions>"#;
        let (status, p) = import(&app, "text/xml", foreign).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "[{b}] {p}");
        let fields = problem_fields(&p);
        assert!(fields.contains(&"fork".to_string()), "[{b}] {p}");

        let (status, p) = import(&app, "text/xml", "<not-bpmn").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "[{b}] {p}");
        assert!(p["type"].is_string());

        let (status, p) = import(&app, "application/json", bpmn).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "[{b}] {p}");

        let huge = format!("<definitions>{}</definitions>", " ".repeat(3 * 1024 * 1024));
        let (status, p) = import(&app, "application/xml", huge).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "[{b}] {p}");
        assert_eq!(p["status"], 413, "[{b}]");
    }
}
