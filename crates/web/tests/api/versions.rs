//! Changing a process over HTTP: editor saves refused with every problem named, the layout for
//! the editor, retiring a version, and migrating open deals with a preview (admins only).

use reqwest::{Method, StatusCode};
use salesflow_domain::process::{Edge, Node, NodeKind, ProcessDefinition, Stage};
use salesflow_domain::records::Role;
use serde_json::{Value, json};

use crate::helpers::{App, apps, problem_fields};

/// The seed process with "方案演示" between recommendation and quotation.
fn with_demo_stage(mut def: ProcessDefinition) -> ProcessDefinition {
    def.nodes.push(Node {
        id: "solution_demo".into(),
        name: "方案演示".into(),
        kind: NodeKind::Stage(Stage {
            goal: "向客户演示方案".into(),
            steps: vec![],
            tools: vec![],
            exit_criteria: vec![],
            probability: 50,
            sla_days: 5,
        }),
    });
    def.edges.retain(|e| e.id != "proposal_accepted_for_quote");
    let edge = |id: &str, from: &str, to: &str, label: &str| Edge {
        id: id.into(),
        from: from.into(),
        to: to.into(),
        label: label.into(),
    };
    def.edges.push(edge("to_demo", "recommendation", "solution_demo", "认可方案"));
    def.edges.push(edge("demo_done", "solution_demo", "negotiation", "演示完成"));
    def.edges.push(edge("demo_lost", "solution_demo", "lost", "丢单"));
    def
}

async fn new_deal(app: &App, process: i64, title: &str) -> Value {
    let account =
        app.expect("account", app.post("/api/v1/accounts", json!({ "name": title })).await, StatusCode::CREATED);
    let body = json!({ "title": title, "account_id": account["id"], "process_id": process });
    app.expect("deal", app.post("/api/v1/deals", body).await, StatusCode::CREATED)
}

#[tokio::test]
async fn editor_saves_that_break_the_process_are_refused_naming_the_element() {
    for app in apps().await {
        let b = app.backend.clone();
        let process = app.seed_process().await;
        let draft = app.post(&format!("/api/v1/processes/{process}/versions"), json!({})).await;
        let v = app.expect("draft", draft, StatusCode::CREATED)["version"].as_i64().unwrap();
        let url = format!("/api/v1/processes/{process}/versions/{v}");
        let before = app.expect("read", app.get(&url).await, StatusCode::OK);
        let template = salesflow_domain::templates::get("seed-five-stage.zh-CN").unwrap();

        // A stage nothing leads into and nothing leaves: a second entry that cannot finish.
        let mut dangling = with_demo_stage(template.clone());
        dangling.edges.retain(|e| e.from != "solution_demo" && e.to != "solution_demo");
        dangling.edges.push(Edge {
            id: "back".into(),
            from: "recommendation".into(),
            to: "negotiation".into(),
            label: "x".into(),
        });
        let (status, p) = app.call(Method::PUT, &url, Some(serde_json::to_value(&dangling).unwrap())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "[{b}] {p}");
        assert_eq!(p["type"], "/api/problems/process-invalid", "[{b}]");
        let codes: Vec<(&str, &str)> = p["issues"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["node"] == "solution_demo")
            .map(|i| (i["code"].as_str().unwrap(), i["node"].as_str().unwrap()))
            .collect();
        assert!(codes.contains(&("several_entries", "solution_demo")), "[{b}] a second entry: {p}");
        assert!(codes.contains(&("cannot_finish", "solution_demo")), "[{b}] {p}");

        // A 10,000-character name.
        let mut long = with_demo_stage(template.clone());
        long.nodes.last_mut().unwrap().name = "长".repeat(10_000);
        let (status, p) = app.call(Method::PUT, &url, Some(serde_json::to_value(&long).unwrap())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "[{b}]");
        assert!(
            p["issues"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["code"] == "name_too_long" && i["node"] == "solution_demo"),
            "[{b}] {p}"
        );
        assert_eq!(app.get(&url).await.1, before, "[{b}] nothing saved");

        // Markup in a name is text: saved as typed, drawn escaped.
        let mut markup = with_demo_stage(template.clone());
        markup.nodes.last_mut().unwrap().name = "<script>alert(1)</script>".into();
        let saved = app.call(Method::PUT, &url, Some(serde_json::to_value(&markup).unwrap())).await;
        let saved = app.expect("markup saved", saved, StatusCode::OK);
        assert_eq!(
            saved["definition"]["nodes"].as_array().unwrap().last().unwrap()["name"],
            "<script>alert(1)</script>"
        );

        // The editor's auto-layout: a box for every node; broken references are refused.
        let laid = app.post("/api/v1/processes/layout", serde_json::to_value(&markup).unwrap()).await;
        let laid = app.expect("layout", laid, StatusCode::OK);
        assert_eq!(laid["nodes"].as_object().unwrap().len(), markup.nodes.len(), "[{b}]");
        assert!(laid["nodes"]["solution_demo"]["width"].as_f64().unwrap() > 0.0, "[{b}]");
        let mut broken = markup.clone();
        broken.edges[0].to = "nowhere".into();
        let refused = app.post("/api/v1/processes/layout", serde_json::to_value(&broken).unwrap()).await;
        assert_eq!(refused.0, StatusCode::UNPROCESSABLE_ENTITY, "[{b}]");
    }
}

#[tokio::test]
async fn open_deals_migrate_after_a_preview_and_versions_retire() {
    for app in apps().await {
        let b = app.backend.clone();
        let process = app.seed_process().await;
        let first = new_deal(&app, process, "华东 年度采购").await;
        let second = new_deal(&app, process, "华南 扩容").await;
        let template = salesflow_domain::templates::get("seed-five-stage.zh-CN").unwrap();
        let draft = json!({ "definition": with_demo_stage(template) });
        let v2 = app.post(&format!("/api/v1/processes/{process}/versions"), draft).await;
        let v2 = app.expect("v2", v2, StatusCode::CREATED)["version"].as_i64().unwrap();
        let publish = app.post(&format!("/api/v1/processes/{process}/versions/{v2}/publish"), json!({})).await;
        app.expect("publish v2", publish, StatusCode::OK);

        let preview_url = format!("/api/v1/processes/{process}/migrations/preview");
        let req = json!({ "from_version": 1, "to_version": v2 });
        let preview = app.expect("preview", app.post(&preview_url, req.clone()).await, StatusCode::OK);
        assert_eq!(preview["deals"], 2, "[{b}] {preview}");
        assert_eq!(preview["applied"], false, "[{b}]");
        assert_eq!(preview["mapping"]["recommendation"], "recommendation", "[{b}] suggested");
        let landing = preview["landing"].as_array().unwrap();
        assert!(landing.iter().any(|l| l["node"] == "lead_identification" && l["deals"] == 2), "[{b}] {preview}");
        assert!(landing.iter().any(|l| l["node"] == "solution_demo" && l["deals"] == 0), "[{b}] new stage listed");
        assert_eq!(preview["failing"].as_array().unwrap().len(), 2, "[{b}] no contact, nothing ticked: {preview}");
        assert_eq!(app.get(&format!("/api/v1/deals/{}", first["id"])).await.1["process_version"], 1, "[{b}]");

        // Applying needs every stage named.
        let apply_url = format!("/api/v1/processes/{process}/migrations");
        let p = app.expect("incomplete", app.post(&apply_url, req).await, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(problem_fields(&p).contains(&"mapping.negotiation".to_string()), "[{b}] {p}");

        // Only admins: a manager is refused with a problem.
        let manager = app.person(Role::Manager).await;
        let mapping = preview["mapping"].clone();
        let full = json!({ "from_version": 1, "to_version": v2, "mapping": mapping });
        let (status, p) = app.call_as(&manager.token, Method::POST, &apply_url, Some(full.clone())).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "[{b}] {p}");

        let done = app.expect("apply", app.post(&apply_url, full).await, StatusCode::OK);
        assert_eq!((done["deals"].as_i64(), done["applied"].as_bool()), (Some(2), Some(true)), "[{b}]");
        for deal in [&first, &second] {
            let now = app.get(&format!("/api/v1/deals/{}", deal["id"])).await.1;
            assert_eq!(now["process_version"], v2, "[{b}]");
            let events = app.get(&format!("/api/v1/deals/{}/events", deal["id"])).await.1;
            let last = events["items"].as_array().or(events.as_array()).unwrap().last().unwrap().clone();
            assert_eq!(
                (last["kind"].as_str(), last["process_version"].as_i64()),
                (Some("migrated"), Some(v2)),
                "[{b}]"
            );
        }

        // Retired: no new deal enters version 1; retiring twice is a conflict.
        let retire = format!("/api/v1/processes/{process}/versions/1/retire");
        let retired = app.expect("retire", app.post(&retire, json!({})).await, StatusCode::OK);
        assert_eq!(retired["status"], "retired", "[{b}]");
        app.expect("again", app.post(&retire, json!({})).await, StatusCode::CONFLICT);
        let third = new_deal(&app, process, "西南 新项目").await;
        assert_eq!(third["process_version"], v2, "[{b}]");
    }
}

#[tokio::test]
async fn the_flowchart_comes_as_png_without_a_browser() {
    for app in apps().await {
        let b = app.backend.clone();
        let process = app.seed_process().await;
        let base = format!("{}/api/v1/processes/{process}/versions/1", app.base);
        let svg = app.http.get(format!("{base}/diagram.svg")).bearer_auth(&app.token).send().await.unwrap();
        let svg = svg.text().await.unwrap();
        let width: f64 = svg.split("width=\"").nth(1).and_then(|w| w.split('"').next()).unwrap().parse().unwrap();
        let res = app.http.get(format!("{base}/diagram.png")).bearer_auth(&app.token).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "[{b}]");
        assert_eq!(res.headers()["content-type"], "image/png", "[{b}]");
        let png = res.bytes().await.unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "[{b}]");
        let png_width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        assert_eq!(png_width, (width as f32 * salesflow_flowchart::png::SCALE).ceil() as u32, "[{b}]");
        let missing = app.http.get(format!("{}/api/v1/processes/{process}/versions/9/diagram.png", app.base));
        assert_eq!(missing.bearer_auth(&app.token).send().await.unwrap().status(), StatusCode::NOT_FOUND, "[{b}]");
    }
}

/// Node positions from the editor: saved with the draft, published with it, followed by the
/// SVG (and the PNG, which is drawn from it), ignored by the auto-layout, named when bad, and
/// documented in the OpenAPI schema.
#[tokio::test]
async fn node_positions_are_saved_published_and_drawn() {
    for app in apps().await {
        let b = app.backend.clone();
        let process = app.seed_process().await;
        let draft = app.post(&format!("/api/v1/processes/{process}/versions"), json!({})).await;
        let v = app.expect("draft", draft, StatusCode::CREATED)["version"].as_i64().unwrap();
        let url = format!("/api/v1/processes/{process}/versions/{v}");
        let mut def = salesflow_domain::templates::get("seed-five-stage.zh-CN").unwrap();
        for (i, n) in def.nodes.iter().enumerate() {
            let p = salesflow_domain::process::Position { x: 100.0 + i as f64 * 10.0, y: 50.0 + i as f64 * 150.0 };
            def.positions.insert(n.id.clone(), p);
        }
        let saved = app.call(Method::PUT, &url, Some(serde_json::to_value(&def).unwrap())).await;
        let saved = app.expect("saved with positions", saved, StatusCode::OK);
        assert_eq!(saved["definition"]["positions"]["won"], json!({ "x": 170.0, "y": 1100.0 }), "[{b}] {saved}");
        let read = app.expect("read", app.get(&url).await, StatusCode::OK);
        let back: ProcessDefinition = serde_json::from_value(read["definition"].clone()).unwrap();
        assert_eq!(back.positions, def.positions, "[{b}]");

        // The auto-layout ignores them: the editor's button lays everything out afresh.
        let laid = app.post("/api/v1/processes/layout", serde_json::to_value(&def).unwrap()).await;
        let laid = app.expect("layout", laid, StatusCode::OK);
        let auto = salesflow_flowchart::layout::auto(&def);
        let won_x = laid["nodes"]["won"]["x"].as_f64().unwrap();
        assert!((won_x - auto.nodes["won"].x).abs() < 0.01, "[{b}] {won_x}");

        // Published with the positions; the SVG puts the top-left box at the margin and every
        // other one as far from it as stored (here straight down the page).
        let published = app.post(&format!("{url}/publish"), json!({})).await;
        let published = app.expect("publish", published, StatusCode::OK);
        assert_eq!(published["definition"]["positions"], saved["definition"]["positions"], "[{b}]");
        let svg = app.http.get(format!("{}{url}/diagram.svg", app.base)).bearer_auth(&app.token).send().await;
        let svg = svg.unwrap().text().await.unwrap();
        let rect_of = |id: &str| -> (f64, f64) {
            let g = svg.split(&format!("<g data-node=\"{id}\">")).nth(1).unwrap();
            let num = |attr: &str| g.split(&format!(" {attr}=\"")).nth(1).unwrap().split('"').next().unwrap();
            (num("x").parse().unwrap(), num("y").parse().unwrap())
        };
        let first = &def.nodes[0].id;
        assert_eq!(rect_of(first), (20.0, 42.0), "[{b}] {first}");
        let last_stage = def.nodes.iter().rposition(|n| matches!(n.kind, NodeKind::Stage(_))).unwrap();
        let (x, y) = rect_of(&def.nodes[last_stage].id);
        assert_eq!((x, y), (20.0 + last_stage as f64 * 10.0, 42.0 + last_stage as f64 * 150.0), "[{b}]");
        let png = app.http.get(format!("{}{url}/diagram.png", app.base)).bearer_auth(&app.token).send().await;
        assert_eq!(png.unwrap().status(), StatusCode::OK, "[{b}]");

        // A position for a node the process lacks, or off the scale, is refused by name.
        let draft = app.post(&format!("/api/v1/processes/{process}/versions"), json!({})).await;
        let v = app.expect("draft 3", draft, StatusCode::CREATED)["version"].as_i64().unwrap();
        let url = format!("/api/v1/processes/{process}/versions/{v}");
        let mut body = serde_json::to_value(&def).unwrap();
        body["positions"]["ghost"] = json!({ "x": 1, "y": 2 });
        body["positions"]["won"] = json!({ "x": 1e9, "y": 2 });
        let (status, p) = app.call(Method::PUT, &url, Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "[{b}] {p}");
        let issues: Vec<(&str, &str)> = p["issues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (i["code"].as_str().unwrap(), i["node"].as_str().unwrap_or("")))
            .collect();
        assert_eq!(issues, [("position_unknown_node", "ghost"), ("position_out_of_range", "won")], "[{b}] {p}");
        let mut body = serde_json::to_value(&def).unwrap();
        body["positions"]["won"] = json!({ "x": 1, "y": 2, "z": 3 });
        let (status, p) = app.call(Method::PUT, &url, Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "[{b}] {p}");
        assert!(p.to_string().contains("positions"), "[{b}] the field is named: {p}");

        // The OpenAPI schema documents the field.
        let doc = app.expect("openapi", app.get("/api/openapi.json").await, StatusCode::OK);
        let schemas = &doc["components"]["schemas"];
        let positions = &schemas["ProcessDefinition"]["properties"]["positions"];
        assert!(positions.is_object(), "[{b}] {}", schemas["ProcessDefinition"]);
        assert!(positions["description"].as_str().unwrap_or("").contains("top-left"), "[{b}] {positions}");
        assert!(schemas["Position"]["properties"]["x"].is_object(), "[{b}]");
    }
}

/// A browser session: cookies kept by hand, redirects not followed.
struct Session {
    http: reqwest::Client,
    base: String,
    cookies: std::collections::BTreeMap<String, String>,
}

impl Session {
    async fn signed_in(app: &App, person: &crate::helpers::Person) -> Session {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let mut s = Session { http, base: app.base.clone(), cookies: Default::default() };
        let (_, page, _) = s.send(Method::GET, "/login", &[]).await;
        let csrf = between(&page, "name=\"_csrf\" value=\"", "\"").to_string();
        let email = app.email_of(person.id).await;
        let password = format!("password-{}!", person.id);
        let fields = [("email", email.as_str()), ("password", password.as_str()), ("_csrf", csrf.as_str())];
        let (status, _, _) = s.send(Method::POST, "/login", &fields).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "[{}] signed in", app.backend);
        s
    }

    async fn send(&mut self, method: Method, path: &str, form: &[(&str, &str)]) -> (StatusCode, String, String) {
        let cookie = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let mut req = self.http.request(method.clone(), format!("{}{path}", self.base)).header("cookie", cookie);
        if method == Method::POST {
            req = req.form(form);
        }
        let res = req.send().await.unwrap();
        for v in res.headers().get_all("set-cookie") {
            let (pair, _) = v.to_str().unwrap().split_once(';').unwrap_or((v.to_str().unwrap(), ""));
            let (k, val) = pair.split_once('=').unwrap();
            self.cookies.insert(k.to_string(), val.to_string());
        }
        let location = res.headers().get("location").map(|l| l.to_str().unwrap().to_string()).unwrap_or_default();
        (res.status(), res.text().await.unwrap(), location)
    }

    /// Posts a form of `page` with its CSRF token.
    async fn submit(&mut self, page: &str, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String, String) {
        let csrf = between(page, "name=\"csrf-token\" content=\"", "\"").to_string();
        let mut all = fields.to_vec();
        all.push(("_csrf", &csrf));
        self.send(Method::POST, path, &all).await
    }
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).unwrap_or_else(|| panic!("`{start}` in the page")) + start.len();
    text[from..].split(end).next().unwrap()
}

#[tokio::test]
async fn version_pages_start_drafts_open_the_editor_and_migrate_with_a_preview() {
    for app in apps().await {
        let b = app.backend.clone();
        let process = app.seed_process().await;
        new_deal(&app, process, "华东 年度采购").await;
        let admin = app.person(Role::Admin).await;
        let mut s = Session::signed_in(&app, &admin).await;

        let (status, page, _) = s.send(Method::GET, &format!("/processes/{process}/versions/1"), &[]).await;
        assert_eq!(status, StatusCode::OK, "[{b}]");
        assert!(page.contains("data-testid=\"new-draft\"") && page.contains("data-testid=\"retire\""), "[{b}]");
        assert!(page.contains("/diagram.png"), "[{b}] PNG download");
        let (status, _, location) = s.submit(&page, &format!("/processes/{process}/versions/1/draft"), &[]).await;
        assert_eq!(
            (status, location.as_str()),
            (StatusCode::SEE_OTHER, &*format!("/processes/{process}/versions/2/edit"))
        );

        // The editor carries the draft in an attribute, escaped.
        let mut def = with_demo_stage(salesflow_domain::templates::get("seed-five-stage.zh-CN").unwrap());
        def.nodes.last_mut().unwrap().name = "<script>alert(1)</script>".into();
        let url = format!("/api/v1/processes/{process}/versions/2");
        let put = app.call(Method::PUT, &url, Some(serde_json::to_value(&def).unwrap())).await;
        app.expect("save", put, StatusCode::OK);
        let (status, editor, _) = s.send(Method::GET, &format!("/processes/{process}/versions/2/edit"), &[]).await;
        assert_eq!(status, StatusCode::OK, "[{b}]");
        assert!(editor.contains("data-definition=\"") && editor.contains("/static/vendor/drawflow/drawflow.min.js"));
        // What an exit criterion can name comes from the domain, for the criteria rows.
        assert!(editor.contains("data-choices=\""), "[{b}] choices");
        assert!(
            ["expected_close_date", "needs_summary", "purchase_intent", "decision_maker"]
                .iter()
                .all(|v| editor.contains(v))
        );
        assert!(!editor.contains("<script>alert(1)") && editor.contains("&#60;script&#62;alert(1)"), "[{b}] escaped");
        let publish = app.post(&format!("/api/v1/processes/{process}/versions/2/publish"), json!({})).await;
        app.expect("publish", publish, StatusCode::OK);
        let (status, _, _) = s.send(Method::GET, &format!("/processes/{process}/versions/2/edit"), &[]).await;
        assert_eq!(status, StatusCode::CONFLICT, "[{b}] only drafts are edited");

        // The migration page: suggestions, the preview, a refused incomplete mapping, then applied.
        let (status, page, _) = s.send(Method::GET, &format!("/processes/{process}/migrate?to=2"), &[]).await;
        assert_eq!(status, StatusCode::OK, "[{b}]");
        assert!(page.contains("<option value=\"recommendation\" selected>"), "[{b}] suggested");
        assert_eq!(between(&page, "data-testid=\"deal-count\">", "<"), "1", "[{b}]");
        let path = format!("/processes/{process}/migrate");
        let partial = [("from", "1"), ("to", "2"), ("map.recommendation", "recommendation")];
        let (status, refused, _) = s.submit(&page, &path, &partial).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "[{b}]");
        assert!(refused.contains("data-field=\"map.needs_analysis\""), "[{b}] the missing stage is named");
        let v1 = salesflow_domain::templates::get("seed-five-stage.zh-CN").unwrap();
        let full: Vec<(String, String)> =
            v1.stages_in_order().iter().map(|n| (format!("map.{}", n.id), n.id.clone())).collect();
        let mut fields: Vec<(&str, &str)> = vec![("from", "1"), ("to", "2")];
        fields.extend(full.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let (status, done, _) = s.submit(&page, &path, &fields).await;
        assert_eq!(status, StatusCode::OK, "[{b}]");
        assert!(done.contains("data-testid=\"migration-applied\""), "[{b}]");

        // Managers edit processes but do not migrate deals.
        let manager = app.person(Role::Manager).await;
        let mut m = Session::signed_in(&app, &manager).await;
        let (status, _, _) = m.send(Method::GET, &format!("/processes/{process}/migrate"), &[]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "[{b}]");
        let (_, page, _) = m.send(Method::GET, &format!("/processes/{process}/versions/2"), &[]).await;
        assert!(!page.contains("migrate-link") && page.contains("data-testid=\"retire\""), "[{b}]");
    }
}
