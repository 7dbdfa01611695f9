//! Processes (销售流程): the list, the gallery of shipped templates (admins and managers start
//! a process from one) and a read-only view of one version: its stages in order with goal,
//! steps, tools, exit criteria, probability and SLA, and every edge with its label.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use salesflow_domain::Error;
use salesflow_domain::ids::ProcessId;
use salesflow_domain::process::{NodeKind, ProcessDefinition, Requirement};
use salesflow_domain::records::Role;
use salesflow_domain::store::{ProcessSummary, VersionStatus};
use salesflow_domain::templates;
use serde::Deserialize;

use super::{FormErrors, path_id, safe_link};
use crate::AppState;
use crate::i18n::crm::Crm;
use crate::pages::format::datetime;
use crate::pages::{Chrome, Ctx, error_page, render};
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::default()
        .get("/processes", list)
        .get("/processes/templates", gallery)
        .post("/processes/templates/{key}", use_template)
        .get("/processes/{id}", latest)
        .get("/processes/{id}/versions/{version}", version)
}

/// The flowchart's texts on these pages, in both languages (the struct makes a missing one
/// fail to compile, like `i18n`).
pub(crate) struct FlowchartTexts {
    pub title: &'static str,
    pub download: &'static str,
    pub svg: &'static str,
    pub png: &'static str,
    pub mermaid: &'static str,
    pub drawio: &'static str,
    pub bpmn: &'static str,
    pub thumb_alt: &'static str,
}

const FLOWCHART_ZH: FlowchartTexts = FlowchartTexts {
    title: "流程图",
    download: "下载",
    svg: "SVG 图片",
    png: "PNG 图片",
    mermaid: "Mermaid 文本",
    drawio: "draw.io 文件",
    bpmn: "BPMN 2.0",
    thumb_alt: "流程图预览",
};

const FLOWCHART_EN: FlowchartTexts = FlowchartTexts {
    title: "Flowchart",
    download: "Download",
    svg: "SVG image",
    png: "PNG image",
    mermaid: "Mermaid text",
    drawio: "draw.io file",
    bpmn: "BPMN 2.0",
    thumb_alt: "Flowchart preview",
};

pub(crate) fn flowchart_texts(ctx: &Ctx) -> &'static FlowchartTexts {
    if ctx.locale.tag() == "en" { &FLOWCHART_EN } else { &FLOWCHART_ZH }
}

/// The process drawn as SVG markup for inlining (`|safe` in templates: the renderer escapes
/// every text it draws). The pages already mark their stage cards and edge rows with
/// `data-node` / `data-edge`, so the drawing's groups are renamed `data-flow-node` /
/// `data-flow-edge` here to keep one meaning per attribute on a page.
pub(crate) fn flowchart_svg(def: &ProcessDefinition, overlay: &salesflow_flowchart::svg::Overlay) -> String {
    salesflow_flowchart::svg::render(def, &salesflow_flowchart::layout(def), overlay)
        .replace("<g data-node=\"", "<g data-flow-node=\"")
        .replace("<g data-edge=\"", "<g data-flow-edge=\"")
}

fn language(tag: &str) -> &'static str {
    match tag {
        "en" => "English",
        _ => "中文",
    }
}

struct ProcessRow {
    id: i64,
    name: String,
    key: String,
    language: &'static str,
    latest: i32,
    published: Option<i32>,
}

#[derive(Template)]
#[template(path = "crm_processes.html")]
struct ProcessesPage<'a> {
    chrome: Chrome<'a>,
    t: &'static Crm,
    rows: Vec<ProcessRow>,
}

async fn list(ctx: Ctx, State(s): State<AppState>) -> Response {
    let processes = match s.store.list_processes().await {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let rows = processes
        .into_iter()
        .map(|p| ProcessRow {
            id: p.id.0,
            language: language(&p.locale),
            name: p.name,
            key: p.key,
            latest: p.latest_version,
            published: p.published_version,
        })
        .collect();
    render(&ProcessesPage { chrome: ctx.chrome("processes"), t: ctx.t.crm, rows })
}

// ---------------------------------------------------------------------------------------------
// The template gallery

struct TemplateCard {
    key: String,
    name: String,
    description: String,
    stage_count: usize,
    /// `6 个阶段` / `6 stages`.
    stage_label: String,
    stages: Vec<String>,
    /// The flowchart, drawn (escaped by the renderer).
    svg: String,
    /// The name typed for the new process (the template's by default).
    new_name: String,
    publish: bool,
    errors: FormErrors,
}

#[derive(Template)]
#[template(path = "crm_templates.html")]
struct TemplatesPage<'a> {
    chrome: Chrome<'a>,
    t: &'static Crm,
    f: &'static FlowchartTexts,
    cards: Vec<TemplateCard>,
    can_use: bool,
}

fn is_editor(ctx: &Ctx) -> bool {
    matches!(ctx.user().role, Role::Admin | Role::Manager)
}

/// The gallery in the user's language; `typed` keeps one card's refused form.
fn gallery_page(ctx: &Ctx, typed: Option<(String, UseInput, FormErrors)>, status: StatusCode) -> Response {
    let mut typed = typed;
    let cards = templates::all()
        .into_iter()
        .filter(|d| d.locale == ctx.locale.tag())
        .map(|d| {
            let stages: Vec<String> = d.stages_in_order().iter().map(|n| n.name.clone()).collect();
            let mine = typed.take_if(|(key, _, _)| *key == d.key);
            let (new_name, publish, errors) = match mine {
                Some((_, input, errors)) => (input.name, input.publish.is_some(), errors),
                None => (d.name.clone(), true, FormErrors::default()),
            };
            let stage_count = d.nodes.iter().filter(|n| matches!(n.kind, NodeKind::Stage(_))).count();
            TemplateCard {
                svg: flowchart_svg(&d, &Default::default()),
                stage_count,
                stage_label: ctx.t.crm.stage_count.replace("{n}", &stage_count.to_string()),
                stages,
                key: d.key,
                name: d.name,
                description: d.description,
                new_name,
                publish,
                errors,
            }
        })
        .collect();
    let mut res = render(&TemplatesPage {
        chrome: ctx.chrome("processes"),
        t: ctx.t.crm,
        f: flowchart_texts(ctx),
        cards,
        can_use: is_editor(ctx),
    });
    *res.status_mut() = status;
    res
}

async fn gallery(ctx: Ctx) -> Response {
    gallery_page(&ctx, None, StatusCode::OK)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UseInput {
    name: String,
    publish: Option<String>,
}

/// `key`, or `key-2`, `key-3` … whichever no process uses yet.
fn free_key(base: &str, taken: &[ProcessSummary]) -> String {
    let used = |k: &str| taken.iter().any(|p| p.key == k);
    if !used(base) {
        return base.to_string();
    }
    (2..).map(|n| format!("{base}-{n}")).find(|k| !used(k)).expect("some suffix is free")
}

async fn use_template(
    ctx: Ctx,
    State(s): State<AppState>,
    Path(key): Path<String>,
    Form(input): Form<UseInput>,
) -> Response {
    let Some(mut def) = templates::get(&key) else {
        return error_page(&ctx, Error::not_found("template", &key));
    };
    let t = ctx.t.crm;
    let name = input.name.trim();
    if name.chars().count() > 200 {
        let mut errors = FormErrors::default();
        errors.add("name", t.too_long);
        return gallery_page(&ctx, Some((key, input, errors)), StatusCode::UNPROCESSABLE_ENTITY);
    }
    if !name.is_empty() {
        def.name = name.to_string();
    }
    let taken = match s.store.list_processes().await {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    def.key = free_key(&def.key, &taken);
    let (g, now) = (ctx.guarded(&s), s.clock.now());
    let created = match g.create_process(&def, now).await {
        Ok(v) => v,
        Err(e) => return refused_use(&ctx, key, input, e),
    };
    if input.publish.is_some()
        && let Err(e) = g.publish(created.process_id, created.version, now).await
    {
        return refused_use(&ctx, key, input, e);
    }
    Redirect::to(&format!("/processes/{}", created.process_id)).into_response()
}

fn refused_use(ctx: &Ctx, key: String, input: UseInput, e: Error) -> Response {
    if let Error::Forbidden(_) = e {
        let errors = FormErrors { form: Some(ctx.t.crm.editors_only.into()), ..Default::default() };
        return gallery_page(ctx, Some((key, input, errors)), StatusCode::FORBIDDEN);
    }
    match super::refused(ctx, e, &[("name", "name"), ("key", "")]) {
        Ok((status, errors)) => gallery_page(ctx, Some((key, input, errors)), status),
        Err(e) => error_page(ctx, e),
    }
}

// ---------------------------------------------------------------------------------------------
// One version, read-only

async fn latest(ctx: Ctx, State(s): State<AppState>, Path(id): Path<String>) -> Response {
    let id = match path_id(&id, "process") {
        Ok(id) => ProcessId(id),
        Err(e) => return error_page(&ctx, e),
    };
    match s.store.process_versions(id).await {
        Ok(versions) => match versions.iter().map(|v| v.version).max() {
            Some(v) => Redirect::to(&format!("/processes/{id}/versions/{v}")).into_response(),
            None => error_page(&ctx, Error::not_found("process", id)),
        },
        Err(e) => error_page(&ctx, e),
    }
}

struct ToolView {
    name: String,
    href: Option<String>,
    template: Option<String>,
}

struct CriterionView {
    id: String,
    label: String,
    requires: String,
    gate: &'static str,
    gate_key: &'static str,
}

struct ExitView {
    to: String,
    label: String,
}

struct StageView {
    id: String,
    name: String,
    goal: String,
    steps: Vec<(String, String)>,
    tools: Vec<ToolView>,
    criteria: Vec<CriterionView>,
    probability: u8,
    sla_days: u32,
    exits: Vec<ExitView>,
}

struct EdgeView {
    id: String,
    from: String,
    to: String,
    to_kind: &'static str,
    label: String,
}

struct VersionLink {
    version: i32,
    status: &'static str,
    current: bool,
}

#[derive(Template)]
#[template(path = "crm_process.html")]
struct VersionPage<'a> {
    chrome: Chrome<'a>,
    t: &'static Crm,
    f: &'static FlowchartTexts,
    /// The flowchart, drawn (escaped by the renderer).
    svg: String,
    id: i64,
    name: String,
    key: String,
    description: String,
    version: i32,
    status: &'static str,
    status_key: &'static str,
    when: String,
    versions: Vec<VersionLink>,
    stages: Vec<StageView>,
    edges: Vec<EdgeView>,
    e: &'static super::versions::EditorTexts,
    can_edit: bool,
    is_admin: bool,
}

/// A node's name as the edges list shows it: decisions and terminals marked.
fn node_label(t: &Crm, def: &ProcessDefinition, id: &str) -> (String, &'static str) {
    match def.node(id) {
        Some(n) => match n.kind {
            NodeKind::Stage(_) => (n.name.clone(), "stage"),
            NodeKind::Decision => (format!("{} ({})", n.name, t.decision), "decision"),
            NodeKind::Won => (n.name.clone(), "won"),
            NodeKind::Lost => (n.name.clone(), "lost"),
        },
        None => (id.to_string(), "unknown"),
    }
}

fn stage_views(t: &Crm, def: &ProcessDefinition) -> Vec<StageView> {
    def.stages_in_order()
        .into_iter()
        .filter_map(|node| {
            let NodeKind::Stage(stage) = &node.kind else { return None };
            let step_name = |id: &str| {
                stage.steps.iter().find(|s| s.id == id).map(|s| s.name.clone()).unwrap_or_else(|| id.to_string())
            };
            Some(StageView {
                id: node.id.clone(),
                name: node.name.clone(),
                goal: stage.goal.clone(),
                steps: stage.steps.iter().map(|s| (s.id.clone(), s.name.clone())).collect(),
                tools: stage
                    .tools
                    .iter()
                    .map(|tool| ToolView {
                        name: tool.name.clone(),
                        href: tool.link.as_deref().and_then(safe_link).map(str::to_string),
                        template: tool
                            .template
                            .clone()
                            .or_else(|| tool.link.as_deref().filter(|l| safe_link(l).is_none()).map(str::to_string)),
                    })
                    .collect(),
                criteria: stage
                    .exit_criteria
                    .iter()
                    .map(|c| {
                        let requires = match &c.requires {
                            Requirement::Field(f) => format!("{}: {}", t.requires_field, t.deal_field(*f)),
                            Requirement::Step(id) => format!("{}: {}", t.requires_step, step_name(id)),
                            Requirement::Needs(p) => format!("{}: {}", t.requires_needs, t.needs_part(*p)),
                        };
                        let gate_key = match c.gate {
                            salesflow_domain::process::Gate::Hard => "hard",
                            salesflow_domain::process::Gate::Soft => "soft",
                        };
                        CriterionView {
                            id: c.id.clone(),
                            label: if c.label.trim().is_empty() { requires.clone() } else { c.label.clone() },
                            requires,
                            gate: t.gate(c.gate),
                            gate_key,
                        }
                    })
                    .collect(),
                probability: stage.probability,
                sla_days: stage.sla_days,
                exits: def
                    .routes_from(&node.id)
                    .into_iter()
                    .map(|r| ExitView { to: node_label(t, def, &r.to).0, label: r.label })
                    .collect(),
            })
        })
        .collect()
}

async fn version(ctx: Ctx, State(s): State<AppState>, Path((id, v)): Path<(String, String)>) -> Response {
    let id = match path_id(&id, "process") {
        Ok(id) => ProcessId(id),
        Err(e) => return error_page(&ctx, e),
    };
    let Ok(v) = v.parse::<i32>() else {
        return error_page(&ctx, Error::not_found("process version", v));
    };
    let t = ctx.t.crm;
    let versions = match s.store.process_versions(id).await {
        Ok(vs) => vs,
        Err(e) => return error_page(&ctx, e),
    };
    let Some(pv) = versions.iter().find(|x| x.version == v) else {
        return error_page(&ctx, Error::not_found("process version", format!("{id}/{v}")));
    };
    let def = &pv.definition;
    let edges = def
        .edges
        .iter()
        .map(|e| {
            let (to, to_kind) = node_label(t, def, &e.to);
            EdgeView { id: e.id.clone(), from: node_label(t, def, &e.from).0, to, to_kind, label: e.label.clone() }
        })
        .collect();
    let when = match (pv.status, pv.published_at) {
        (VersionStatus::Published, Some(at)) => format!("{} {}", t.published_at, datetime(at, ctx.tz, ctx.locale)),
        _ => format!("{} {}", t.created, datetime(pv.created_at, ctx.tz, ctx.locale)),
    };
    render(&VersionPage {
        chrome: ctx.chrome("processes"),
        t,
        f: flowchart_texts(&ctx),
        svg: flowchart_svg(def, &Default::default()),
        id: id.0,
        name: def.name.clone(),
        key: def.key.clone(),
        description: def.description.clone(),
        version: v,
        status: t.version_status(pv.status),
        status_key: pv.status.as_str(),
        when,
        versions: versions
            .iter()
            .map(|x| VersionLink { version: x.version, status: t.version_status(x.status), current: x.version == v })
            .collect(),
        stages: stage_views(t, def),
        edges,
        e: super::versions::editor_texts(&ctx),
        can_edit: is_editor(&ctx),
        is_admin: ctx.caller.scope.is_admin(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inlined_flowchart_keeps_data_node_for_the_stage_cards() {
        let def = templates::get("seed-five-stage.zh-CN").unwrap();
        let svg = flowchart_svg(&def, &Default::default());
        assert!(svg.starts_with("<svg "));
        assert!(!svg.contains(" data-node=") && !svg.contains(" data-edge="));
        assert_eq!(svg.matches("<g data-flow-node=").count(), def.nodes.len());
        assert_eq!(svg.matches("<g data-flow-edge=").count(), def.edges.len());
    }

    #[test]
    fn a_template_used_twice_gets_a_fresh_key() {
        let p = |key: &str| ProcessSummary {
            id: ProcessId(1),
            key: key.into(),
            name: "x".into(),
            locale: "zh-CN".into(),
            latest_version: 1,
            published_version: Some(1),
        };
        assert_eq!(free_key("seed", &[]), "seed");
        assert_eq!(free_key("seed", &[p("seed")]), "seed-2");
        assert_eq!(free_key("seed", &[p("seed"), p("seed-2"), p("seed-3")]), "seed-4");
    }

    #[test]
    fn every_shipped_stage_is_shown_with_its_criteria_and_ways_out() {
        for def in templates::all() {
            let views = stage_views(&crate::i18n::crm::EN, &def);
            let stages = def.nodes.iter().filter(|n| matches!(n.kind, NodeKind::Stage(_))).count();
            assert_eq!(views.len(), stages, "{}", def.key);
            for v in &views {
                assert!(!v.exits.is_empty(), "{}: stage {} has a way out", def.key, v.id);
                assert!(v.criteria.iter().all(|c| !c.label.is_empty() && !c.requires.is_empty()));
            }
        }
    }
}
