//! The signed-in home page (工作台): the caller's open deals by stage (counts and sums from
//! the database, one grouped query per process), the deals past their stage SLA, and a place for today's tasks.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use salesflow_domain::Error;
use salesflow_domain::process::ProcessDefinition;
use salesflow_domain::records::{DealFilter, DealStatus, PageRequest, User};
use salesflow_domain::store::DealSummary;

use super::crm::{Definitions, current_definition, href, money_list, node_name};
use super::format::days_between;
use super::{Chrome, Ctx, error_page, render};
use crate::AppState;
use crate::i18n::crm::Crm;
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::default().get("/", home)
}

/// How many of the caller's open deals (newest first) are checked against their stage SLA.
const SLA_SCAN: usize = 600;

struct StageGroup {
    node: String,
    name: String,
    count: u64,
    amount: String,
    weighted: String,
    href: String,
}

struct ProcessGroup {
    id: i64,
    name: String,
    count: u64,
    amount: String,
    weighted: String,
    stages: Vec<StageGroup>,
}

struct Overdue {
    id: i64,
    title: String,
    account: String,
    stage: String,
    days: i64,
    sla_days: u32,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    chrome: Chrome<'a>,
    t: &'static Crm,
    user: &'a User,
    role: &'a str,
    groups: Vec<ProcessGroup>,
    overdue: Vec<Overdue>,
    scan_note: Option<String>,
}

async fn home(ctx: Ctx, State(s): State<AppState>) -> Response {
    match build(&ctx, &s).await {
        Ok((groups, overdue, scan_note)) => render(&HomePage {
            chrome: ctx.chrome("home"),
            t: ctx.t.crm,
            user: ctx.user(),
            role: ctx.t.common.role(ctx.user().role),
            groups,
            overdue,
            scan_note,
        }),
        Err(e) => error_page(&ctx, e),
    }
}

async fn build(ctx: &Ctx, s: &AppState) -> Result<(Vec<ProcessGroup>, Vec<Overdue>, Option<String>), Error> {
    let me = ctx.user().id;
    let g = ctx.guarded(s);
    let mine = DealFilter { owner: Some(me), status: Some(DealStatus::Open), ..Default::default() };

    // The newest open deals, for the SLA check and for stages older versions still have.
    let mut scanned: Vec<DealSummary> = Vec::new();
    let mut after = None;
    loop {
        let page = g.list_deals(&mine, PageRequest { limit: PageRequest::MAX_LIMIT, after }).await?;
        scanned.extend(page.items);
        after = page.next_cursor;
        if after.is_none() || scanned.len() >= SLA_SCAN {
            break;
        }
    }
    let truncated = after.is_some();

    // By stage: the database's counts and sums per stage (one query per process the caller
    // has open deals in), in the order of the process's current version.
    let mut groups = Vec::new();
    let mut defs = Definitions::default();
    for p in s.store.list_processes().await? {
        let in_process = DealFilter { process: Some(p.id), ..mine.clone() };
        let totals = g.deal_totals(&in_process).await?;
        if totals.count == 0 {
            continue;
        }
        let by_node = g.stage_totals(&in_process).await?;
        let current = current_definition(s, &p).await?;
        let mut nodes: Vec<(String, String)> =
            current.definition.stages_in_order().iter().map(|n| (n.id.clone(), n.name.clone())).collect();
        // Deals pinned to an older version may sit in a stage the current one dropped.
        for st in &by_node {
            if nodes.iter().any(|(id, _)| *id == st.node) {
                continue;
            }
            let name = match scanned.iter().find(|d| d.process_id == p.id && d.current_node == st.node) {
                Some(d) => node_name(defs.get(s, d.process_id, d.process_version).await?, &st.node),
                None => st.node.clone(),
            };
            nodes.push((st.node.clone(), name));
        }
        let stages = nodes
            .into_iter()
            .map(|(node, name)| {
                let st = by_node.iter().find(|st| st.node == node).map(|st| st.totals.clone()).unwrap_or_default();
                let link = href(
                    "/deals",
                    &[("process", &p.id.to_string()), ("stage", &node), ("owner", &me.to_string()), ("status", "open")],
                );
                StageGroup {
                    name,
                    count: st.count,
                    amount: money_list(&st.amount, ctx.locale),
                    weighted: money_list(&st.weighted_amount, ctx.locale),
                    href: link,
                    node,
                }
            })
            .collect();
        groups.push(ProcessGroup {
            id: p.id.0,
            name: p.name,
            count: totals.count,
            amount: money_list(&totals.amount, ctx.locale),
            weighted: money_list(&totals.weighted_amount, ctx.locale),
            stages,
        });
    }

    let overdue = past_sla(&mut defs, s, &scanned, s.clock.now()).await?;
    let scan_note = truncated.then(|| ctx.t.crm.scan_limited.replace("{n}", &scanned.len().to_string()));
    Ok((groups, overdue, scan_note))
}

/// The deals in their stage for longer than its `sla_days`, most overdue first.
async fn past_sla(
    defs: &mut Definitions,
    s: &AppState,
    deals: &[DealSummary],
    now: DateTime<Utc>,
) -> Result<Vec<Overdue>, Error> {
    let mut out = Vec::new();
    for d in deals {
        let def = defs.get(s, d.process_id, d.process_version).await?;
        if let Some((days, sla)) = overdue_by(def, &d.current_node, d.stage_entered_at, now) {
            out.push(Overdue {
                id: d.id.0,
                title: d.title.clone(),
                account: d.account_name.clone(),
                stage: node_name(def, &d.current_node),
                days,
                sla_days: sla,
            });
        }
    }
    out.sort_by_key(|o| std::cmp::Reverse(o.days - i64::from(o.sla_days)));
    Ok(out)
}

/// (days in stage, the stage's SLA) when the deal has been in `node` longer than its SLA.
fn overdue_by(def: &ProcessDefinition, node: &str, entered: DateTime<Utc>, now: DateTime<Utc>) -> Option<(i64, u32)> {
    let sla = def.stage(node)?.sla_days;
    let days = days_between(entered, now);
    (days > i64::from(sla)).then_some((days, sla))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deal_is_overdue_only_after_more_days_than_its_stage_sla() {
        let def = salesflow_domain::templates::get("seed-five-stage.zh-CN").expect("seed template");
        let stage = def.stages_in_order()[0].id.clone();
        let sla = def.stage(&stage).unwrap().sla_days as i64;
        let now = chrono::DateTime::parse_from_rfc3339("2025-03-20T09:00:00Z").unwrap().to_utc();
        let entered = |days: i64| now - chrono::Duration::days(days) - chrono::Duration::hours(1);
        assert_eq!(overdue_by(&def, &stage, entered(sla), now), None, "exactly the SLA is on time");
        assert_eq!(overdue_by(&def, &stage, entered(sla + 1), now), Some((sla + 1, sla as u32)));
        let won = def.nodes.iter().find(|n| matches!(n.kind, salesflow_domain::process::NodeKind::Won)).unwrap();
        assert_eq!(overdue_by(&def, &won.id, entered(1000), now), None, "terminals have no SLA");
    }
}
