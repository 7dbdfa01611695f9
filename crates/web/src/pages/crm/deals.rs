//! The deals list (商机): filters by status, stage, owner and process, text search, the
//! count and sums of everything the filter selects, keyset paging. The deal page itself is
//! another module's (`pages::deal`).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use salesflow_domain::Error;
use salesflow_domain::ids::{AccountId, ProcessId, UserId};
use salesflow_domain::process::ProcessDefinition;
use salesflow_domain::records::{DealFilter, DealStatus, PageRequest};
use salesflow_domain::store::{DealSummary, ProcessSummary, ProcessVersion};
use serde::Deserialize;

use super::{Opt, PAGE_SIZE, cursor, href, money_list, name_of, opt_text, user_names};
use crate::AppState;
use crate::i18n::crm::Crm;
use crate::pages::format::{date, money};
use crate::pages::{Chrome, Ctx, error_page, render};
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::default().get("/deals", list)
}

/// A deal as the lists show it, every text ready in the user's language.
pub struct DealRow {
    pub id: i64,
    pub title: String,
    pub account_id: i64,
    pub account: String,
    pub stage: String,
    pub status: &'static str,
    pub status_key: &'static str,
    pub amount: String,
    pub owner: String,
    pub close: String,
}

/// Process versions by (process, version), each read once per request (published ones come
/// from the store's cache).
#[derive(Default)]
pub struct Definitions(HashMap<(ProcessId, i32), Arc<ProcessVersion>>);

impl Definitions {
    pub async fn get(&mut self, s: &AppState, process: ProcessId, version: i32) -> Result<&ProcessDefinition, Error> {
        let v = match self.0.entry((process, version)) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(slot) => slot.insert(s.store.process_version(process, version).await?),
        };
        Ok(&v.definition)
    }
}

/// The name of a deal's node (stage, Won or Lost) in its pinned process version.
pub fn node_name(def: &ProcessDefinition, node: &str) -> String {
    def.node(node).map(|n| n.name.clone()).unwrap_or_else(|| node.to_string())
}

pub async fn deal_rows(
    ctx: &Ctx,
    s: &AppState,
    deals: &[DealSummary],
    names: &HashMap<UserId, String>,
) -> Result<Vec<DealRow>, Error> {
    let t = ctx.t.crm;
    let mut defs = Definitions::default();
    let mut rows = Vec::with_capacity(deals.len());
    for d in deals {
        let stage = node_name(defs.get(s, d.process_id, d.process_version).await?, &d.current_node);
        rows.push(DealRow {
            id: d.id.0,
            title: d.title.clone(),
            account_id: d.account_id.0,
            account: d.account_name.clone(),
            stage,
            status: t.deal_status(d.status),
            status_key: d.status.as_str(),
            amount: d.amount.map(|m| money(&m, ctx.locale)).unwrap_or_default(),
            owner: name_of(names, d.owner_id),
            close: d.expected_close_date.map(|c| date(c, ctx.locale)).unwrap_or_default(),
        });
    }
    Ok(rows)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ListQuery {
    q: String,
    status: String,
    stage: String,
    owner: String,
    process: String,
    /// From an account's page: its deals only.
    account: String,
    cursor: String,
}

#[derive(Template)]
#[template(path = "crm_deals.html")]
struct DealsPage<'a> {
    chrome: Chrome<'a>,
    t: &'static Crm,
    q: String,
    account: String,
    status_opts: Vec<Opt>,
    stage_opts: Vec<Opt>,
    owner_opts: Vec<Opt>,
    process_opts: Vec<Opt>,
    filtered: bool,
    count: u64,
    amount: String,
    weighted: String,
    rows: Vec<DealRow>,
    next: Option<String>,
    first: Option<String>,
}

/// The definition a process's deals mostly run on: its newest published version, else its latest.
pub async fn current_definition(s: &AppState, p: &ProcessSummary) -> Result<Arc<ProcessVersion>, Error> {
    s.store.process_version(p.id, p.published_version.unwrap_or(p.latest_version)).await
}

/// Stage options: the chosen process's stages in order, or every process's (each id once).
fn stage_options(defs: &[(ProcessId, Arc<ProcessVersion>)], process: Option<ProcessId>, selected: &str) -> Vec<Opt> {
    let mut seen = std::collections::HashSet::new();
    let mut opts = Vec::new();
    for (_, v) in defs.iter().filter(|(id, _)| process.is_none_or(|p| p == *id)) {
        for node in v.definition.stages_in_order() {
            if seen.insert(node.id.clone()) {
                let label = if process.is_some() || defs.len() == 1 {
                    node.name.clone()
                } else {
                    format!("{} · {}", node.name, v.definition.name)
                };
                opts.push(Opt::new(node.id.clone(), label, selected));
            }
        }
    }
    opts
}

async fn list(ctx: Ctx, State(s): State<AppState>, Query(q): Query<ListQuery>) -> Response {
    let t = ctx.t.crm;
    let processes = match s.store.list_processes().await {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let mut defs = Vec::new();
    for p in &processes {
        match current_definition(&s, p).await {
            Ok(v) => defs.push((p.id, v)),
            Err(e) => return error_page(&ctx, e),
        }
    }
    let users = match s.store.list_users().await {
        Ok(u) => u,
        Err(e) => return error_page(&ctx, e),
    };
    let process = q.process.trim().parse::<i64>().ok().map(ProcessId).filter(|p| processes.iter().any(|x| x.id == *p));
    let owner = q.owner.trim().parse::<i64>().ok().map(UserId).filter(|o| users.iter().any(|u| u.id == *o));
    let status = DealStatus::parse(q.status.trim());
    let stage = opt_text(&q.stage);
    let account = q.account.trim().parse::<i64>().ok().filter(|a| *a > 0).map(AccountId);
    let filter =
        DealFilter { owner, process, stage: stage.clone(), status, channel: None, account, text: opt_text(&q.q) };
    let after = cursor(&q.cursor);
    let g = ctx.guarded(&s);
    let page = match g.list_deals(&filter, PageRequest { limit: PAGE_SIZE, after }).await {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let totals = match g.deal_totals(&filter).await {
        Ok(t) => t,
        Err(e) => return error_page(&ctx, e),
    };
    let names = match user_names(&s).await {
        Ok(n) => n,
        Err(e) => return error_page(&ctx, e),
    };
    let rows = match deal_rows(&ctx, &s, &page.items, &names).await {
        Ok(r) => r,
        Err(e) => return error_page(&ctx, e),
    };
    let (process_key, owner_key) =
        (process.map(|p| p.to_string()).unwrap_or_default(), owner.map(|o| o.to_string()).unwrap_or_default());
    let status_key = status.map(|s| s.as_str()).unwrap_or("");
    let stage_key = stage.unwrap_or_default();
    let account_key = account.map(|a| a.to_string()).unwrap_or_default();
    let params = [
        ("account", account_key.as_str()),
        ("q", q.q.as_str()),
        ("status", status_key),
        ("stage", stage_key.as_str()),
        ("owner", owner_key.as_str()),
        ("process", process_key.as_str()),
    ];
    let next = page.next_cursor.map(|c| {
        let c = c.to_string();
        let mut p = params.to_vec();
        p.push(("cursor", &c));
        href("/deals", &p)
    });
    let mut owner_opts: Vec<Opt> = users
        .iter()
        .filter(|u| u.active || Some(u.id) == owner)
        .map(|u| Opt::new(u.id.to_string(), u.name.clone(), &owner_key))
        .collect();
    owner_opts.sort_by(|a, b| a.label.cmp(&b.label));
    render(&DealsPage {
        chrome: ctx.chrome("deals"),
        t,
        q: q.q.trim().to_string(),
        account: account_key.clone(),
        status_opts: [DealStatus::Open, DealStatus::Won, DealStatus::Lost]
            .iter()
            .map(|st| Opt::new(st.as_str(), t.deal_status(*st), status_key))
            .collect(),
        stage_opts: stage_options(&defs, process, &stage_key),
        owner_opts,
        process_opts: processes.iter().map(|p| Opt::new(p.id.to_string(), p.name.clone(), &process_key)).collect(),
        filtered: params.iter().any(|(_, v)| !v.trim().is_empty()),
        count: totals.count,
        amount: money_list(&totals.amount, ctx.locale),
        weighted: money_list(&totals.weighted_amount, ctx.locale),
        rows,
        next,
        first: after.map(|_| href("/deals", &params)),
    })
}
