//! Leads: the list with filters and search, creation with errors beside fields, the lead page
//! with possible duplicates, qualification (contacted, qualified, disqualified with a reason)
//! and conversion into account + contact + deal.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use salesflow_domain::currency::Currency;
use salesflow_domain::ids::{LeadId, ProcessId};
use salesflow_domain::records::{
    Channel, ConvertLead, Lead, LeadFilter, LeadPatch, LeadStatus, NewLead, PageRequest, Qualification,
};
use serde::Deserialize;

use super::{
    FormErrors, Opt, PAGE_SIZE, can_write, currency_options, cursor, href, name_of, opt_text, path_id, refused,
    user_names,
};
use crate::AppState;
use crate::i18n::common::Common;
use crate::i18n::crm::Crm;
use crate::pages::format::{date, datetime};
use crate::pages::{Chrome, Ctx, error_page, render};
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::default()
        .get("/leads", list)
        .post("/leads", create)
        .get("/leads/new", new_form)
        .get("/leads/{id}", show)
        .post("/leads/{id}", update)
        .post("/leads/{id}/status", set_status)
        .post("/leads/{id}/convert", convert)
}

// ---------------------------------------------------------------------------------------------
// The list

#[derive(Deserialize, Default)]
#[serde(default)]
struct ListQuery {
    q: String,
    status: String,
    channel: String,
    cursor: String,
}

struct LeadRow {
    id: i64,
    name: String,
    company: String,
    channel: &'static str,
    status: &'static str,
    status_key: &'static str,
    owner: String,
    created: String,
}

#[derive(Template)]
#[template(path = "crm_leads.html")]
struct LeadsPage<'a> {
    chrome: Chrome<'a>,
    t: &'static Crm,
    q: String,
    status_opts: Vec<Opt>,
    channel_opts: Vec<Opt>,
    filtered: bool,
    rows: Vec<LeadRow>,
    next: Option<String>,
    first: Option<String>,
    can_create: bool,
}

fn status_options(t: &Crm, selected: &str) -> Vec<Opt> {
    LeadStatus::ALL.iter().map(|s| Opt::new(s.as_str(), t.lead_status(*s), selected)).collect()
}

fn channel_options(t: &Crm, selected: &str) -> Vec<Opt> {
    Channel::ALL.iter().map(|c| Opt::new(c.as_str(), t.channel(*c), selected)).collect()
}

async fn list(ctx: Ctx, State(s): State<AppState>, Query(q): Query<ListQuery>) -> Response {
    let t = ctx.t.crm;
    let status = LeadStatus::parse(q.status.trim());
    let channel = Channel::parse(q.channel.trim());
    let filter = LeadFilter { owner: None, status, channel, text: opt_text(&q.q) };
    let after = cursor(&q.cursor);
    let page = match ctx.guarded(&s).list_leads(&filter, PageRequest { limit: PAGE_SIZE, after }).await {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let names = match user_names(&s).await {
        Ok(n) => n,
        Err(e) => return error_page(&ctx, e),
    };
    let rows = page
        .items
        .iter()
        .map(|l| LeadRow {
            id: l.id.0,
            name: l.name.clone(),
            company: l.company.clone(),
            channel: t.channel(l.channel),
            status: t.lead_status(l.status),
            status_key: l.status.as_str(),
            owner: name_of(&names, l.owner_id),
            created: date(l.created_at.with_timezone(&ctx.tz).date_naive(), ctx.locale),
        })
        .collect();
    let status_key = status.map(|s| s.as_str()).unwrap_or("");
    let channel_key = channel.map(|c| c.as_str()).unwrap_or("");
    let params = [("q", q.q.as_str()), ("status", status_key), ("channel", channel_key)];
    let next = page.next_cursor.map(|c| {
        let c = c.to_string();
        href("/leads", &[params[0], params[1], params[2], ("cursor", &c)])
    });
    render(&LeadsPage {
        chrome: ctx.chrome("leads"),
        t,
        q: q.q.trim().to_string(),
        status_opts: status_options(t, status_key),
        channel_opts: channel_options(t, channel_key),
        filtered: !q.q.trim().is_empty() || status.is_some() || channel.is_some(),
        rows,
        next,
        first: after.map(|_| href("/leads", &params)),
        can_create: can_write(&ctx),
    })
}

// ---------------------------------------------------------------------------------------------
// Creating

#[derive(Deserialize, Default)]
#[serde(default)]
struct LeadInput {
    /// The version read (editing only).
    version: String,
    name: String,
    company: String,
    email: String,
    phone: String,
    channel: String,
    notes: String,
}

#[derive(Template)]
#[template(path = "crm_lead_new.html")]
struct NewLeadPage<'a> {
    chrome: Chrome<'a>,
    t: &'static Crm,
    c: &'static Common,
    input: LeadInput,
    channel_opts: Vec<Opt>,
    errors: FormErrors,
}

fn new_lead_page(ctx: &Ctx, input: LeadInput, errors: FormErrors, status: StatusCode) -> Response {
    let t = ctx.t.crm;
    let channel_opts = channel_options(t, &input.channel);
    let mut res = render(&NewLeadPage { chrome: ctx.chrome("leads"), t, c: ctx.t.common, input, channel_opts, errors });
    *res.status_mut() = status;
    res
}

async fn new_form(ctx: Ctx) -> Response {
    let input = LeadInput { channel: Channel::Referral.as_str().into(), ..Default::default() };
    new_lead_page(&ctx, input, FormErrors::default(), StatusCode::OK)
}

/// The lead the form describes, with every problem at once: the domain's checks and the channel's.
fn checked(ctx: &Ctx, input: &LeadInput) -> (NewLead, FormErrors) {
    let mut errors = FormErrors::default();
    let channel = Channel::parse(input.channel.trim());
    if channel.is_none() {
        errors.add("channel", ctx.t.crm.invalid_value);
    }
    let new = NewLead {
        name: input.name.trim().to_string(),
        company: input.company.trim().to_string(),
        email: opt_text(&input.email),
        phone: opt_text(&input.phone),
        channel: channel.unwrap_or(Channel::Other),
        owner_id: None,
        notes: input.notes.trim().to_string(),
    };
    if let Err(salesflow_domain::Error::Invalid(e)) = new.validate() {
        let more = FormErrors::from_domain(ctx.t, &e, LEAD_FIELDS);
        for f in ["name", "company", "email", "phone", "notes"] {
            if let Some(m) = more.get(f) {
                errors.add(f, m);
            }
        }
    }
    (new, errors)
}

async fn create(ctx: Ctx, State(s): State<AppState>, Form(input): Form<LeadInput>) -> Response {
    let (new, errors) = checked(&ctx, &input);
    if !errors.is_empty() {
        return new_lead_page(&ctx, input, errors, StatusCode::UNPROCESSABLE_ENTITY);
    }
    match ctx.guarded(&s).create_lead(&new, s.clock.now()).await {
        Ok(lead) => Redirect::to(&format!("/leads/{}", lead.id)).into_response(),
        Err(e) => match refused(&ctx, e, LEAD_FIELDS) {
            Ok((status, errors)) => new_lead_page(&ctx, input, errors, status),
            Err(e) => error_page(&ctx, e),
        },
    }
}

const LEAD_FIELDS: &[(&str, &str)] = &[
    ("version", ""),
    ("name", "name"),
    ("company", "company"),
    ("email", "email"),
    ("phone", "phone"),
    ("channel", "channel"),
    ("notes", "notes"),
];

// ---------------------------------------------------------------------------------------------
// The lead page

struct LeadView {
    id: i64,
    version: i64,
    name: String,
    company: String,
    email: String,
    phone: String,
    channel: &'static str,
    status: &'static str,
    status_key: &'static str,
    disqualify_reason: Option<String>,
    owner: String,
    notes: String,
    created: String,
    updated: String,
    converted_deal: Option<i64>,
}

/// The deal a converted lead became (when the caller can read it).
struct ConvertedView {
    id: i64,
    title: String,
    account_id: i64,
}

struct DuplicateRow {
    href: String,
    key: String,
    name: String,
    entity: &'static str,
    matched_on: &'static str,
}

struct ConvertView {
    process_opts: Vec<Opt>,
    deal_title: String,
    title_placeholder: String,
    amount: String,
    currency_opts: Vec<Opt>,
    expected_close_date: String,
    errors: FormErrors,
}

#[derive(Template)]
#[template(path = "crm_lead.html")]
struct LeadPage<'a> {
    chrome: Chrome<'a>,
    t: &'static Crm,
    c: &'static Common,
    lead: LeadView,
    duplicates: Vec<DuplicateRow>,
    can_change: bool,
    to_contacted: bool,
    to_qualified: bool,
    to_disqualified: bool,
    reason: String,
    status_errors: FormErrors,
    convert: Option<ConvertView>,
    converted: Option<ConvertedView>,
    /// The edit form: the lead's values, or what was typed when a save was refused.
    input: LeadInput,
    errors: FormErrors,
    channel_opts: Vec<Opt>,
    /// A refused conversion's message when the form is no longer offered (the lead changed).
    notice: Option<String>,
}

/// What the user typed into the lead page's forms, kept when a submission is refused.
#[derive(Default)]
struct Typed {
    edit: Option<LeadInput>,
    edit_errors: FormErrors,
    reason: String,
    status_errors: FormErrors,
    convert: Option<ConvertInput>,
    convert_errors: FormErrors,
}

async fn show(ctx: Ctx, State(s): State<AppState>, Path(id): Path<String>) -> Response {
    let id = match path_id(&id, "lead") {
        Ok(id) => id,
        Err(e) => return error_page(&ctx, e),
    };
    lead_page(&ctx, &s, LeadId(id), Typed::default(), StatusCode::OK).await
}

async fn lead_page(ctx: &Ctx, s: &AppState, id: LeadId, typed: Typed, status: StatusCode) -> Response {
    let (t, now) = (ctx.t.crm, s.clock.now());
    let g = ctx.guarded(s);
    let lead = match g.lead(id, now).await {
        Ok(l) => l,
        Err(e) => return error_page(ctx, e),
    };
    let mut duplicates = match g.lead_duplicates(id, now).await {
        Ok(d) => d,
        Err(e) => return error_page(ctx, e),
    };
    // A converted lead shows its deal; its own account and contact are not duplicates of it.
    let mut converted = None;
    if let Some(deal) = lead.converted_deal_id {
        match g.deal(deal, now).await {
            Ok(d) => {
                duplicates.retain(|dup| match dup.entity.as_str() {
                    "account" => dup.id != d.account_id.0,
                    "contact" => !d.contact_ids.iter().any(|c| c.0 == dup.id),
                    _ => true,
                });
                converted = Some(ConvertedView { id: d.id.0, title: d.title, account_id: d.account_id.0 });
            }
            Err(salesflow_domain::Error::NotFound { .. }) => {}
            Err(e) => return error_page(ctx, e),
        }
    }
    let names = match user_names(s).await {
        Ok(n) => n,
        Err(e) => return error_page(ctx, e),
    };
    let mut notice = None;
    let convert = if lead.status == LeadStatus::Qualified && can_write(ctx) {
        match s.store.list_processes().await {
            Ok(processes) => {
                let input = typed.convert.unwrap_or_default();
                let published: Vec<_> = processes.iter().filter(|p| p.published_version.is_some()).collect();
                // By default the first process written in the user's language.
                let selected = if input.process_id.is_empty() {
                    let tag = ctx.locale.tag();
                    let first = published.iter().find(|p| p.locale == tag).or(published.first());
                    first.map(|p| p.id.to_string()).unwrap_or_default()
                } else {
                    input.process_id.clone()
                };
                Some(ConvertView {
                    process_opts: published
                        .iter()
                        .map(|p| Opt::new(p.id.to_string(), p.name.clone(), &selected))
                        .collect(),
                    title_placeholder: default_title(&lead),
                    deal_title: input.deal_title,
                    amount: input.amount,
                    currency_opts: currency_options(&input.currency),
                    expected_close_date: input.expected_close_date,
                    errors: typed.convert_errors,
                })
            }
            Err(e) => return error_page(ctx, e),
        }
    } else {
        notice = typed.convert_errors.form;
        None
    };
    let duplicates = duplicates
        .iter()
        .map(|d| DuplicateRow {
            href: format!("/{}s/{}", d.entity, d.id),
            key: format!("{}-{}", d.entity, d.id),
            name: d.name.clone(),
            entity: t.entity(&d.entity),
            matched_on: t.matched_on(&d.matched_on),
        })
        .collect();
    let writer = can_write(ctx);
    let input = match typed.edit {
        // A refused save keeps what was typed, against the version now current.
        Some(typed) => LeadInput { version: lead.version.to_string(), ..typed },
        None => LeadInput {
            version: lead.version.to_string(),
            name: lead.name.clone(),
            company: lead.company.clone(),
            email: lead.email.clone().unwrap_or_default(),
            phone: lead.phone.clone().unwrap_or_default(),
            channel: lead.channel.as_str().to_string(),
            notes: lead.notes.clone(),
        },
    };
    let channel_opts = channel_options(t, &input.channel);
    let view = LeadView {
        id: lead.id.0,
        version: lead.version,
        name: lead.name.clone(),
        company: lead.company.clone(),
        email: lead.email.clone().unwrap_or_default(),
        phone: lead.phone.clone().unwrap_or_default(),
        channel: t.channel(lead.channel),
        status: t.lead_status(lead.status),
        status_key: lead.status.as_str(),
        disqualify_reason: lead.disqualify_reason.clone(),
        owner: name_of(&names, lead.owner_id),
        notes: lead.notes.clone(),
        created: datetime(lead.created_at, ctx.tz, ctx.locale),
        updated: datetime(lead.updated_at, ctx.tz, ctx.locale),
        converted_deal: lead.converted_deal_id.map(|d| d.0),
    };
    let mut res = render(&LeadPage {
        chrome: ctx.chrome("leads"),
        t,
        c: ctx.t.common,
        to_contacted: writer && lead.status.can_become(LeadStatus::Contacted),
        to_qualified: writer && lead.status.can_become(LeadStatus::Qualified),
        to_disqualified: writer && lead.status.can_become(LeadStatus::Disqualified),
        can_change: writer,
        lead: view,
        duplicates,
        reason: typed.reason,
        status_errors: typed.status_errors,
        convert,
        converted,
        input,
        errors: typed.edit_errors,
        channel_opts,
        notice,
    });
    *res.status_mut() = status;
    res
}

/// The title a conversion gives the deal when none is typed (as `Lead::new_deal` does).
fn default_title(lead: &Lead) -> String {
    if lead.company.trim().is_empty() { lead.name.clone() } else { format!("{} — {}", lead.company, lead.name) }
}

/// Saves the lead's fields, checked against the version read.
async fn update(ctx: Ctx, State(s): State<AppState>, Path(id): Path<String>, Form(input): Form<LeadInput>) -> Response {
    let id = match path_id(&id, "lead") {
        Ok(id) => LeadId(id),
        Err(e) => return error_page(&ctx, e),
    };
    let (new, errors) = checked(&ctx, &input);
    if !errors.is_empty() {
        let typed = Typed { edit: Some(input), edit_errors: errors, ..Default::default() };
        return lead_page(&ctx, &s, id, typed, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let patch = LeadPatch {
        version: input.version.trim().parse().unwrap_or(-1),
        name: Some(new.name),
        company: Some(new.company),
        email: Some(new.email),
        phone: Some(new.phone),
        channel: Some(new.channel),
        owner_id: None,
        notes: Some(new.notes),
    };
    match ctx.guarded(&s).update_lead(id, &patch, s.clock.now()).await {
        Ok(_) => Redirect::to(&format!("/leads/{id}")).into_response(),
        Err(e) => match refused(&ctx, e, LEAD_FIELDS) {
            Ok((status, errors)) => {
                let typed = Typed { edit: Some(input), edit_errors: errors, ..Default::default() };
                lead_page(&ctx, &s, id, typed, status).await
            }
            Err(e) => error_page(&ctx, e),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Qualification

#[derive(Deserialize, Default)]
#[serde(default)]
struct StatusInput {
    version: String,
    to: String,
    reason: String,
}

async fn set_status(
    ctx: Ctx,
    State(s): State<AppState>,
    Path(id): Path<String>,
    Form(input): Form<StatusInput>,
) -> Response {
    let id = match path_id(&id, "lead") {
        Ok(id) => LeadId(id),
        Err(e) => return error_page(&ctx, e),
    };
    let to = LeadStatus::parse(input.to.trim())
        .filter(|s| matches!(s, LeadStatus::Contacted | LeadStatus::Qualified | LeadStatus::Disqualified));
    let Some(to) = to else {
        let errors = FormErrors { form: Some(ctx.t.crm.status_not_allowed.into()), ..Default::default() };
        let typed = Typed { reason: input.reason, status_errors: errors, ..Default::default() };
        return lead_page(&ctx, &s, id, typed, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let q = Qualification {
        version: input.version.trim().parse().unwrap_or(-1),
        reason: if to == LeadStatus::Disqualified { opt_text(&input.reason) } else { None },
    };
    if to == LeadStatus::Disqualified && q.reason.is_none() {
        let mut errors = FormErrors::default();
        errors.add("reason", ctx.t.crm.reason_required);
        let typed = Typed { reason: input.reason, status_errors: errors, ..Default::default() };
        return lead_page(&ctx, &s, id, typed, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    match ctx.guarded(&s).set_lead_status(id, to, &q, s.clock.now()).await {
        Ok(_) => Redirect::to(&format!("/leads/{id}")).into_response(),
        Err(e) => match refused(&ctx, e, &[("reason", "reason"), ("status", ""), ("version", "")]) {
            Ok((status, errors)) => {
                let typed = Typed { reason: input.reason, status_errors: errors, ..Default::default() };
                lead_page(&ctx, &s, id, typed, status).await
            }
            Err(e) => error_page(&ctx, e),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Conversion

#[derive(Deserialize, Default)]
#[serde(default)]
struct ConvertInput {
    version: String,
    process_id: String,
    deal_title: String,
    amount: String,
    currency: String,
    expected_close_date: String,
}

const CONVERT_FIELDS: &[(&str, &str)] = &[
    ("process_id", "process_id"),
    ("title", "deal_title"),
    ("deal_title", "deal_title"),
    ("amount", "amount"),
    ("expected_close_date", "expected_close_date"),
    ("status", ""),
    ("version", ""),
];

async fn convert(
    ctx: Ctx,
    State(s): State<AppState>,
    Path(id): Path<String>,
    Form(input): Form<ConvertInput>,
) -> Response {
    let id = match path_id(&id, "lead") {
        Ok(id) => LeadId(id),
        Err(e) => return error_page(&ctx, e),
    };
    let t = ctx.t.crm;
    let mut errors = FormErrors::default();
    let process = input.process_id.trim().parse::<i64>().ok();
    if process.is_none() {
        errors.add("process_id", t.choose_process);
    }
    let currency_code = if input.currency.trim().is_empty() { "CNY" } else { input.currency.trim() };
    let currency = Currency::parse(currency_code).ok();
    if currency.is_none() {
        errors.add("currency", t.bad_currency);
    }
    let amount = match super::parse_amount(&input.amount, currency.unwrap_or(Currency::CNY)) {
        Ok(a) => a,
        Err(e) => {
            errors.add("amount", e.message(t));
            None
        }
    };
    let close = super::parse_date(&input.expected_close_date).unwrap_or_else(|_| {
        errors.add("expected_close_date", t.bad_date);
        None
    });
    if input.deal_title.chars().count() > 200 {
        errors.add("deal_title", t.too_long);
    }
    if !errors.is_empty() {
        let typed = Typed { convert: Some(input), convert_errors: errors, ..Default::default() };
        return lead_page(&ctx, &s, id, typed, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let req = ConvertLead {
        version: input.version.trim().parse().unwrap_or(-1),
        process_id: ProcessId(process.unwrap_or_default()),
        account_id: None,
        contact_id: None,
        deal_title: opt_text(&input.deal_title),
        amount,
        expected_close_date: close,
    };
    match ctx.guarded(&s).convert_lead(id, &req, s.clock.now()).await {
        Ok(done) => Redirect::to(&format!("/deals/{}", done.deal.id)).into_response(),
        Err(e) => match refused(&ctx, e, CONVERT_FIELDS) {
            Ok((status, errors)) => {
                let typed = Typed { convert: Some(input), convert_errors: errors, ..Default::default() };
                lead_page(&ctx, &s, id, typed, status).await
            }
            Err(e) => error_page(&ctx, e),
        },
    }
}
