//! Changing a process: the flowchart editor for a draft (drawflow, `static/js/editor.js`), a new
//! draft from any version, retiring a published version, and migrating the open deals of one
//! version to another with a preview.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use salesflow_domain::Error;
use salesflow_domain::ids::ProcessId;
use salesflow_domain::migration::{self, MigrationRequest, MigrationSummary, NodeMapping};
use salesflow_domain::process::{Gate, NodeKind};
use salesflow_domain::records::{DealField, Role};
use salesflow_domain::selling::needs::NeedsPart;
use salesflow_domain::store::{ProcessVersion, VersionStatus};
use serde::Serialize;

use super::path_id;
use crate::AppState;
use crate::pages::{Chrome, Ctx, error_page, render};
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::default()
        .get("/processes/{id}/versions/{version}/edit", editor)
        .post("/processes/{id}/versions/{version}/draft", new_draft)
        .post("/processes/{id}/versions/{version}/retire", retire)
        .get("/processes/{id}/migrate", migrate_page)
        .post("/processes/{id}/migrate", migrate_apply)
}

/// The editor's and the migration page's texts in both languages; the editor script reads
/// them as JSON (a missing one fails to compile, like `i18n`).
#[derive(Serialize)]
pub(crate) struct EditorTexts {
    pub title: &'static str,
    pub add_stage: &'static str,
    pub add_decision: &'static str,
    pub new_stage: &'static str,
    pub new_decision: &'static str,
    pub undo: &'static str,
    pub redo: &'static str,
    pub auto_layout: &'static str,
    pub save: &'static str,
    pub publish: &'static str,
    pub delete: &'static str,
    pub saved: &'static str,
    pub not_saved: &'static str,
    pub published: &'static str,
    pub valid: &'static str,
    pub problems: &'static str,
    pub select_hint: &'static str,
    pub name: &'static str,
    pub goal: &'static str,
    pub steps: &'static str,
    pub steps_hint: &'static str,
    pub tools: &'static str,
    pub tools_hint: &'static str,
    pub criteria: &'static str,
    pub criteria_none: &'static str,
    pub add_criterion: &'static str,
    pub remove_criterion: &'static str,
    pub criterion_gate: &'static str,
    pub criterion_kind: &'static str,
    pub criterion_target: &'static str,
    pub criterion_label: &'static str,
    pub kind_field: &'static str,
    pub kind_step: &'static str,
    pub kind_needs: &'static str,
    /// A step criterion whose step is gone (`{step}` is its id).
    pub missing_step: &'static str,
    pub probability: &'static str,
    pub sla_days: &'static str,
    pub edge_label: &'static str,
    pub help: &'static str,
    pub edit: &'static str,
    pub new_draft: &'static str,
    pub retire: &'static str,
    pub migrate: &'static str,
    pub migrate_title: &'static str,
    pub migrate_intro: &'static str,
    pub from_version: &'static str,
    pub to_version: &'static str,
    pub old_stage: &'static str,
    pub new_stage_col: &'static str,
    pub choose: &'static str,
    pub preview: &'static str,
    pub apply: &'static str,
    pub landing: &'static str,
    pub deals: &'static str,
    pub open_deals: &'static str,
    pub failing: &'static str,
    pub failing_none: &'static str,
    pub newly: &'static str,
    pub applied: &'static str,
    pub no_other_version: &'static str,
    pub admins_only: &'static str,
    pub drafts_only: &'static str,
    /// Validation codes → messages (`{node}` / `{edge}` filled in by the script).
    pub issues: &'static [(&'static str, &'static str)],
}

const ISSUES_ZH: &[(&str, &str)] = &[
    ("unreachable", "从入口无法到达此节点，请连接一条进入它的线"),
    ("cannot_finish", "从此节点无法到达赢单或输单，请连接一条出去的线"),
    ("name_missing", "名称不能为空"),
    ("name_too_long", "名称超过 200 个字符"),
    ("edge_label_missing", "连线需要一个标签"),
    ("edge_label_too_long", "连线标签过长"),
    ("decision_needs_answers", "判断节点至少需要两个带标签的出口"),
    ("parallel_edge", "两个节点之间已有一条同方向的连线"),
    ("self_loop", "连线不能指向自己"),
    ("edge_leaves_terminal", "赢单/输单之后不能再有连线"),
    ("no_entry", "流程需要一个入口阶段（没有进入连线的阶段）"),
    ("several_entries", "流程只能有一个入口阶段，请把多余的阶段连接进来"),
    ("entry_not_stage", "入口必须是一个阶段"),
    ("terminal_missing", "流程需要赢单和输单节点"),
    ("probability_range", "赢率必须在 0 到 100 之间"),
    ("goal_too_long", "目标超过 4000 个字符"),
    ("bad_node_id", "节点编号只能包含字母、数字、下划线和连字符"),
    ("duplicate_node_id", "节点编号重复"),
    ("bad_edge_id", "连线编号只能包含字母、数字、下划线和连字符"),
    ("duplicate_edge_id", "连线编号重复"),
    ("edge_unknown_node", "连线指向不存在的节点"),
    ("bad_step_id", "步骤编号无效或重复"),
    ("bad_criterion_id", "退出条件编号无效或重复"),
    ("criterion_unknown_step", "退出条件引用了此阶段没有的步骤"),
    ("key_missing", "流程需要一个标识"),
    ("no_nodes", "流程没有任何节点"),
];

const ISSUES_EN: &[(&str, &str)] = &[
    ("unreachable", "Cannot be reached from the entry: connect a line into it"),
    ("cannot_finish", "Cannot reach Won or Lost from here: connect a line out of it"),
    ("name_missing", "The name is empty"),
    ("name_too_long", "The name is longer than 200 characters"),
    ("edge_label_missing", "The line needs a label"),
    ("edge_label_too_long", "The line's label is too long"),
    ("decision_needs_answers", "A decision needs at least two labelled ways out"),
    ("parallel_edge", "There is already a line between these nodes in this direction"),
    ("self_loop", "A line cannot point back at its own node"),
    ("edge_leaves_terminal", "Nothing follows Won or Lost"),
    ("no_entry", "The process needs an entry stage (one with no line into it)"),
    ("several_entries", "The process has one entry stage: connect the others"),
    ("entry_not_stage", "The entry must be a stage"),
    ("terminal_missing", "The process needs a Won and a Lost node"),
    ("probability_range", "The probability must be between 0 and 100"),
    ("goal_too_long", "The goal is longer than 4,000 characters"),
    ("bad_node_id", "A node id may hold letters, digits, _ and - only"),
    ("duplicate_node_id", "Two nodes have this id"),
    ("bad_edge_id", "A line id may hold letters, digits, _ and - only"),
    ("duplicate_edge_id", "Two lines have this id"),
    ("edge_unknown_node", "The line points at a node that does not exist"),
    ("bad_step_id", "A step id is invalid or used twice"),
    ("bad_criterion_id", "An exit criterion id is invalid or used twice"),
    ("criterion_unknown_step", "An exit criterion names a step this stage does not have"),
    ("key_missing", "The process needs a key"),
    ("no_nodes", "The process has no nodes"),
];

const ZH: EditorTexts = EditorTexts {
    title: "编辑流程图",
    add_stage: "添加阶段",
    add_decision: "添加判断",
    new_stage: "新阶段",
    new_decision: "判断?",
    undo: "撤销",
    redo: "重做",
    auto_layout: "自动布局",
    save: "保存草稿",
    publish: "发布",
    delete: "删除",
    saved: "草稿已保存",
    not_saved: "未保存：请先修正标出的问题",
    published: "已发布",
    valid: "流程有效",
    problems: "问题",
    select_hint: "点选一个节点或连线以编辑其内容；从节点右侧的圆点拖到另一节点左侧的圆点即可连线。",
    name: "名称",
    goal: "目标",
    steps: "操作步骤",
    steps_hint: "每行一个步骤",
    tools: "工具",
    tools_hint: "每行一个：名称 | 链接（可选）",
    criteria: "退出条件",
    criteria_none: "此阶段没有退出条件",
    add_criterion: "添加退出条件",
    remove_criterion: "删除此条件",
    criterion_gate: "类型",
    criterion_kind: "检查",
    criterion_target: "对象",
    criterion_label: "提示文字",
    kind_field: "商机字段",
    kind_step: "本阶段步骤",
    kind_needs: "需求分析",
    missing_step: "（不存在的步骤 {step}）",
    probability: "赢率（%）",
    sla_days: "预计天数（SLA）",
    edge_label: "连线标签",
    help: "Delete 键删除选中的节点或连线；Ctrl+Z / Ctrl+Y 撤销、重做。",
    edit: "编辑流程图",
    new_draft: "基于此版本新建草稿",
    retire: "停用此版本",
    migrate: "迁移进行中的商机到此版本",
    migrate_title: "迁移进行中的商机",
    migrate_intro: "为旧版本的每个阶段选择新版本中的阶段（已按编号、再按名称给出建议）。预览后再应用：所有商机在一个事务中迁移，每个商机记录一条事件。",
    from_version: "从版本",
    to_version: "到版本",
    old_stage: "旧阶段",
    new_stage_col: "新阶段",
    choose: "请选择",
    preview: "预览",
    apply: "应用迁移",
    landing: "迁移后各阶段的商机数",
    deals: "商机",
    open_deals: "进行中的商机",
    failing: "在新阶段尚未满足退出条件的商机",
    failing_none: "所有商机都满足新阶段的退出条件。",
    newly: "新增未满足",
    applied: "已迁移 {n} 个商机。",
    no_other_version: "没有可以迁移出的其他已发布版本。",
    admins_only: "只有管理员可以迁移商机。",
    drafts_only: "只能编辑草稿；请基于此版本新建草稿。",
    issues: ISSUES_ZH,
};

const EN: EditorTexts = EditorTexts {
    title: "Edit flowchart",
    add_stage: "Add stage",
    add_decision: "Add decision",
    new_stage: "New stage",
    new_decision: "Decision?",
    undo: "Undo",
    redo: "Redo",
    auto_layout: "Auto-layout",
    save: "Save draft",
    publish: "Publish",
    delete: "Delete",
    saved: "Draft saved",
    not_saved: "Not saved: fix the marked problems first",
    published: "Published",
    valid: "The process is valid",
    problems: "Problems",
    select_hint: "Select a node or a line to edit it; drag from a node's right dot to another node's left dot to connect them.",
    name: "Name",
    goal: "Goal",
    steps: "Steps",
    steps_hint: "One step per line",
    tools: "Tools",
    tools_hint: "One per line: name | link (optional)",
    criteria: "Exit criteria",
    criteria_none: "This stage has no exit criteria",
    add_criterion: "Add criterion",
    remove_criterion: "Remove this criterion",
    criterion_gate: "Gate",
    criterion_kind: "Checks",
    criterion_target: "What",
    criterion_label: "Message",
    kind_field: "Deal field",
    kind_step: "Step of this stage",
    kind_needs: "Needs analysis",
    missing_step: "(missing step {step})",
    probability: "Probability (%)",
    sla_days: "Expected days (SLA)",
    edge_label: "Line label",
    help: "Delete removes the selected node or line; Ctrl+Z / Ctrl+Y undo and redo.",
    edit: "Edit flowchart",
    new_draft: "New draft from this version",
    retire: "Retire this version",
    migrate: "Migrate open deals to this version",
    migrate_title: "Migrate open deals",
    migrate_intro: "Pick a stage of the new version for every stage of the old one (suggested by id, then by name). Preview, then apply: every deal moves in one transaction and gets an event.",
    from_version: "From version",
    to_version: "To version",
    old_stage: "Old stage",
    new_stage_col: "New stage",
    choose: "Choose…",
    preview: "Preview",
    apply: "Apply migration",
    landing: "Deals per stage after the migration",
    deals: "Deals",
    open_deals: "Open deals",
    failing: "Deals that miss exit criteria of their new stage",
    failing_none: "Every deal meets the exit criteria of its new stage.",
    newly: "newly missing",
    applied: "Migrated {n} deals.",
    no_other_version: "There is no other published version to migrate from.",
    admins_only: "Only admins migrate deals.",
    drafts_only: "Only drafts are edited; start a new draft from this version.",
    issues: ISSUES_EN,
};

pub(crate) fn editor_texts(ctx: &Ctx) -> &'static EditorTexts {
    if ctx.locale.tag() == "en" { &EN } else { &ZH }
}

fn is_editor(ctx: &Ctx) -> bool {
    matches!(ctx.user().role, Role::Admin | Role::Manager)
}

fn ids(id: &str, v: &str) -> Result<(ProcessId, i32), Error> {
    let id = ProcessId(path_id(id, "process")?);
    let v = v.parse::<i32>().map_err(|_| Error::not_found("process version", v))?;
    Ok((id, v))
}

// ---------------------------------------------------------------------------------------------
// The editor

#[derive(Template)]
#[template(path = "process_editor.html")]
struct EditorPage<'a> {
    chrome: Chrome<'a>,
    e: &'static EditorTexts,
    id: i64,
    version: i32,
    name: String,
    /// The definition, the texts and where each node's box goes (its stored position, else the
    /// server's layout) as JSON, in data attributes (escaped).
    definition: String,
    texts: String,
    layout: String,
    /// What an exit criterion can ask for, as JSON `[value, label]` pairs: `gates`, `fields`
    /// (the deal fields the domain knows) and `needs` (the parts of the needs analysis).
    choices: String,
}

/// The gates, deal fields and needs parts an exit criterion can name, in the page's language.
fn criterion_choices(ctx: &Ctx) -> serde_json::Value {
    let t = &ctx.t.crm;
    serde_json::json!({
        "gates": ([Gate::Hard, Gate::Soft].map(|g| (g, t.gate(g)))),
        "fields": (DealField::ALL.map(|f| (f.as_str(), t.deal_field(f)))),
        "needs": (NeedsPart::ALL.map(|p| (p.as_str(), t.needs_part(p)))),
    })
}

async fn editor(ctx: Ctx, State(s): State<AppState>, Path((id, v)): Path<(String, String)>) -> Response {
    let (id, v) = match ids(&id, &v) {
        Ok(x) => x,
        Err(e) => return error_page(&ctx, e),
    };
    let e = editor_texts(&ctx);
    if !is_editor(&ctx) {
        return error_page(&ctx, Error::Forbidden(ctx.t.crm.editors_only.into()));
    }
    let pv = match s.store.process_version(id, v).await {
        Ok(pv) => pv,
        Err(err) => return error_page(&ctx, err),
    };
    if pv.status != VersionStatus::Draft {
        return error_page(&ctx, Error::Conflict(e.drafts_only.into()));
    }
    let def = &pv.definition;
    // Stored positions where the definition has them; the server's layout for the rest.
    let boxes: serde_json::Map<String, serde_json::Value> = salesflow_flowchart::layout::editor_boxes(def)
        .iter()
        .map(|(n, r)| (n.clone(), serde_json::json!({ "x": r.x, "y": r.y, "width": r.width, "height": r.height })))
        .collect();
    render(&EditorPage {
        chrome: ctx.chrome("processes"),
        e,
        id: id.0,
        version: v,
        name: def.name.clone(),
        definition: serde_json::to_string(def).unwrap_or_default(),
        texts: serde_json::to_string(e).unwrap_or_default(),
        layout: serde_json::Value::Object(boxes).to_string(),
        choices: criterion_choices(&ctx).to_string(),
    })
}

async fn new_draft(ctx: Ctx, State(s): State<AppState>, Path((id, v)): Path<(String, String)>) -> Response {
    let (id, v) = match ids(&id, &v) {
        Ok(x) => x,
        Err(e) => return error_page(&ctx, e),
    };
    let from = match s.store.process_version(id, v).await {
        Ok(pv) => pv,
        Err(e) => return error_page(&ctx, e),
    };
    match ctx.guarded(&s).new_draft(id, &from.definition, s.clock.now()).await {
        Ok(draft) => Redirect::to(&format!("/processes/{id}/versions/{}/edit", draft.version)).into_response(),
        Err(e) => error_page(&ctx, e),
    }
}

async fn retire(ctx: Ctx, State(s): State<AppState>, Path((id, v)): Path<(String, String)>) -> Response {
    let (id, v) = match ids(&id, &v) {
        Ok(x) => x,
        Err(e) => return error_page(&ctx, e),
    };
    match ctx.guarded(&s).retire(id, v, s.clock.now()).await {
        Ok(_) => Redirect::to(&format!("/processes/{id}/versions/{v}")).into_response(),
        Err(e) => error_page(&ctx, e),
    }
}

// ---------------------------------------------------------------------------------------------
// Migration

struct MapRow {
    old: String,
    old_name: String,
    chosen: String,
    error: Option<String>,
}

struct Choice {
    id: String,
    name: String,
}

/// Deals listed by name on the migration page; the rest are counted.
const FAILING_SHOWN: usize = 100;

struct FailingRow {
    deal_id: i64,
    title: String,
    to: String,
    missing: String,
    newly: bool,
}

#[derive(Template)]
#[template(path = "process_migrate.html")]
struct MigratePage<'a> {
    chrome: Chrome<'a>,
    e: &'static EditorTexts,
    id: i64,
    name: String,
    to: i32,
    from: i32,
    froms: Vec<i32>,
    rows: Vec<MapRow>,
    choices: Vec<Choice>,
    /// Per stage of the new version: (name, deals).
    landing: Vec<(String, usize)>,
    deals: usize,
    /// The first [`FAILING_SHOWN`] of `failing_total`.
    failing: Vec<FailingRow>,
    failing_total: usize,
    form_error: Option<String>,
    applied: Option<String>,
}

/// `from`, `to` and `map.<old stage>` fields, from the query or the form.
fn parse_request(fields: &[(String, String)]) -> (Option<i32>, Option<i32>, NodeMapping) {
    let get = |k: &str| fields.iter().find(|(f, _)| f == k).and_then(|(_, v)| v.parse::<i32>().ok());
    let mapping = fields
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("map.").map(|old| (old.to_string(), v.clone())))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    (get("from"), get("to"), mapping)
}

async fn migrate_page(
    ctx: Ctx,
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(fields): Query<Vec<(String, String)>>,
) -> Response {
    migration_view(&ctx, &s, &id, &fields, false).await
}

async fn migrate_apply(
    ctx: Ctx,
    State(s): State<AppState>,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    migration_view(&ctx, &s, &id, &fields, true).await
}

async fn migration_view(ctx: &Ctx, s: &AppState, id: &str, fields: &[(String, String)], apply: bool) -> Response {
    let id = match path_id(id, "process") {
        Ok(id) => ProcessId(id),
        Err(e) => return error_page(ctx, e),
    };
    let e = editor_texts(ctx);
    if !ctx.caller.scope.is_admin() {
        return error_page(ctx, Error::Forbidden(e.admins_only.into()));
    }
    let versions = match s.store.process_versions(id).await {
        Ok(v) => v,
        Err(err) => return error_page(ctx, err),
    };
    let (from, to, given) = parse_request(fields);
    let live = |v: &&ProcessVersion| v.status != VersionStatus::Draft;
    let Some(to_v) = to
        .and_then(|n| versions.iter().find(|v| v.version == n))
        .or_else(|| versions.iter().filter(|v| v.status == VersionStatus::Published).max_by_key(|v| v.version))
    else {
        return error_page(ctx, Error::not_found("process version", format!("{id}/{}", to.unwrap_or(0))));
    };
    let froms: Vec<i32> =
        versions.iter().filter(live).filter(|v| v.version != to_v.version).map(|v| v.version).collect();
    let from_v = from
        .and_then(|n| versions.iter().find(|v| v.version == n))
        .or_else(|| versions.iter().filter(live).filter(|v| v.version != to_v.version).max_by_key(|v| v.version));
    let mut page = MigratePage {
        chrome: ctx.chrome("processes"),
        e,
        id: id.0,
        name: to_v.definition.name.clone(),
        to: to_v.version,
        from: from_v.map(|v| v.version).unwrap_or(0),
        froms,
        rows: Vec::new(),
        choices: to_v
            .definition
            .nodes
            .iter()
            .filter(|n| matches!(n.kind, NodeKind::Stage(_)))
            .map(|n| Choice { id: n.id.clone(), name: n.name.clone() })
            .collect(),
        landing: Vec::new(),
        deals: 0,
        failing: Vec::new(),
        failing_total: 0,
        form_error: None,
        applied: None,
    };
    let Some(from_v) = from_v else {
        page.form_error = Some(e.no_other_version.into());
        return render(&page);
    };
    let mapping = if apply {
        given
    } else {
        // Choices made for another "from" version are dropped; its own stages are suggested.
        let stages: Vec<&str> = from_v.definition.stages_in_order().iter().map(|n| n.id.as_str()).collect();
        let kept = given.into_iter().filter(|(old, _)| stages.contains(&old.as_str())).collect();
        migration::completed(&from_v.definition, &to_v.definition, &kept)
    };
    let req = MigrationRequest { from_version: from_v.version, to_version: to_v.version, mapping: mapping.clone() };
    let g = ctx.guarded(s);
    let result = if apply {
        g.migrate_deals(id, &req, s.clock.now()).await
    } else {
        g.preview_migration(id, &req, s.clock.now()).await
    };
    let mut field_errors: Vec<(String, String)> = Vec::new();
    let mut status = StatusCode::OK;
    match result {
        Ok(summary) => fill_summary(&mut page, &to_v.definition, &summary),
        Err(Error::Invalid(errors)) => {
            status = StatusCode::UNPROCESSABLE_ENTITY;
            for err in errors {
                match err.field.strip_prefix("mapping.") {
                    Some(old) => field_errors.push((old.to_string(), err.message)),
                    None => page.form_error = Some(format!("{}: {}", err.field, err.message)),
                }
            }
        }
        Err(err) => return error_page(ctx, err),
    }
    page.rows = from_v
        .definition
        .stages_in_order()
        .into_iter()
        .map(|n| MapRow {
            old: n.id.clone(),
            old_name: n.name.clone(),
            chosen: mapping.get(&n.id).cloned().unwrap_or_default(),
            error: field_errors.iter().find(|(f, _)| *f == n.id).map(|(_, m)| m.clone()),
        })
        .collect();
    if apply && status == StatusCode::OK {
        page.applied = Some(e.applied.replace("{n}", &page.deals.to_string()));
    }
    let mut res = render(&page);
    *res.status_mut() = status;
    res
}

fn fill_summary(
    page: &mut MigratePage<'_>,
    to: &salesflow_domain::process::ProcessDefinition,
    summary: &MigrationSummary,
) {
    let name = |id: &str| to.node(id).map(|n| n.name.clone()).unwrap_or_else(|| id.to_string());
    page.deals = summary.deals;
    page.landing = summary.landing.iter().map(|l| (l.name.clone(), l.deals)).collect();
    page.failing_total = summary.failing.len();
    page.failing = summary
        .failing
        .iter()
        .take(FAILING_SHOWN)
        .map(|f| FailingRow {
            deal_id: f.deal_id.0,
            title: f.title.clone(),
            to: name(&f.to_node),
            missing: f
                .missing
                .iter()
                .map(|m| if m.label.trim().is_empty() { m.id.clone() } else { m.label.clone() })
                .collect::<Vec<_>>()
                .join("; "),
            newly: f.newly,
        })
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_name_the_same_issue_codes() {
        // Every code `validate` can give has a message in both languages.
        let source = include_str!("../../../../domain/src/process.rs");
        for (code, _) in EN.issues {
            assert!(source.contains(&format!("\"{code}\"")), "{code} is a validation code");
        }
        let codes = |list: &'static [(&'static str, &'static str)]| list.iter().map(|(c, _)| *c).collect::<Vec<_>>();
        assert_eq!(codes(ZH.issues), codes(EN.issues));
        assert!(ZH.issues.iter().zip(EN.issues).all(|(z, e)| !z.1.is_empty() && z.1 != e.1));
    }

    #[test]
    fn criterion_choices_name_every_domain_value() {
        let (fields, needs) = (DealField::ALL.map(|f| f.as_str()), NeedsPart::ALL.map(|p| p.as_str()));
        for f in fields {
            let json = serde_json::to_string(&serde_json::json!({ "id": "c", "field": f, "gate": "hard" })).unwrap();
            assert!(serde_json::from_str::<salesflow_domain::process::ExitCriterion>(&json).is_ok(), "{f}");
        }
        assert_eq!(needs.len(), 7);
        assert_eq!(serde_json::to_value(Gate::Hard).unwrap(), "hard");
    }

    #[test]
    fn migration_fields_parse_from_a_form() {
        let fields = vec![
            ("from".to_string(), "1".to_string()),
            ("to".to_string(), "2".to_string()),
            ("map.a".to_string(), "b".to_string()),
            ("map.c".to_string(), String::new()),
        ];
        let (from, to, mapping) = parse_request(&fields);
        assert_eq!((from, to), (Some(1), Some(2)));
        assert_eq!(mapping.into_iter().collect::<Vec<_>>(), vec![("a".to_string(), "b".to_string())]);
    }
}
