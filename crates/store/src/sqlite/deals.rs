//! Deals and their event log. Every write runs in the caller's `BEGIN IMMEDIATE` transaction
//! on the writer connection: read the deal, let the domain plan, write with
//! `WHERE version = <read version>` (zero rows → conflict, nothing written), append the event.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{Connection, params, params_from_iter};
use salesflow_domain::deal_update::{plan_create, plan_patch, plan_step};
use salesflow_domain::error::{Error, Result};
use salesflow_domain::ids::*;
use salesflow_domain::migration::{self, MigrationRequest, MigrationSummary};
use salesflow_domain::normalize;
use salesflow_domain::records::*;
use salesflow_domain::stage_move::{PlannedMove, plan_move};
use salesflow_domain::store::{DealFacts, DealSummary, DealTotals, ProcessVersion, StageEntry, StageTotals, TotalsRow};

use super::scope::{ScopeFilter, Where, scoped_page};
use super::{Cache, Db, all, conflict, exec, one, opt_ts, processes, row_exists, rows, ts, user_exists};
use crate::rows::{DEAL_COLS, EVENT_COLS, FACTS_COLS, SUMMARY_COLS};

static LOAD_SQL: LazyLock<String> = LazyLock::new(|| format!("SELECT {DEAL_COLS} FROM deals d WHERE d.id = ?1"));
static EVENT_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO deal_events (deal_id, seq, kind, process_id, process_version, from_node, to_node, edge_id, \
         actor_id, occurred_at, recorded_at, amount_minor, currency, probability, expected_close_date, details) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) RETURNING {EVENT_COLS}"
    )
});

/// The deal, its contacts and the ticked steps of its current stage, plus the sequence number
/// and business time of its last event. The caller reads inside one transaction (a read
/// snapshot or the write transaction), so the three reads agree.
pub fn load(conn: &Connection, id: DealId) -> Result<(Deal, i64, DateTime<Utc>)> {
    let (mut deal, seq, at) = one(conn, &LOAD_SQL, [id.0], rows::deal)?.ok_or_else(|| Error::not_found("deal", id))?;
    deal.contact_ids =
        all(conn, "SELECT contact_id FROM deal_contacts WHERE deal_id = ?1 ORDER BY position", [id.0], |r| {
            Ok(ContactId(rows::get(r, 0)?))
        })?;
    deal.completed_steps = all(
        conn,
        "SELECT step_id FROM deal_steps WHERE deal_id = ?1 AND node_id = ?2 ORDER BY done_at, step_id",
        params![id.0, deal.current_node],
        |r| rows::get(r, 0),
    )?;
    let needs = one(conn, "SELECT body FROM deal_needs WHERE deal_id = ?1", [id.0], |r| rows::get::<String>(r, 0))?;
    deal.needs_known = needs.map(|b| crate::documents::needs_known(&b)).transpose()?.unwrap_or_default();
    Ok((deal, seq, at))
}

pub(super) fn insert_event(
    conn: &Connection,
    deal: &Deal,
    seq: i64,
    event: &NewEvent,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<DealEvent> {
    let row = one(
        conn,
        &EVENT_SQL,
        params![
            deal.id.0,
            seq,
            event.kind.as_str(),
            deal.process_id.0,
            deal.process_version,
            event.from_node,
            event.to_node,
            event.edge_id,
            actor.user.0,
            ts(event.occurred_at),
            ts(now),
            deal.amount.map(|m| m.minor),
            deal.amount.map(|m| m.currency.code().to_string()),
            deal.probability as i16,
            deal.expected_close_date,
            event.details.to_string(),
        ],
        rows::event,
    )?;
    row.ok_or_else(|| Error::Storage("INSERT … RETURNING returned nothing".into()))
}

fn replace_contacts(conn: &Connection, deal: DealId, contacts: &[ContactId]) -> Result<()> {
    exec(conn, "DELETE FROM deal_contacts WHERE deal_id = ?1", [deal.0])?;
    for (pos, c) in contacts.iter().enumerate() {
        exec(
            conn,
            "INSERT INTO deal_contacts (deal_id, contact_id, position) VALUES (?1, ?2, ?3)",
            params![deal.0, c.0, pos as i64],
        )?;
    }
    Ok(())
}

fn contacts_exist(conn: &Connection, ids: &[ContactId]) -> Result<()> {
    for (i, c) in ids.iter().enumerate() {
        row_exists(conn, "contacts", c.0, &format!("contact_ids[{i}]"), "contact")?;
    }
    Ok(())
}

/// Inserts a deal planned by `plan_create` with its `created` event.
pub fn insert(
    conn: &Connection,
    new: &NewDeal,
    owner: UserId,
    lead: Option<LeadId>,
    actor: &Actor,
    version: &ProcessVersion,
    now: DateTime<Utc>,
) -> Result<Deal> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        // RETURNING takes bare column names.
        let returning = DEAL_COLS.split(", ").map(|c| c.trim().trim_start_matches("d.")).collect::<Vec<_>>().join(", ");
        format!(
            "INSERT INTO deals (title, search_text, account_id, owner_id, process_id, process_version, current_node, amount_minor, \
             currency, expected_close_date, probability, probability_overridden, status, lost_reason, needs_summary, \
             channel, lead_id, version, last_event_seq, last_event_at, stage_entered_at, created_at, updated_at, closed_at) \
             VALUES (?1, ?17, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'open', NULL, ?12, ?13, ?14, 1, 1, ?15, ?15, ?15, ?16, NULL) \
             RETURNING {returning}"
        )
    });
    let plan = plan_create(&version.definition, new, now)?;
    row_exists(conn, "accounts", new.account_id.0, "account_id", "account")?;
    user_exists(conn, owner, "owner_id")?;
    contacts_exist(conn, &new.contact_ids)?;
    let row = one(
        conn,
        &SQL,
        params![
            new.title.trim(),
            new.account_id.0,
            owner.0,
            version.process_id.0,
            version.version,
            plan.entry,
            new.amount.map(|m| m.minor),
            new.amount.map(|m| m.currency.code().to_string()),
            new.expected_close_date,
            plan.probability as i16,
            plan.probability_overridden,
            new.needs_summary,
            new.channel.map(|c| c.as_str()),
            lead.map(|l| l.0),
            ts(plan.event.occurred_at),
            ts(now),
            normalize::search_text(&[Some(&new.title)]),
        ],
        rows::deal,
    )?;
    let (mut deal, _, _) = row.ok_or_else(|| Error::Storage("INSERT … RETURNING returned nothing".into()))?;
    deal.contact_ids = unique(&new.contact_ids);
    replace_contacts(conn, deal.id, &deal.contact_ids)?;
    insert_event(conn, &deal, 1, &plan.event, actor, now)?;
    Ok(deal)
}

pub fn create(conn: &Connection, cache: &Cache, new: &NewDeal, actor: &Actor, now: DateTime<Utc>) -> Result<Deal> {
    let process = match processes::latest_published(conn, cache, new.process_id) {
        Err(Error::NotFound { .. }) => {
            return Err(Error::invalid("process_id", format!("process {} does not exist", new.process_id)));
        }
        other => other?,
    };
    insert(conn, new, new.owner_id.unwrap_or(actor.user), None, actor, &process, now)
}

/// The conditions a deal filter and a scope put on `deals d`.
fn filtered(base: &str, filter: &DealFilter, scope: &ScopeFilter) -> Where {
    let mut w = Where::new(base);
    filtered_by(&mut w, filter).scope(scope, RecordKind::Deal, "d.owner_id", "d.id");
    w
}

/// The list filter's own conditions (no scope).
fn filtered_by<'w>(w: &'w mut Where, filter: &DealFilter) -> &'w mut Where {
    w.eq("d.owner_id", filter.owner.map(|o| Value::Integer(o.0)))
        .eq("d.process_id", filter.process.map(|p| Value::Integer(p.0)))
        .eq("d.current_node", filter.stage.clone().map(Value::Text))
        .eq("d.status", filter.status.map(|s| Value::Text(s.as_str().into())))
        .eq("d.channel", filter.channel.map(|c| Value::Text(c.as_str().into())))
        .eq("d.account_id", filter.account.map(|a| Value::Integer(a.0)))
        .text("d.search_text", filter.text.as_deref())
}

/// The statement `list` runs.
fn list_sql(filter: &DealFilter, scope: &ScopeFilter, page: PageRequest) -> (String, Vec<Value>) {
    static BASE: LazyLock<String> = LazyLock::new(|| {
        format!("SELECT {SUMMARY_COLS} FROM deals d JOIN accounts a ON a.id = d.account_id WHERE 1 = 1")
    });
    if *scope == ScopeFilter::All {
        return filtered(&BASE, filter, scope).page("d.id", page);
    }
    static SELECT: LazyLock<String> = LazyLock::new(|| {
        format!("SELECT {SUMMARY_COLS} FROM deals d JOIN accounts a ON a.id = d.account_id WHERE d.id IN (")
    });
    scoped_page(
        &SELECT,
        "SELECT d.id FROM deals d WHERE 1 = 1",
        |w| {
            filtered_by(w, filter);
        },
        scope,
        RecordKind::Deal,
        "d.owner_id",
        "d.id",
        page,
    )
}

pub fn list(
    conn: &Connection,
    filter: &DealFilter,
    scope: &ScopeFilter,
    page: PageRequest,
) -> Result<Page<DealSummary>> {
    let (sql, values) = list_sql(filter, scope, page);
    let items = all(conn, &sql, params_from_iter(values), rows::summary)?;
    Ok(Page::from_rows(items, page.limit, |d| d.id.0))
}

/// Count and per-currency sums of the deals `list` shows for the same filter and scope. Every
/// deal has its account (a foreign key), so the join of the list is left out.
pub fn totals(conn: &Connection, filter: &DealFilter, scope: &ScopeFilter) -> Result<DealTotals> {
    let mut w = filtered(
        "SELECT d.currency, COUNT(*), SUM(d.amount_minor), SUM(d.amount_minor * d.probability) FROM deals d WHERE 1 = 1",
        filter,
        scope,
    );
    w.push(" GROUP BY d.currency ORDER BY d.currency", []);
    let (sql, values) = w.finish();
    let groups = all(conn, &sql, params_from_iter(values), |r| {
        Ok((
            rows::get::<Option<String>>(r, 0)?,
            rows::get::<i64>(r, 1)?,
            rows::get::<Option<i64>>(r, 2)?,
            rows::get::<Option<i64>>(r, 3)?,
        ))
    })?;
    DealTotals::fold(groups)
}

/// [`totals`] per node the deals are in, in one `GROUP BY` (sorted by node, then currency).
pub fn stage_totals(conn: &Connection, filter: &DealFilter, scope: &ScopeFilter) -> Result<Vec<StageTotals>> {
    let read = |sql: &str, values: Vec<Value>| {
        all(conn, sql, params_from_iter(values), |r| {
            Ok((
                rows::get::<String>(r, 0)?,
                rows::get::<Option<String>>(r, 1)?,
                rows::get::<i64>(r, 2)?,
                rows::get::<Option<i64>>(r, 3)?,
                rows::get::<Option<i64>>(r, 4)?,
            ))
        })
    };
    let groups: Vec<TotalsRow> = if counted(filter) {
        // The running totals the triggers of migration 3 keep, per owner; plus, for a scope
        // that is not everything, the deals shared with the user whose owners it does not reach.
        let mut w = Where::new(
            "SELECT current_node, NULLIF(currency, ''), SUM(deals), SUM(amount_minor), SUM(weighted) \
             FROM deal_stage_counters WHERE deals <> 0",
        );
        w.eq("process_id", filter.process.map(|p| Value::Integer(p.0)))
            .eq("current_node", filter.stage.clone().map(Value::Text))
            .eq("owner_id", filter.owner.map(|o| Value::Integer(o.0)));
        let owners = match scope {
            ScopeFilter::All => None,
            ScopeFilter::Owners { owners, .. } => Some(owners.clone()),
            ScopeFilter::Shared { .. } => Some(Vec::new()),
        };
        if let Some(owners) = &owners {
            let marks = vec!["?"; owners.len().max(1)].join(", ");
            let values: Vec<Value> =
                if owners.is_empty() { vec![Value::Null] } else { owners.iter().map(|o| Value::Integer(*o)).collect() };
            w.push(&format!(" AND owner_id IN ({marks})"), values);
        }
        w.push(" GROUP BY current_node, currency", []);
        let (sql, values) = w.finish();
        let mut groups = read(&sql, values)?;
        if let (Some(owners), ScopeFilter::Owners { user, .. } | ScopeFilter::Shared { user }) = (&owners, scope) {
            let mut w = Where::new(
                "SELECT d.current_node, d.currency, COUNT(*), SUM(d.amount_minor), SUM(d.amount_minor * d.probability) \
                 FROM record_shares s JOIN deals d ON d.id = s.record_id \
                 WHERE s.record_kind = 'deal' AND s.user_id = ?",
            );
            w.bind(Value::Integer(*user))
                .eq("d.process_id", filter.process.map(|p| Value::Integer(p.0)))
                .eq("d.current_node", filter.stage.clone().map(Value::Text))
                .eq("d.owner_id", filter.owner.map(|o| Value::Integer(o.0)));
            if !owners.is_empty() {
                let marks = vec!["?"; owners.len()].join(", ");
                w.push(&format!(" AND d.owner_id NOT IN ({marks})"), owners.iter().map(|o| Value::Integer(*o)));
            }
            w.push(" GROUP BY d.current_node, d.currency", []);
            let (sql, values) = w.finish();
            groups.extend(read(&sql, values)?);
        }
        groups
    } else {
        let mut w = filtered(
            "SELECT d.current_node, d.currency, COUNT(*), SUM(d.amount_minor), SUM(d.amount_minor * d.probability) \
             FROM deals d WHERE 1 = 1",
            filter,
            scope,
        );
        w.push(" GROUP BY d.current_node, d.currency", []);
        let (sql, values) = w.finish();
        read(&sql, values)?
    };
    StageTotals::fold(groups)
}

/// Whether the running totals answer `filter`: they know process, node, owner and currency,
/// nothing else (a deal's status follows its node).
fn counted(filter: &DealFilter) -> bool {
    filter.status.is_none()
        && filter.channel.is_none()
        && filter.account.is_none()
        && filter.text.as_deref().is_none_or(|t| t.trim().is_empty())
}

pub fn update(
    conn: &Connection,
    cache: &Cache,
    id: DealId,
    patch: &DealPatch,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Deal> {
    let (deal, seq, last_at) = load(conn, id)?;
    let version = processes::version(conn, cache, deal.process_id, deal.process_version)?;
    let (next, events) = plan_patch(&version.definition, &deal, Some(last_at), patch, now)?;
    if events.is_empty() {
        return Ok(deal);
    }
    if next.owner_id != deal.owner_id {
        user_exists(conn, next.owner_id, "owner_id")?;
    }
    if next.contact_ids != deal.contact_ids {
        contacts_exist(conn, &next.contact_ids)?;
    }
    let done = exec(
        conn,
        "UPDATE deals SET title = ?1, search_text = ?14, amount_minor = ?2, currency = ?3, expected_close_date = ?4, \
         probability = ?5, probability_overridden = ?6, owner_id = ?7, needs_summary = ?8, version = version + 1, \
         last_event_seq = ?9, last_event_at = ?10, updated_at = ?11 WHERE id = ?12 AND version = ?13",
        params![
            next.title,
            next.amount.map(|m| m.minor),
            next.amount.map(|m| m.currency.code().to_string()),
            next.expected_close_date,
            next.probability as i16,
            next.probability_overridden,
            next.owner_id.0,
            next.needs_summary,
            seq + events.len() as i64,
            ts(events[0].occurred_at),
            ts(now),
            id.0,
            deal.version,
            normalize::search_text(&[Some(&next.title)]),
        ],
    )?;
    if done == 0 {
        return Err(conflict("deal", id.0));
    }
    if next.contact_ids != deal.contact_ids {
        replace_contacts(conn, id, &next.contact_ids)?;
    }
    for (i, e) in events.iter().enumerate() {
        insert_event(conn, &next, seq + 1 + i as i64, e, actor, now)?;
    }
    Ok(load(conn, id)?.0)
}

/// The read half of a move: load the deal and let the domain plan the move. Runs on a reader,
/// so refused moves (gates, bad edges) never touch the writer.
pub fn plan(
    conn: &Connection,
    cache: &Cache,
    id: DealId,
    req: &MoveRequest,
    now: DateTime<Utc>,
) -> Result<(Deal, i64, PlannedMove)> {
    let (deal, seq, last_at) = load(conn, id)?;
    let version = processes::version(conn, cache, deal.process_id, deal.process_version)?;
    let plan = plan_move(&version.definition, &deal, Some(last_at), req, now)?;
    Ok((deal, seq, plan))
}

/// The write half: applies a planned move if the deal is still at the version it was planned
/// on (every change bumps the version), else `Conflict` and nothing is written.
pub fn apply_move(
    conn: &Connection,
    deal: Deal,
    seq: i64,
    plan: &PlannedMove,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(Deal, DealEvent)> {
    let id = deal.id;
    let at = plan.event.occurred_at;
    let closed_at = (plan.status != DealStatus::Open).then_some(at);
    let done = exec(
        conn,
        "UPDATE deals SET current_node = ?1, status = ?2, probability = ?3, probability_overridden = 0, \
         lost_reason = ?4, stage_entered_at = ?5, closed_at = ?6, version = version + 1, last_event_seq = ?7, \
         last_event_at = ?5, updated_at = ?8 WHERE id = ?9 AND version = ?10",
        params![
            plan.to_node,
            plan.status.as_str(),
            plan.probability as i16,
            plan.lost_reason,
            ts(at),
            opt_ts(closed_at),
            seq + 1,
            ts(now),
            id.0,
            deal.version,
        ],
    )?;
    if done == 0 {
        return Err(conflict("deal", id.0));
    }
    // Entering a stage starts a fresh visit: its checklist begins unticked.
    exec(conn, "DELETE FROM deal_steps WHERE deal_id = ?1 AND node_id = ?2", params![id.0, plan.to_node])?;
    let moved = plan.applied_to(deal, now);
    let event = insert_event(conn, &moved, seq + 1, &plan.event, actor, now)?;
    Ok((moved, event))
}

/// The open deals on a version with their contacts and the ticked steps of their stage, and
/// each one's last event sequence number.
pub fn open_on(conn: &Connection, id: ProcessId, version: i32) -> Result<Vec<(Deal, i64)>> {
    let mut deals = all(
        conn,
        &format!(
            "SELECT {DEAL_COLS} FROM deals d WHERE d.process_id = ?1 AND d.process_version = ?2 \
             AND d.status = 'open' ORDER BY d.id"
        ),
        params![id.0, version],
        rows::deal,
    )?;
    let mut contacts: HashMap<i64, Vec<ContactId>> = HashMap::new();
    for (deal, contact) in all(
        conn,
        "SELECT c.deal_id, c.contact_id FROM deal_contacts c JOIN deals d ON d.id = c.deal_id \
         WHERE d.process_id = ?1 AND d.process_version = ?2 AND d.status = 'open' ORDER BY c.deal_id, c.position",
        params![id.0, version],
        |r| Ok((rows::get::<i64>(r, 0)?, ContactId(rows::get(r, 1)?))),
    )? {
        contacts.entry(deal).or_default().push(contact);
    }
    let mut steps: HashMap<i64, Vec<String>> = HashMap::new();
    for (deal, step) in all(
        conn,
        "SELECT s.deal_id, s.step_id FROM deal_steps s JOIN deals d ON d.id = s.deal_id AND s.node_id = d.current_node \
         WHERE d.process_id = ?1 AND d.process_version = ?2 AND d.status = 'open' ORDER BY s.deal_id, s.done_at, s.step_id",
        params![id.0, version],
        |r| Ok((rows::get::<i64>(r, 0)?, rows::get::<String>(r, 1)?)),
    )? {
        steps.entry(deal).or_default().push(step);
    }
    Ok(deals
        .drain(..)
        .map(|(mut deal, seq, _)| {
            deal.contact_ids = contacts.remove(&deal.id.0).unwrap_or_default();
            deal.completed_steps = steps.remove(&deal.id.0).unwrap_or_default();
            (deal, seq)
        })
        .collect())
}

/// Moves every open deal of a version to another by the mapping, inside the caller's write
/// transaction: any error rolls every deal back.
pub fn migrate(
    conn: &Connection,
    cache: &Cache,
    id: ProcessId,
    req: &MigrationRequest,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<MigrationSummary> {
    let from = processes::version(conn, cache, id, req.from_version)?;
    let to = processes::version(conn, cache, id, req.to_version)?;
    let loaded = open_on(conn, id, req.from_version)?;
    let seqs: HashMap<DealId, i64> = loaded.iter().map(|(d, seq)| (d.id, *seq)).collect();
    let deals: Vec<Deal> = loaded.into_iter().map(|(d, _)| d).collect();
    let (planned, mut summary) = migration::plan(&from, &to, &req.mapping, &deals, now)?;
    for (deal, p) in deals.into_iter().zip(&planned) {
        let seq = seqs[&p.deal] + 1;
        let done = exec(
            conn,
            "UPDATE deals SET process_version = ?1, current_node = ?2, probability = ?3, version = version + 1, \
             last_event_seq = ?4, last_event_at = ?5, updated_at = ?5 WHERE id = ?6 AND version = ?7",
            params![to.version, p.to_node, p.probability as i16, seq, ts(now), p.deal.0, p.deal_version],
        )?;
        if done == 0 {
            return Err(conflict("deal", p.deal.0));
        }
        if p.to_node != p.from_node {
            exec(conn, "DELETE FROM deal_steps WHERE deal_id = ?1 AND node_id = ?2", params![p.deal.0, p.to_node])?;
            for step in &p.kept_steps {
                exec(
                    conn,
                    "INSERT INTO deal_steps (deal_id, node_id, step_id, done_at) SELECT deal_id, ?1, step_id, done_at \
                     FROM deal_steps WHERE deal_id = ?2 AND node_id = ?3 AND step_id = ?4",
                    params![p.to_node, p.deal.0, p.from_node, step],
                )?;
            }
        }
        let moved =
            Deal { process_version: to.version, current_node: p.to_node.clone(), probability: p.probability, ..deal };
        insert_event(conn, &moved, seq, &p.event, actor, now)?;
    }
    summary.applied = true;
    Ok(summary)
}

pub fn toggle_step(
    conn: &Connection,
    cache: &Cache,
    id: DealId,
    toggle: &StepToggle,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Deal> {
    let (deal, seq, last_at) = load(conn, id)?;
    let version = processes::version(conn, cache, deal.process_id, deal.process_version)?;
    let event = plan_step(&version.definition, &deal, Some(last_at), toggle, now)?;
    let done = exec(
        conn,
        "UPDATE deals SET version = version + 1, last_event_seq = ?1, last_event_at = ?2, updated_at = ?3 \
         WHERE id = ?4 AND version = ?5",
        params![seq + 1, ts(event.occurred_at), ts(now), id.0, deal.version],
    )?;
    if done == 0 {
        return Err(conflict("deal", id.0));
    }
    if toggle.done {
        exec(
            conn,
            "INSERT INTO deal_steps (deal_id, node_id, step_id, done_at) VALUES (?1, ?2, ?3, ?4)",
            params![id.0, deal.current_node, toggle.step, ts(event.occurred_at)],
        )?;
    } else {
        exec(
            conn,
            "DELETE FROM deal_steps WHERE deal_id = ?1 AND node_id = ?2 AND step_id = ?3",
            params![id.0, deal.current_node, toggle.step],
        )?;
    }
    insert_event(conn, &deal, seq + 1, &event, actor, now)?;
    Ok(load(conn, id)?.0)
}

pub fn events(conn: &Connection, id: DealId) -> Result<Vec<DealEvent>> {
    static SQL: LazyLock<String> =
        LazyLock::new(|| format!("SELECT {EVENT_COLS} FROM deal_events WHERE deal_id = ?1 ORDER BY seq"));
    row_exists(conn, "deals", id.0, "id", "deal").map_err(|_| Error::not_found("deal", id))?;
    all(conn, &SQL, [id.0], rows::event)
}

pub fn facts(
    conn: &Connection,
    process: ProcessId,
    scope: &ScopeFilter,
    after: Option<DealId>,
    limit: u32,
) -> Result<Vec<DealFacts>> {
    row_exists(conn, "processes", process.0, "id", "process").map_err(|_| Error::not_found("process", process))?;
    let mut w = Where::new(&format!(
        "SELECT {FACTS_COLS} FROM deals d JOIN accounts a ON a.id = d.account_id WHERE d.process_id = ? AND d.id > ?"
    ));
    w.bind(Value::Integer(process.0)).bind(Value::Integer(after.map_or(i64::MIN, |a| a.0)));
    w.scope(scope, RecordKind::Deal, "d.owner_id", "d.id");
    w.push(" ORDER BY d.id LIMIT ?", [Value::Integer(i64::from(limit))]);
    let (sql, values) = w.finish();
    all(conn, &sql, params_from_iter(values), rows::facts)
}

pub fn stage_entries_of(conn: &Connection, process: ProcessId, deals: &[DealId]) -> Result<Vec<StageEntry>> {
    let mut out = Vec::new();
    // SQLite binds at most 32,766 values a statement; pages are smaller, but stay safe.
    for chunk in deals.chunks(10_000) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let sql = format!(
            "SELECT deal_id, process_version, to_node, occurred_at, actor_id FROM deal_events \
             WHERE process_id = ? AND (kind IN ('created', 'moved') OR (kind = 'migrated' AND to_node <> from_node)) \
             AND deal_id IN ({marks}) ORDER BY deal_id, seq"
        );
        let values = std::iter::once(Value::Integer(process.0)).chain(chunk.iter().map(|d| Value::Integer(d.0)));
        out.extend(all(conn, &sql, params_from_iter(values), |r| {
            Ok(StageEntry {
                deal_id: DealId(r.get(0).db()?),
                process_version: r.get(1).db()?,
                node: r.get(2).db()?,
                occurred_at: rows::time(r, 3)?,
                actor_id: UserId(r.get(4).db()?),
            })
        })?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use rusqlite::params_from_iter;
    use salesflow_domain::access::Scope;
    use salesflow_domain::records::{Role, TeamReach, User};

    use super::*;

    const T: &str = "2025-03-03T09:00:00.000000Z";

    fn plan(conn: &Connection, sql: &str, values: Vec<Value>) -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt.query_map(params_from_iter(values), |r| r.get::<_, String>(3)).unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("\n")
    }

    /// A rep's deal list (own deals or shared) must find its rows through the owner index and
    /// the shares' primary key, not by scanning every deal; an admin's list keeps its plan.
    #[test]
    fn a_scoped_deal_list_uses_the_owner_index() {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::migrate(&mut conn).unwrap();
        conn.execute_batch(&format!(
            "PRAGMA foreign_keys = OFF;
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50)
             INSERT INTO users (id, name, email, locale, time_zone, role, created_at)
             SELECT i, 'u' || i, 'u' || i || '@example.com', 'en', 'UTC', 'rep', 'x' FROM n;
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
             INSERT INTO accounts (id, name, name_key, search_text, industry, region, website, owner_id, version,
                                   created_at, updated_at)
             SELECT i, 'a', 'a', 'a', '', '', '', 1 + i % 50, 1, 'x', 'x' FROM n;
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
             INSERT INTO deals (id, title, search_text, account_id, owner_id, process_id, process_version, current_node,
                                amount_minor, currency, probability, probability_overridden, status, needs_summary,
                                version, last_event_seq, last_event_at, stage_entered_at, created_at, updated_at)
             SELECT i, 'd', 'd', 1 + i % 1000, 1 + i % 50, 1, 1, 'n', i, 'CNY', 50, 0,
                    CASE i % 3 WHEN 0 THEN 'won' ELSE 'open' END, '', 1, 1, '{T}', '{T}', '{T}', '{T}' FROM n;
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40)
             INSERT INTO record_shares (record_kind, record_id, user_id, shared_by, created_at)
             SELECT 'deal', i * 7, 3, 1, '{T}' FROM n;"
        ))
        .unwrap();
        let rep = User {
            id: UserId(3),
            name: "rep".into(),
            email: "rep@example.com".into(),
            locale: "en".into(),
            time_zone: "UTC".into(),
            role: Role::Rep,
            active: true,
        };
        let rep = ScopeFilter::of(&Scope::for_user(&rep, &TeamReach::default()));
        let admin = ScopeFilter::of(&Scope::admin(UserId(1)));
        let open = DealFilter { status: Some(DealStatus::Open), ..Default::default() };
        let first = PageRequest { limit: 50, after: None };
        let next = PageRequest { limit: 50, after: Some(50_000) };
        for analyzed in [false, true] {
            if analyzed {
                conn.execute_batch("ANALYZE").unwrap();
            }
            for filter in [&DealFilter::default(), &open] {
                for page in [first, next] {
                    let (sql, values) = list_sql(filter, &rep, page);
                    let p = plan(&conn, &sql, values);
                    eprintln!("rep, {filter:?}, {page:?}, analyzed: {analyzed}\n{p}\n");
                    assert!(!p.contains("SCAN d"), "never a scan of every deal:\n{p}");
                    if analyzed || filter.status.is_none() {
                        // One branch walks the owner's index newest first and stops at the page
                        // size; another reads the shares by their key.
                        assert!(p.contains("INDEX deals_owner"), "the owner index serves a rep's list:\n{p}");
                        assert!(p.contains("record_shares"), "shared deals by their key:\n{p}");
                        assert!(!p.contains("TEMP B-TREE FOR ORDER BY"), "no sort of all the rep's deals:\n{p}");
                    }
                }
            }
            let (sql, values) = list_sql(&DealFilter::default(), &admin, first);
            let p = plan(&conn, &sql, values);
            eprintln!("admin, analyzed: {analyzed}\n{p}\n");
            assert!(!p.contains("TEMP B-TREE") && !p.contains("record_shares"), "an admin's list is not sorted:\n{p}");
        }
        // The same rows for the list and the totals.
        let page = list(&conn, &DealFilter::default(), &rep, PageRequest { limit: 200, after: None }).unwrap();
        assert_eq!(page.items.len(), 200);
        let totals = totals(&conn, &DealFilter::default(), &rep).unwrap();
        assert_eq!(totals.count, 2_000 + 40 - 1, "own deals, plus shared ones (one of which is owned)");
    }
}
