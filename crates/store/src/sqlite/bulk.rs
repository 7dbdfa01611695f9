//! Bulk history: rows with preassigned ids, written by single-row INSERTs prepared once (in
//! SQLite, with no round trips, that beats building multi-row VALUES lists).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use salesflow_domain::error::Result;
use salesflow_domain::normalize;
use salesflow_domain::store::{HistoryBatch, MaxIds};

use super::{Db, opt_ts, rows, ts};

pub fn max_ids(conn: &Connection) -> Result<MaxIds> {
    let ids = super::one(
        conn,
        "SELECT (SELECT MAX(id) FROM accounts), (SELECT MAX(id) FROM contacts), (SELECT MAX(id) FROM leads), \
         (SELECT MAX(id) FROM deals), (SELECT MAX(id) FROM deal_events)",
        [],
        |r| {
            let max = |i| rows::get::<Option<i64>>(r, i).map(|v| v.unwrap_or(0));
            Ok(MaxIds { account: max(0)?, contact: max(1)?, lead: max(2)?, deal: max(3)?, event: max(4)? })
        },
    )?;
    Ok(ids.unwrap_or_default())
}

/// Writes `batch` in the caller's transaction.
pub fn import(conn: &Connection, batch: &HistoryBatch) -> Result<()> {
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO accounts (id, name, name_key, search_text, industry, region, website, owner_id, version, created_at, \
             updated_at, customer_group) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )
        .db()?;
    for a in &batch.accounts {
        stmt.execute(params![
            a.id.0,
            a.name,
            normalize::company(&a.name),
            normalize::search_text(&[Some(&a.name)]),
            a.industry,
            a.region,
            a.website,
            a.owner_id.0,
            a.version,
            ts(a.created_at),
            ts(a.updated_at),
            a.customer_group,
        ])
        .db()?;
    }
    drop(stmt);

    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO contacts (id, account_id, name, title, email, email_key, phone, phone_key, search_text, wechat_id, \
             preferred_channel, consent_email, consent_sms, consent_phone, consent_wechat, owner_id, version, created_at, \
             updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
        )
        .db()?;
    for c in &batch.contacts {
        stmt.execute(params![
            c.id.0,
            c.account_id.map(|a| a.0),
            c.name,
            c.title,
            c.email,
            c.email.as_deref().and_then(normalize::email),
            c.phone,
            c.phone.as_deref().and_then(normalize::phone),
            normalize::search_text(&[Some(&c.name), c.email.as_deref()]),
            c.wechat_id,
            c.preferred_channel.map(|p| p.as_str()),
            c.consent.email,
            c.consent.sms,
            c.consent.phone,
            c.consent.wechat,
            c.owner_id.0,
            c.version,
            ts(c.created_at),
            ts(c.updated_at),
        ])
        .db()?;
    }
    drop(stmt);

    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO leads (id, name, company, company_key, email, email_key, phone, phone_key, search_text, channel, status, \
             disqualify_reason, owner_id, notes, converted_deal_id, version, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
        )
        .db()?;
    for l in &batch.leads {
        stmt.execute(params![
            l.id.0,
            l.name,
            l.company,
            normalize::company(&l.company),
            l.email,
            l.email.as_deref().and_then(normalize::email),
            l.phone,
            l.phone.as_deref().and_then(normalize::phone),
            normalize::search_text(&[Some(&l.name), Some(&l.company), l.email.as_deref()]),
            l.channel.as_str(),
            l.status.as_str(),
            l.disqualify_reason,
            l.owner_id.0,
            l.notes,
            l.converted_deal_id.map(|d| d.0),
            l.version,
            ts(l.created_at),
            ts(l.updated_at),
        ])
        .db()?;
    }
    drop(stmt);

    // Each deal's last event gives its sequence counter and business time.
    let mut last: HashMap<i64, (i64, DateTime<Utc>)> = HashMap::new();
    for e in &batch.events {
        let entry = last.entry(e.deal_id.0).or_insert((0, e.occurred_at));
        if e.seq >= entry.0 {
            *entry = (e.seq, e.occurred_at);
        }
    }
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO deals (id, title, search_text, account_id, owner_id, process_id, process_version, current_node, \
             amount_minor, currency, expected_close_date, probability, probability_overridden, status, lost_reason, \
             needs_summary, channel, lead_id, version, last_event_seq, last_event_at, stage_entered_at, created_at, \
             updated_at, closed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
             ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)",
        )
        .db()?;
    for d in &batch.deals {
        let (seq, at) = last.get(&d.id.0).copied().unwrap_or((0, d.created_at));
        stmt.execute(params![
            d.id.0,
            d.title,
            normalize::search_text(&[Some(&d.title)]),
            d.account_id.0,
            d.owner_id.0,
            d.process_id.0,
            d.process_version,
            d.current_node,
            d.amount.map(|m| m.minor),
            d.amount.as_ref().map(|m| m.currency.code()),
            d.expected_close_date,
            d.probability as i16,
            d.probability_overridden,
            d.status.as_str(),
            d.lost_reason,
            d.needs_summary,
            d.channel.map(|c| c.as_str()),
            d.lead_id.map(|l| l.0),
            d.version,
            seq,
            ts(at),
            ts(d.stage_entered_at),
            ts(d.created_at),
            ts(d.updated_at),
            opt_ts(d.closed_at),
        ])
        .db()?;
    }
    drop(stmt);

    let mut stmt =
        conn.prepare_cached("INSERT INTO deal_contacts (deal_id, contact_id, position) VALUES (?1, ?2, ?3)").db()?;
    for d in &batch.deals {
        for (i, c) in d.contact_ids.iter().enumerate() {
            stmt.execute(params![d.id.0, c.0, i as i64]).db()?;
        }
    }
    drop(stmt);

    let mut stmt = conn
        .prepare_cached("INSERT INTO deal_steps (deal_id, node_id, step_id, done_at) VALUES (?1, ?2, ?3, ?4)")
        .db()?;
    for (d, n, s, at) in &batch.steps {
        stmt.execute(params![d.0, n, s, ts(*at)]).db()?;
    }
    drop(stmt);

    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO deal_events (id, deal_id, seq, kind, process_id, process_version, from_node, to_node, edge_id, \
             actor_id, occurred_at, recorded_at, amount_minor, currency, probability, expected_close_date, details) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        )
        .db()?;
    for e in &batch.events {
        stmt.execute(params![
            e.id,
            e.deal_id.0,
            e.seq,
            e.kind.as_str(),
            e.process_id.0,
            e.process_version,
            e.from_node,
            e.to_node,
            e.edge_id,
            e.actor_id.0,
            ts(e.occurred_at),
            ts(e.recorded_at),
            e.amount_minor,
            e.currency.as_ref().map(|c| c.code()),
            e.probability as i16,
            e.expected_close_date,
            e.details.to_string(),
        ])
        .db()?;
    }
    Ok(())
}
