//! The deal page: where a deal stands in its process (path, goal, steps, tools, exit
//! criteria), its history, and the forms that change it (fields, contacts, steps, stage moves).
//!
//! Every form posts to its own route and, on success, redirects back to `GET /deals/{id}`
//! (post-redirect-get). A refused edit or move renders the page again with the user's input
//! kept and every problem beside its field. Ticking a step is enhanced by htmx in
//! `static/js/deal.js`: the page comes back whole and only the changed regions are swapped.

mod amount;
mod forms;
mod selling;
mod timeline;
mod view;

use std::collections::{BTreeSet, HashMap};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use salesflow_domain::Error;
use salesflow_domain::currency::Currency;
use salesflow_domain::ids::{ContactId, DealId};
use salesflow_domain::process::NodeKind;
use salesflow_domain::records::{
    ContactFilter, DealPatch, DealStatus, MoveRequest, PageRequest, RecordKind, Role, StepToggle,
};
use salesflow_domain::selling::recommend::{deal_currency, in_currency, rank};
use serde::Deserialize;

pub use amount::{AmountError, parse as parse_amount, plain as plain_amount};
use view::{DealPage, EditInput, GateView, Loaded, MoveInput, Notice};

use super::{Ctx, error_page, render};
use crate::AppState;
use crate::i18n::deal::fill;
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::default()
        .get("/deals/{id}", show)
        .post("/deals/{id}/edit", edit)
        .post("/deals/{id}/steps", step)
        .post("/deals/{id}/move", move_deal)
        .post("/deals/{id}/contacts", contacts)
        .merge(forms::routes())
}

fn deal_id(raw: &str) -> Option<DealId> {
    raw.parse::<i64>().ok().filter(|id| *id > 0).map(DealId)
}

fn not_found(ctx: &Ctx, raw: &str) -> Response {
    error_page(ctx, Error::not_found("deal", raw))
}

/// Everything the page shows, read through the caller's guard.
async fn load(ctx: &Ctx, s: &AppState, id: DealId) -> Result<Loaded, Error> {
    let g = ctx.guarded(s);
    let now = s.clock.now();
    let (deal, events, users) = tokio::join!(g.deal(id, now), g.deal_events(id, now), s.store.list_users());
    let (deal, events, users) = (deal?, events?, users?);
    let process = s.store.process_version(deal.process_id, deal.process_version).await?;
    let account = match g.account(deal.account_id, now).await {
        Ok(a) => Some(a),
        // A deal shared with the caller may belong to an account they cannot see.
        Err(Error::NotFound { .. }) => None,
        Err(e) => return Err(e),
    };
    let mut contacts = Vec::with_capacity(deal.contact_ids.len());
    for c in &deal.contact_ids {
        match g.contact(*c, now).await {
            Ok(contact) => contacts.push((*c, Some(contact))),
            Err(Error::NotFound { .. }) => contacts.push((*c, None)),
            Err(e) => return Err(e),
        }
    }
    let scope = g.scope();
    let can_edit = scope.can_write(deal.owner_id, false)
        || (scope.role != Role::Viewer && s.store.is_shared(RecordKind::Deal, id.0, scope.user).await?);
    let account_contacts = match &account {
        Some(a) if can_edit => {
            let filter = ContactFilter { account: Some(a.id), ..Default::default() };
            let page = g.list_contacts(&filter, PageRequest { limit: PageRequest::MAX_LIMIT, after: None }).await?;
            page.items.into_iter().filter(|c| !deal.contact_ids.contains(&c.id)).collect()
        }
        _ => Vec::new(),
    };
    let users = users.into_iter().map(|u| (u.id, u)).collect::<HashMap<_, _>>();
    let (needs, quotes, contracts) = tokio::join!(g.needs(id, now), g.quotes(id, now), g.contracts(id, now));
    let (objections, playbook, price_books, products) = tokio::join!(
        g.objections(id, now),
        g.playbook(deal.process_id, &deal.current_node),
        g.price_books(),
        g.products()
    );
    let price_books = price_books?;
    let group = account.as_ref().map(|a| a.customer_group.as_str()).unwrap_or("");
    let default_price_book = selling::default_price_book(&price_books, group, deal.amount.map(|m| m.currency));
    let needs = needs?;
    // The catalog offered for drafting: the products in the deal's currency, when it has any;
    // ranked here from what the page has read, as `Guarded::recommendations` ranks them.
    let input = needs.as_ref().map(|n| n.input.clone()).unwrap_or_default();
    let products = in_currency(products?, deal_currency(&input, deal.amount));
    let recommendations = rank(&input, &products);
    let selling = selling::SellingData {
        needs,
        recommendations,
        quotes: quotes?,
        contracts: contracts?,
        objections: objections?,
        playbook: playbook?,
        price_books: price_books.into_iter().map(|b| b.name).collect(),
        default_price_book,
        products,
    };
    Ok(Loaded { deal, events, process, account, contacts, account_contacts, users, can_edit, now, selling })
}

/// The page with `status`, never cached (it carries the session's CSRF token and live state).
fn page(page: &DealPage<'_>, status: StatusCode) -> Response {
    let mut res = render(page);
    if res.status() == StatusCode::OK {
        *res.status_mut() = status;
    }
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn back_to(id: DealId, notice: &str, anchor: &str) -> Response {
    Redirect::to(&format!("/deals/{}?notice={notice}{anchor}", id.0)).into_response()
}

async fn show(ctx: Ctx, State(s): State<AppState>, Path(raw): Path<String>, RawQuery(query): RawQuery) -> Response {
    let Some(id) = deal_id(&raw) else { return not_found(&ctx, &raw) };
    let loaded = match load(&ctx, &s, id).await {
        Ok(l) => l,
        Err(e) => return error_page(&ctx, e),
    };
    let notice = query
        .as_deref()
        .and_then(|q| serde_urlencoded::from_str::<HashMap<String, String>>(q).ok())
        .and_then(|q| q.get("notice").cloned())
        .and_then(|n| Notice::from_query(&n, &ctx, &loaded));
    let page_view = DealPage::new(&ctx, &loaded, notice);
    page(&page_view, StatusCode::OK)
}

// -------------------------------------------------------------------------------------------
// Editing the fields

#[derive(Deserialize, Default)]
#[serde(default)]
struct EditForm {
    version: String,
    title: Option<String>,
    amount: Option<String>,
    currency: Option<String>,
    probability: Option<String>,
    expected_close_date: Option<String>,
    needs_summary: Option<String>,
}

/// A field problem: the form field it belongs to and the message shown beside it.
pub type FieldProblem = (&'static str, String);

/// The patch a submitted edit form asks for, relative to the deal as it is now: only fields
/// that were sent and differ are in it. Every unreadable field is reported at once.
fn edit_patch(
    form: &EditForm,
    deal: &salesflow_domain::records::Deal,
    t: &crate::i18n::deal::DealTexts,
) -> Result<DealPatch, Vec<FieldProblem>> {
    let mut problems: Vec<FieldProblem> = Vec::new();
    let mut patch = DealPatch { version: deal.version, ..Default::default() };
    if let Some(title) = &form.title {
        if title.trim().is_empty() {
            problems.push(("title", t.title_required.into()));
        } else if title.trim() != deal.title {
            patch.title = Some(title.trim().to_string());
        }
    }
    let currency = match form.currency.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(code) => match Currency::parse(code) {
            Ok(c) => Some(c),
            Err(_) => {
                problems.push(("currency", t.currency_invalid.into()));
                None
            }
        },
        None => Some(deal.amount.map(|m| m.currency).unwrap_or(Currency::CNY)),
    };
    if let (Some(text), Some(currency)) = (&form.amount, currency) {
        let amount = if text.trim().is_empty() {
            Ok(None)
        } else {
            amount::parse(text, currency).map(Some).map_err(|e| amount_message(e, currency, t))
        };
        match amount {
            Ok(a) if a != deal.amount => patch.amount = Some(a),
            Ok(_) => {}
            Err(m) => problems.push(("amount", m)),
        }
    }
    if let Some(p) = &form.probability {
        let p = p.trim().trim_end_matches(['%', '％']).trim();
        if p.is_empty() {
            if deal.probability_overridden {
                patch.probability = Some(None);
            }
        } else {
            match p.parse::<u8>() {
                Ok(v) if v <= 100 => {
                    if v != deal.probability {
                        patch.probability = Some(Some(v));
                    }
                }
                _ => problems.push(("probability", t.probability_invalid.into())),
            }
        }
    }
    if let Some(d) = &form.expected_close_date {
        let d = d.trim();
        let date = if d.is_empty() { Ok(None) } else { NaiveDate::parse_from_str(d, "%Y-%m-%d").map(Some) };
        match date {
            Ok(date) if date != deal.expected_close_date => patch.expected_close_date = Some(date),
            Ok(_) => {}
            Err(_) => problems.push(("expected_close_date", t.date_invalid.into())),
        }
    }
    if let Some(needs) = &form.needs_summary {
        // Browsers send CRLF line ends; the summary is stored as typed, with LF.
        let needs = needs.replace("\r\n", "\n");
        if needs.trim() != deal.needs_summary.trim() {
            patch.needs_summary = Some(needs.trim().to_string());
        }
    }
    // The domain's own checks (lengths, ranges), in the page's words, with ours.
    if let Err(Error::Invalid(errs)) = patch.validate() {
        for e in errs {
            let field = form_field(&e.field);
            if problems.iter().any(|(f, _)| *f == field) {
                continue;
            }
            let message = match field {
                "title" => t.title_too_long.to_string(),
                "amount" => t.amount_too_large.to_string(),
                "probability" => t.probability_invalid.to_string(),
                "needs_summary" => t.needs_too_long.to_string(),
                _ => e.message,
            };
            problems.push((field, message));
        }
    }
    if problems.is_empty() { Ok(patch) } else { Err(problems) }
}

fn amount_message(e: AmountError, currency: Currency, t: &crate::i18n::deal::DealTexts) -> String {
    match e {
        AmountError::NotANumber => t.amount_not_a_number.into(),
        AmountError::Negative => t.amount_negative.into(),
        AmountError::TooManyDecimals(0) => fill(t.amount_no_decimals, &[("code", currency.code())]),
        AmountError::TooManyDecimals(n) => fill(t.amount_decimals, &[("code", currency.code()), ("n", &n.to_string())]),
        AmountError::TooLarge => t.amount_too_large.into(),
    }
}

/// The form field a domain field path belongs to (`amount.minor` → `amount`).
fn form_field(path: &str) -> &'static str {
    let head = path.split(['.', '[']).next().unwrap_or("");
    match head {
        "title" => "title",
        "amount" => "amount",
        "currency" => "currency",
        "probability" => "probability",
        "expected_close_date" => "expected_close_date",
        "needs_summary" => "needs_summary",
        "contact_ids" => "contacts",
        "to" | "edge" => "to",
        "lost_reason" => "lost_reason",
        "override_reason" => "override_reason",
        _ => "",
    }
}

fn parse_form<T: for<'de> Deserialize<'de> + Default>(body: &Bytes) -> T {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

async fn edit(ctx: Ctx, State(s): State<AppState>, Path(raw): Path<String>, body: Bytes) -> Response {
    let Some(id) = deal_id(&raw) else { return not_found(&ctx, &raw) };
    let form: EditForm = parse_form(&body);
    let t = ctx.t.deal;
    let deal = match ctx.guarded(&s).deal(id, s.clock.now()).await {
        Ok(d) => d,
        Err(e) => return error_page(&ctx, e),
    };
    let input = EditInput::from_form(&form, &deal);
    let conflict = || (Vec::new(), Notice::error(t.edit_conflict), StatusCode::CONFLICT);
    let fix = |problems| (problems, Notice::error(ctx.t.common.fix_errors), StatusCode::UNPROCESSABLE_ENTITY);
    let (problems, notice, status) = if form.version.trim().parse::<i64>().ok() != Some(deal.version) {
        conflict()
    } else {
        match edit_patch(&form, &deal, t) {
            Err(problems) => fix(problems),
            Ok(patch) => match ctx.guarded(&s).update_deal(id, &patch, s.clock.now()).await {
                Ok(_) => return back_to(id, "saved", ""),
                Err(Error::Conflict(_)) => conflict(),
                Err(Error::Invalid(errs)) => fix(errs.into_iter().map(|e| (form_field(&e.field), e.message)).collect()),
                Err(e) => return error_page(&ctx, e),
            },
        }
    };
    // Refused: the deal as it is now, with the user's input still in the form (and the current
    // version in it, so that saving again is a deliberate overwrite).
    let loaded = match load(&ctx, &s, id).await {
        Ok(l) => l,
        Err(e) => return error_page(&ctx, e),
    };
    let mut p = DealPage::new(&ctx, &loaded, Some(notice));
    p.edit = input;
    p.problems = problems;
    page(&p, status)
}

// -------------------------------------------------------------------------------------------
// Ticking steps

#[derive(Deserialize, Default)]
#[serde(default)]
struct StepForm {
    step: String,
    done: String,
    version: String,
}

async fn step(ctx: Ctx, State(s): State<AppState>, Path(raw): Path<String>, body: Bytes) -> Response {
    let Some(id) = deal_id(&raw) else { return not_found(&ctx, &raw) };
    let form: StepForm = parse_form(&body);
    let Ok(version) = form.version.trim().parse::<i64>() else { return back_to(id, "stale", "#deal-steps") };
    let done = matches!(form.done.trim(), "true" | "on" | "1");
    let toggle = StepToggle { step: form.step.trim().to_string(), done, version, occurred_at: None };
    match ctx.guarded(&s).toggle_step(id, &toggle, s.clock.now()).await {
        Ok(_) => Redirect::to(&format!("/deals/{}#deal-steps", id.0)).into_response(),
        Err(Error::Conflict(_)) => back_to(id, "stale", "#deal-steps"),
        // Already ticked by someone else, or the deal left the stage: show it as it is now.
        Err(Error::Invalid(_)) => back_to(id, "step_failed", "#deal-steps"),
        Err(e) => error_page(&ctx, e),
    }
}

// -------------------------------------------------------------------------------------------
// Contacts on the deal

#[derive(Deserialize, Default)]
#[serde(default)]
struct ContactsForm {
    version: String,
    add: String,
    remove: String,
}

async fn contacts(ctx: Ctx, State(s): State<AppState>, Path(raw): Path<String>, body: Bytes) -> Response {
    let Some(id) = deal_id(&raw) else { return not_found(&ctx, &raw) };
    let form: ContactsForm = parse_form(&body);
    let g = ctx.guarded(&s);
    let deal = match g.deal(id, s.clock.now()).await {
        Ok(d) => d,
        Err(e) => return error_page(&ctx, e),
    };
    if form.version.trim().parse::<i64>().ok() != Some(deal.version) {
        return back_to(id, "stale", "#deal-contacts");
    }
    let mut ids = deal.contact_ids.clone();
    if let Ok(add) = form.add.trim().parse::<i64>() {
        ids.push(ContactId(add));
    }
    if let Ok(remove) = form.remove.trim().parse::<i64>() {
        ids.retain(|c| c.0 != remove);
    }
    let patch = DealPatch { version: deal.version, contact_ids: Some(ids), ..Default::default() };
    match g.update_deal(id, &patch, s.clock.now()).await {
        Ok(_) => back_to(id, "saved", "#deal-contacts"),
        Err(Error::Conflict(_)) => back_to(id, "stale", "#deal-contacts"),
        Err(Error::Invalid(_)) => back_to(id, "contact_failed", "#deal-contacts"),
        Err(e) => error_page(&ctx, e),
    }
}

// -------------------------------------------------------------------------------------------
// Moving

#[derive(Deserialize, Default)]
#[serde(default)]
struct MoveForm {
    to: String,
    edge: String,
    version: String,
    override_reason: String,
    lost_reason: String,
}

/// The target and edge a submitted `to` names: `node` or `node|edge` (when several routes lead
/// to the same node, the page names the edge of all but the shortest). An `edge` field wins.
fn route_choice(to: &str, edge: &str) -> (String, Option<String>) {
    let (to, from_value) = match to.split_once('|') {
        Some((t, e)) => (t.trim(), Some(e.trim().to_string())),
        None => (to.trim(), None),
    };
    let edge = Some(edge.trim().to_string()).filter(|e| !e.is_empty()).or(from_value).filter(|e| !e.is_empty());
    (to.to_string(), edge)
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.replace("\r\n", "\n");
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

async fn move_deal(ctx: Ctx, State(s): State<AppState>, Path(raw): Path<String>, body: Bytes) -> Response {
    let Some(id) = deal_id(&raw) else { return not_found(&ctx, &raw) };
    let form: MoveForm = parse_form(&body);
    let t = ctx.t.deal;
    let deal = match ctx.guarded(&s).deal(id, s.clock.now()).await {
        Ok(d) => d,
        Err(e) => return error_page(&ctx, e),
    };
    let process = match s.store.process_version(deal.process_id, deal.process_version).await {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let def = &process.definition;
    let (to, mut edge) = route_choice(&form.to, &form.edge);
    if edge.is_none() {
        // Several routes to the same node (a direct "lost" edge and a decision's "declined"):
        // a plain node id means the shortest, as the page offers it.
        let routes: Vec<_> = def.routes_from(&deal.current_node).into_iter().filter(|r| r.to == to).collect();
        if routes.len() > 1 {
            edge = view::primary_route(&routes).and_then(|r| r.edges.last().cloned());
        }
    }
    let to_lost = matches!(def.node(&to).map(|n| &n.kind), Some(NodeKind::Lost));
    let req = MoveRequest {
        to: to.clone(),
        edge,
        version: deal.version,
        occurred_at: None,
        override_reason: non_empty(&form.override_reason),
        // Only a move to Lost takes a reason; one typed before choosing another target is dropped.
        lost_reason: if to_lost { non_empty(&form.lost_reason) } else { None },
    };
    let fix =
        |problems| (problems, None, Some(Notice::error(ctx.t.common.fix_errors)), StatusCode::UNPROCESSABLE_ENTITY);
    let conflict = || (Vec::new(), None, Some(Notice::error(t.move_conflict)), StatusCode::CONFLICT);
    let mut problems: Vec<FieldProblem> = Vec::new();
    if to.is_empty() || def.node(&to).is_none() {
        problems.push(("to", t.move_invalid_target.into()));
    }
    if to_lost && req.lost_reason.is_none() {
        problems.push(("lost_reason", t.lost_reason_required.into()));
    }
    let (problems, gate, notice, status) = if form.version.trim().parse::<i64>().ok() != Some(deal.version) {
        conflict()
    } else if !problems.is_empty() {
        fix(problems)
    } else {
        match ctx.guarded(&s).move_deal(id, &req, s.clock.now()).await {
            Ok(_) => return back_to(id, "moved", ""),
            Err(Error::GateBlocked(report)) => {
                let mut problems = Vec::new();
                if report.override_required {
                    problems.push(("override_reason", t.override_reason_required.to_string()));
                }
                (problems, Some(report), None, StatusCode::UNPROCESSABLE_ENTITY)
            }
            Err(Error::Invalid(errs)) => {
                let mut problems: Vec<FieldProblem> = Vec::new();
                for e in errs {
                    let field = match form_field(&e.field) {
                        "" => "to",
                        f => f,
                    };
                    let message = match (field, e.field.as_str()) {
                        (_, "occurred_at") => t.move_out_of_order.to_string(),
                        ("lost_reason", _) => t.lost_reason_required.to_string(),
                        ("to", _) => t.move_invalid_target.to_string(),
                        _ => e.message,
                    };
                    if !problems.iter().any(|(f, m)| *f == field && *m == message) {
                        problems.push((field, message));
                    }
                }
                fix(problems)
            }
            Err(Error::Conflict(_)) => conflict(),
            Err(e) => return error_page(&ctx, e),
        }
    };
    // Refused: the page again, the deal unchanged, the user's choice and reasons kept.
    let loaded = match load(&ctx, &s, id).await {
        Ok(l) => l,
        Err(e) => return error_page(&ctx, e),
    };
    let mut p = DealPage::new(&ctx, &loaded, notice);
    p.mv = MoveInput {
        to: form.to.trim().to_string(),
        override_reason: form.override_reason,
        lost_reason: form.lost_reason,
    };
    p.problems = problems;
    p.gate = gate.map(|report| GateView::new(&report, &loaded, t));
    page(&p, status)
}

/// Deal statuses in the page's words.
fn status_label(status: DealStatus, t: &crate::i18n::deal::DealTexts) -> &'static str {
    match status {
        DealStatus::Open => t.status_open,
        DealStatus::Won => t.status_won,
        DealStatus::Lost => t.status_lost,
    }
}

/// The nodes a deal has been in, from its events.
fn visited(events: &[salesflow_domain::records::DealEvent]) -> BTreeSet<&str> {
    events.iter().flat_map(|e| [e.from_node.as_str(), e.to_node.as_str()]).collect()
}

#[cfg(test)]
mod tests;
