//! What the deal page shows, computed from what [`super::load`] read: the template only
//! prints these values.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use chrono::{DateTime, Utc};
use salesflow_domain::currency::Currency;
use salesflow_domain::gate::GateReport;
use salesflow_domain::ids::{ContactId, UserId};
use salesflow_domain::process::{Gate, NodeKind, Requirement, Route, Stage};
use salesflow_domain::records::{Account, Contact, Deal, DealEvent, DealField, DealStatus, EventKind, User};
use salesflow_domain::stage_move;
use salesflow_domain::store::ProcessVersion;

use super::timeline::{EventView, Wording};
use super::{EditForm, FieldProblem, amount, status_label, visited};
use crate::i18n::Locale;
use crate::i18n::deal::{DealTexts, fill};
use crate::pages::{Chrome, Ctx, format};

/// Everything read for one deal page.
pub struct Loaded {
    pub deal: Deal,
    pub events: Vec<DealEvent>,
    pub process: Arc<ProcessVersion>,
    pub account: Option<Account>,
    /// The deal's contacts; `None` for one the caller may not see.
    pub contacts: Vec<(ContactId, Option<Contact>)>,
    /// Contacts of the deal's account not on the deal yet (only when the caller may edit).
    pub account_contacts: Vec<Contact>,
    pub users: HashMap<UserId, User>,
    pub can_edit: bool,
    pub now: DateTime<Utc>,
    pub selling: super::selling::SellingData,
}

/// The edit form's values: the deal's, or what the user typed when the form comes back.
#[derive(Debug, Clone, Default)]
pub struct EditInput {
    pub title: String,
    pub amount: String,
    pub currency: String,
    pub probability: String,
    pub expected_close_date: String,
    pub needs_summary: String,
}

impl EditInput {
    pub fn of(deal: &Deal) -> Self {
        EditInput {
            title: deal.title.clone(),
            amount: deal.amount.map(|m| amount::plain(&m)).unwrap_or_default(),
            currency: deal.amount.map(|m| m.currency).unwrap_or(Currency::CNY).code().to_string(),
            probability: deal.probability.to_string(),
            expected_close_date: deal.expected_close_date.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
            needs_summary: deal.needs_summary.clone(),
        }
    }

    /// What was sent, the deal's value for any field that was not.
    pub(super) fn from_form(form: &EditForm, deal: &Deal) -> Self {
        let base = Self::of(deal);
        let pick = |sent: &Option<String>, current: String| sent.clone().unwrap_or(current);
        EditInput {
            title: pick(&form.title, base.title),
            amount: pick(&form.amount, base.amount),
            currency: pick(&form.currency, base.currency),
            probability: pick(&form.probability, base.probability),
            expected_close_date: pick(&form.expected_close_date, base.expected_close_date),
            needs_summary: pick(&form.needs_summary, base.needs_summary),
        }
    }
}

/// The move form's values when it comes back refused.
#[derive(Debug, Clone, Default)]
pub struct MoveInput {
    pub to: String,
    pub override_reason: String,
    pub lost_reason: String,
}

/// A message at the top of the page.
#[derive(Debug, Clone)]
pub struct Notice {
    /// `ok` or `error`.
    pub kind: &'static str,
    pub text: String,
}

impl Notice {
    pub fn error(text: &str) -> Self {
        Notice { kind: "error", text: text.to_string() }
    }

    /// The notice a redirect asked for (`?notice=saved`).
    pub fn from_query(name: &str, ctx: &Ctx, loaded: &Loaded) -> Option<Self> {
        let t = ctx.t.deal;
        Some(match name {
            "saved" => Notice { kind: "ok", text: t.saved.into() },
            "moved" => {
                let to = loaded.process.definition.node(&loaded.deal.current_node).map(|n| n.name.as_str());
                Notice { kind: "ok", text: fill(t.moved, &[("to", to.unwrap_or(&loaded.deal.current_node))]) }
            }
            "stale" => Notice::error(t.stale),
            "step_failed" | "contact_failed" => Notice::error(t.step_failed),
            _ => return None,
        })
    }
}

/// One node of the path: a stage, Won or Lost.
pub struct PathItem {
    pub id: String,
    pub name: String,
    /// `passed`, `current`, `upcoming` or `skipped`.
    pub state: &'static str,
    pub state_label: &'static str,
    /// `stage`, `won` or `lost`.
    pub kind: &'static str,
}

pub struct StepView {
    pub id: String,
    pub name: String,
    pub done: bool,
    /// Who ticked it and when, from the timeline.
    pub done_by: Option<String>,
}

pub struct ToolView {
    pub name: String,
    /// A link safe to follow: a path on this site or an http(s) address.
    pub href: Option<String>,
    pub external: bool,
    pub template: Option<String>,
}

#[derive(Clone)]
pub struct CriterionView {
    pub id: String,
    pub label: String,
    pub met: bool,
    pub hard: bool,
    /// Where on this page to fulfil it (`#deal-amount`, `#step-check_fit`).
    pub fix: String,
}

pub struct StageView {
    pub goal: String,
    pub steps: Vec<StepView>,
    pub tools: Vec<ToolView>,
    pub criteria: Vec<CriterionView>,
}

/// One way out in the move form.
pub struct OptionView {
    /// `node`, or `node|edge` when another route leads to the same node.
    pub value: String,
    pub label: String,
    pub blocked: bool,
    pub needs_override: bool,
    pub needs_lost_reason: bool,
}

pub struct ContactView {
    pub id: i64,
    /// `None` when the caller may not see the contact.
    pub name: Option<String>,
    pub title: String,
}

/// A refused move: every missing criterion.
pub struct GateView {
    /// Only soft criteria are missing: an override reason lets the move through.
    pub override_only: bool,
    pub items: Vec<CriterionView>,
}

impl GateView {
    pub fn new(report: &GateReport, loaded: &Loaded, t: &DealTexts) -> Self {
        let stage = loaded.process.definition.stage(&report.stage);
        let items = report
            .missing
            .iter()
            .map(|m| CriterionView {
                id: m.id.clone(),
                label: criterion_label(&m.label, &m.requires, stage, t),
                met: false,
                hard: m.gate == Gate::Hard,
                fix: fix_anchor(&m.requires),
            })
            .collect();
        GateView { override_only: report.override_required, items }
    }
}

/// The label a process gives a criterion, else one made from what it requires.
fn criterion_label(label: &str, requires: &Requirement, stage: Option<&Stage>, t: &DealTexts) -> String {
    if !label.trim().is_empty() {
        return label.to_string();
    }
    match requires {
        Requirement::Field(f) => fill(t.requires_field, &[("field", field_name(*f, t))]),
        Requirement::Needs(p) => fill(t.requires_field, &[("field", needs_name(*p, t))]),
        Requirement::Step(id) => {
            let name = stage.and_then(|s| s.steps.iter().find(|x| x.id == *id)).map(|x| x.name.as_str());
            fill(t.requires_step, &[("step", name.unwrap_or(id))])
        }
    }
}

fn field_name(f: DealField, t: &DealTexts) -> &'static str {
    match f {
        DealField::Amount => t.field_amount,
        DealField::ExpectedCloseDate => t.field_close_date,
        DealField::Contact => t.field_contact,
        DealField::NeedsSummary => t.field_needs,
    }
}

/// A part of the needs analysis, as the deal page names it.
pub fn needs_name(p: salesflow_domain::selling::needs::NeedsPart, t: &DealTexts) -> &'static str {
    use salesflow_domain::selling::needs::NeedsPart;
    match p {
        NeedsPart::PainPoints => t.needs_pain,
        NeedsPart::Requirements => t.needs_requirements,
        NeedsPart::Budget => t.needs_budget,
        NeedsPart::DecisionMaker => t.needs_decision,
        NeedsPart::Timeline => t.needs_timeline,
        NeedsPart::PurchaseIntent => t.needs_intent,
        NeedsPart::Competitors => t.needs_competitors,
    }
}

/// Where on the page a criterion is fulfilled.
fn fix_anchor(requires: &Requirement) -> String {
    match requires {
        Requirement::Field(DealField::Amount) => "#deal-amount".into(),
        Requirement::Field(DealField::ExpectedCloseDate) => "#deal-close-date".into(),
        Requirement::Field(DealField::NeedsSummary) => "#deal-needs".into(),
        Requirement::Field(DealField::Contact) => "#deal-contacts".into(),
        Requirement::Step(id) => format!("#step-{id}"),
        Requirement::Needs(_) => "#deal-selling".into(),
    }
}

/// A tool's link when it is safe to follow: a path on this site or an http(s) address. Other
/// schemes (`javascript:`, `data:`) are shown as text only.
fn safe_link(link: &str) -> Option<(String, bool)> {
    let link = link.trim();
    let lower = link.to_ascii_lowercase();
    if link.starts_with('/') && !link.starts_with("//") && !link.starts_with("/\\") {
        Some((link.to_string(), false))
    } else if lower.starts_with("https://") || lower.starts_with("http://") {
        Some((link.to_string(), true))
    } else {
        None
    }
}

/// Of several routes to the same node, the one a plain node id stands for: the fewest edges,
/// then the first in the process's order.
pub fn primary_route(routes: &[Route]) -> Option<&Route> {
    routes.iter().min_by_key(|r| r.edges.len())
}

/// Currencies offered in the edit form, most used by the teams first.
const CURRENCIES: &[(&str, &str, &str)] = &[
    ("CNY", "人民币", "Chinese yuan"),
    ("USD", "美元", "US dollar"),
    ("EUR", "欧元", "Euro"),
    ("HKD", "港币", "Hong Kong dollar"),
    ("TWD", "新台币", "New Taiwan dollar"),
    ("MOP", "澳门元", "Macanese pataca"),
    ("JPY", "日元", "Japanese yen"),
    ("KRW", "韩元", "South Korean won"),
    ("SGD", "新加坡元", "Singapore dollar"),
    ("GBP", "英镑", "Pound sterling"),
    ("AUD", "澳大利亚元", "Australian dollar"),
    ("CAD", "加拿大元", "Canadian dollar"),
    ("CHF", "瑞士法郎", "Swiss franc"),
];

#[derive(Template)]
#[template(path = "deal.html")]
pub struct DealPage<'a> {
    pub chrome: Chrome<'a>,
    pub t: &'static DealTexts,
    pub id: i64,
    pub version: i64,
    pub title: String,
    pub process_name: String,
    pub process_version: String,
    // Header
    pub account: Option<(i64, String)>,
    pub amount: String,
    pub has_amount: bool,
    pub probability: u8,
    pub probability_note: &'static str,
    pub stage_default: u8,
    pub weighted: Option<String>,
    pub close_date: String,
    pub owner: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub stage_name: String,
    pub days_in_stage: Option<String>,
    pub sla: Option<String>,
    pub overdue: bool,
    pub closed_on: Option<String>,
    pub lost_reason: Option<String>,
    // Process
    pub path: Vec<PathItem>,
    /// The process drawn with the deal's current node highlighted (escaped by the renderer).
    pub flowchart: String,
    pub flowchart_title: &'static str,
    pub stage: Option<StageView>,
    pub closed_note: Option<&'static str>,
    pub options: Vec<OptionView>,
    pub timeline: Vec<EventView>,
    pub contacts: Vec<ContactView>,
    pub addable: Vec<(i64, String)>,
    pub can_edit: bool,
    pub currencies: Vec<(String, String)>,
    // Forms as they come back
    pub edit: EditInput,
    pub mv: MoveInput,
    pub problems: Vec<FieldProblem>,
    pub gate: Option<GateView>,
    pub notice: Option<Notice>,
    pub selling: super::selling::SellingPanel,
    pub f: &'static crate::i18n::deal_forms::SellingForms,
    /// A manager or admin: decides discounts, keeps the playbook.
    pub manager: bool,
}

impl<'a> DealPage<'a> {
    pub fn new(ctx: &'a Ctx, l: &Loaded, notice: Option<Notice>) -> Self {
        let t = ctx.t.deal;
        let locale = ctx.locale;
        let deal = &l.deal;
        let def = &l.process.definition;
        let wording = Wording { t, locale, tz: ctx.tz, def, users: &l.users };
        let open = deal.status == DealStatus::Open;
        let stage = def.stage(&deal.current_node);

        let weighted = deal.amount.map(|m| {
            let w = salesflow_domain::currency::Money {
                minor: (i128::from(m.minor) * i128::from(deal.probability) / 100) as i64,
                currency: m.currency,
            };
            format::money(&w, locale)
        });
        let days = format::days_between(deal.stage_entered_at, l.now);
        let sla_days = stage.map(|s| s.sla_days).filter(|d| *d > 0);

        let path = path(l, t);
        DealPage {
            chrome: ctx.chrome("deals"),
            t,
            id: deal.id.0,
            version: deal.version,
            title: deal.title.clone(),
            process_name: def.name.clone(),
            process_version: fill(t.version, &[("n", &l.process.version.to_string())]),
            account: l.account.as_ref().map(|a| (a.id.0, a.name.clone())),
            amount: deal.amount.map(|m| format::money(&m, locale)).unwrap_or_else(|| t.not_set.into()),
            has_amount: deal.amount.is_some(),
            probability: deal.probability,
            probability_note: if deal.probability_overridden { t.probability_manual } else { t.probability_default },
            stage_default: stage_move::default_probability(def, &deal.current_node),
            weighted,
            close_date: deal.expected_close_date.map(|d| format::date(d, locale)).unwrap_or_else(|| t.not_set.into()),
            owner: wording.user_name(deal.owner_id),
            status: deal.status.as_str(),
            status_label: status_label(deal.status, t),
            stage_name: wording.node_name(&deal.current_node),
            days_in_stage: open.then(|| fill(t.days, &[("n", &days.to_string())])),
            sla: sla_days.filter(|_| open).map(|n| {
                let template = if days > i64::from(n) { t.sla_overdue } else { t.sla };
                fill(template, &[("n", &n.to_string())])
            }),
            overdue: open && sla_days.is_some_and(|n| days > i64::from(n)),
            closed_on: deal.closed_at.map(|at| format::datetime(at, ctx.tz, locale)),
            lost_reason: deal.lost_reason.clone(),
            flowchart: flowchart(def, &path, locale),
            flowchart_title: if locale.tag() == "en" { "Flowchart" } else { "流程图" },
            path,
            stage: stage.map(|s| stage_view(s, l, &wording)),
            closed_note: match deal.status {
                DealStatus::Open => None,
                DealStatus::Won => Some(t.closed_note_won),
                DealStatus::Lost => Some(t.closed_note_lost),
            },
            options: if l.can_edit { options(l, t, locale) } else { Vec::new() },
            timeline: wording.timeline(&l.events),
            contacts: l
                .contacts
                .iter()
                .map(|(id, c)| ContactView {
                    id: id.0,
                    name: c.as_ref().map(|c| c.name.clone()),
                    title: c.as_ref().map(|c| c.title.clone()).unwrap_or_default(),
                })
                .collect(),
            addable: l
                .account_contacts
                .iter()
                .map(|c| {
                    let label =
                        if c.title.trim().is_empty() { c.name.clone() } else { format!("{} · {}", c.name, c.title) };
                    (c.id.0, label)
                })
                .collect(),
            can_edit: l.can_edit,
            currencies: currencies(deal, locale),
            edit: EditInput::of(deal),
            mv: MoveInput::default(),
            problems: Vec::new(),
            gate: None,
            notice,
            selling: super::selling::SellingPanel::new(&l.selling, t, locale, l.now.date_naive()),
            f: crate::i18n::deal_forms::of(locale),
            manager: matches!(
                ctx.user().role,
                salesflow_domain::records::Role::Admin | salesflow_domain::records::Role::Manager
            ),
        }
    }

    /// The problem reported for a form field, if any.
    pub fn err(&self, field: &str) -> Option<&str> {
        self.problems.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }

    pub fn probability_hint(&self) -> String {
        fill(self.t.probability_hint, &[("n", &self.stage_default.to_string())])
    }

    /// Problems that belong to no field of the forms shown.
    pub fn other_problems(&self) -> Vec<&str> {
        self.problems.iter().filter(|(f, _)| f.is_empty()).map(|(_, m)| m.as_str()).collect()
    }
}

fn currencies(deal: &Deal, locale: Locale) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = CURRENCIES
        .iter()
        .map(|(code, zh, en)| (code.to_string(), format!("{code} · {}", if locale == Locale::ZhCn { zh } else { en })))
        .collect();
    if let Some(m) = deal.amount
        && !out.iter().any(|(c, _)| c == m.currency.code())
    {
        out.push((m.currency.code().to_string(), m.currency.code().to_string()));
    }
    out
}

/// The stages in process order, then Won and Lost, each marked passed, current, upcoming or
/// skipped (not visited by a closed deal).
fn path(l: &Loaded, t: &DealTexts) -> Vec<PathItem> {
    let def = &l.process.definition;
    let deal = &l.deal;
    let seen = visited(&l.events);
    let closed = deal.status != DealStatus::Open;
    let terminals = def
        .nodes
        .iter()
        .filter(|n| matches!(n.kind, NodeKind::Won))
        .chain(def.nodes.iter().filter(|n| matches!(n.kind, NodeKind::Lost)));
    def.stages_in_order()
        .into_iter()
        .chain(terminals)
        .map(|n| {
            let (state, state_label) = if n.id == deal.current_node {
                ("current", t.path_current)
            } else if seen.contains(n.id.as_str()) {
                ("passed", t.path_passed)
            } else if closed {
                ("skipped", t.path_skipped)
            } else {
                ("upcoming", t.path_upcoming)
            };
            let kind = match n.kind {
                NodeKind::Won => "won",
                NodeKind::Lost => "lost",
                _ => "stage",
            };
            PathItem { id: n.id.clone(), name: n.name.clone(), state, state_label, kind }
        })
        .collect()
}

fn stage_view(stage: &Stage, l: &Loaded, wording: &Wording<'_>) -> StageView {
    let deal = &l.deal;
    let t = wording.t;
    // Who ticked each step: the latest tick of that step since the deal entered this stage.
    let ticked_by = |step: &str| {
        l.events
            .iter()
            .rev()
            .filter(|e| e.to_node == deal.current_node && e.occurred_at >= deal.stage_entered_at)
            .find(|e| e.kind == EventKind::StepCompleted && e.details["step"].as_str() == Some(step))
            .map(|e| {
                let when = format::datetime(e.occurred_at, wording.tz, wording.locale);
                fill(t.step_done_by, &[("who", &wording.user_name(e.actor_id)), ("when", &when)])
            })
    };
    let missing: Vec<String> = salesflow_domain::gate::missing(stage, deal).into_iter().map(|m| m.id).collect();
    StageView {
        goal: stage.goal.clone(),
        steps: stage
            .steps
            .iter()
            .map(|s| {
                let done = deal.completed_steps.contains(&s.id);
                StepView {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    done,
                    done_by: if done { ticked_by(&s.id) } else { None },
                }
            })
            .collect(),
        tools: stage
            .tools
            .iter()
            .map(|tool| {
                let link = tool.link.as_deref().and_then(safe_link);
                ToolView {
                    name: tool.name.clone(),
                    external: link.as_ref().is_some_and(|(_, ext)| *ext),
                    href: link.map(|(href, _)| href),
                    template: tool.template.clone(),
                }
            })
            .collect(),
        criteria: stage
            .exit_criteria
            .iter()
            .map(|c| CriterionView {
                id: c.id.clone(),
                label: criterion_label(&c.label, &c.requires, Some(stage), t),
                met: !missing.contains(&c.id),
                hard: c.gate == Gate::Hard,
                fix: fix_anchor(&c.requires),
            })
            .collect(),
    }
}

/// The ways out of the deal's stage, as the move form offers them.
fn options(l: &Loaded, t: &DealTexts, locale: Locale) -> Vec<OptionView> {
    let def = &l.process.definition;
    let mut all = stage_move::options(def, &l.deal);
    // Forward along the process first, then Won, then Lost last (never the default choice).
    let order: Vec<&str> = def.stages_in_order().into_iter().map(|n| n.id.as_str()).collect();
    all.sort_by_key(|o| match def.node(&o.to).map(|n| &n.kind) {
        Some(NodeKind::Won) => usize::MAX - 1,
        Some(NodeKind::Lost) => usize::MAX,
        _ => order.iter().position(|id| *id == o.to).unwrap_or(order.len()),
    });
    let sep = if locale == Locale::ZhCn { "，" } else { ", " };
    all.iter()
        .map(|o| {
            let same_target: Vec<Route> = all.iter().filter(|x| x.to == o.to).map(|x| x.route.clone()).collect();
            let primary = same_target.len() == 1 || primary_route(&same_target) == Some(&o.route);
            let value = match (primary, o.route.edges.last()) {
                (false, Some(edge)) => format!("{}|{edge}", o.to),
                _ => o.to.clone(),
            };
            let mut label = o.to_name.clone();
            if !o.route.label.trim().is_empty() && o.route.label != o.to_name {
                label.push_str(" · ");
                label.push_str(&o.route.label);
            }
            let mut flags = Vec::new();
            if o.blocked {
                flags.push(t.move_blocked);
            } else if o.needs_override {
                flags.push(t.move_needs_override);
            }
            if o.needs_lost_reason {
                flags.push(t.move_needs_lost_reason);
            }
            if !flags.is_empty() {
                label = if locale == Locale::ZhCn {
                    format!("{label}（{}）", flags.join(sep))
                } else {
                    format!("{label} ({})", flags.join(sep))
                };
            }
            OptionView {
                value,
                label,
                blocked: o.blocked,
                needs_override: o.needs_override,
                needs_lost_reason: o.needs_lost_reason,
            }
        })
        .collect()
}

/// The process drawn with the deal's way through it: the current node filled and captioned,
/// the stages it passed tinted. The drawing's groups are `data-flow-node`/`data-flow-edge`
/// (as on the process page): `data-node` belongs to the path above it.
fn flowchart(def: &salesflow_domain::process::ProcessDefinition, path: &[PathItem], locale: Locale) -> String {
    use salesflow_flowchart::svg::{NodeOverlay, Overlay, render};
    let mut overlay = Overlay::default();
    let here = if locale.tag() == "en" { "You are here" } else { "当前所在" };
    for p in path {
        let fill = match (p.state, p.kind) {
            ("current", "won") => "#86efac",
            ("current", "lost") => "#fca5a5",
            ("current", _) => "#fde68a",
            ("passed", _) => "#e0e7ff",
            _ => continue,
        };
        let caption = (p.state == "current").then(|| here.to_string());
        overlay.nodes.insert(p.id.clone(), NodeOverlay { fill: Some(fill.into()), caption });
    }
    render(def, &salesflow_flowchart::layout(def), &overlay)
        .replace("<g data-node=\"", "<g data-flow-node=\"")
        .replace("<g data-edge=\"", "<g data-flow-edge=\"")
}

#[cfg(test)]
mod flowchart_tests {
    use super::*;

    #[test]
    fn the_current_node_is_filled_and_captioned() {
        let def = salesflow_domain::templates::get("seed-five-stage.zh-CN").unwrap();
        let item = |id: &str, state: &'static str| PathItem {
            id: id.into(),
            name: id.into(),
            state,
            state_label: "",
            kind: "stage",
        };
        let path = [item("lead_identification", "passed"), item("needs_analysis", "current")];
        let svg = flowchart(&def, &path, Locale::ZhCn);
        assert!(svg.contains("当前所在"));
        assert!(svg.contains(r##"fill="#fde68a""##) && svg.contains(r##"fill="#e0e7ff""##));
        assert!(!svg.contains(" data-node=") && svg.contains("<g data-flow-node=\"needs_analysis\">"));
        assert!(flowchart(&def, &path, Locale::En).contains("You are here"));
    }
}
