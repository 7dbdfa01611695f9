//! Needs, catalog, quotes and contracts. Each change runs in the caller's write transaction
//! and appends its notes to the deal's event log there, so a record and its history never
//! disagree.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use salesflow_domain::error::{Error, Result};
use salesflow_domain::ids::*;
use salesflow_domain::records::StepToggle;
use salesflow_domain::records::{Actor, NewEvent};
use salesflow_domain::selling::catalog::{NewProduct, PriceBook, Product};
use salesflow_domain::selling::contract::Contract;
use salesflow_domain::selling::needs::{NeedsAnalysis, NeedsInput};
use salesflow_domain::selling::objection::{Objection, Playbook};
use salesflow_domain::selling::quote::{DealNote, Quote};
use salesflow_domain::store::QuoteWrite;

use super::{Cache, all, conflict, deals, exec, one, rows, ts};
use crate::documents::{self, from_json, quote_parts, to_json};

/// Appends `notes` to the deal's log, at the deal's current node. The deal's own fields do not
/// change, so neither does its version: a customer opening a quote does not turn the rep's open
/// edit form stale. The sequence number read guards against a concurrent append.
pub fn note_deal(conn: &Connection, deal: DealId, notes: &[DealNote], actor: &Actor, now: DateTime<Utc>) -> Result<()> {
    if notes.is_empty() {
        return Ok(());
    }
    let (d, seq, _) = deals::load(conn, deal)?;
    for (i, n) in notes.iter().enumerate() {
        let event = NewEvent {
            kind: n.kind,
            from_node: d.current_node.clone(),
            to_node: d.current_node.clone(),
            edge_id: None,
            occurred_at: now,
            details: n.details.clone(),
        };
        deals::insert_event(conn, &d, seq + 1 + i as i64, &event, actor, now)?;
    }
    let done = exec(
        conn,
        "UPDATE deals SET last_event_seq = ?1, last_event_at = ?2, updated_at = ?2 WHERE id = ?3 AND last_event_seq = ?4",
        params![seq + notes.len() as i64, ts(now), deal.0, seq],
    )?;
    if done == 0 {
        return Err(conflict("deal", deal.0));
    }
    Ok(())
}

pub fn needs(conn: &Connection, deal: DealId) -> Result<Option<NeedsAnalysis>> {
    one(conn, "SELECT body, version FROM deal_needs WHERE deal_id = ?1", [deal.0], |r| {
        let mut n: NeedsAnalysis = from_json("needs analysis", &rows::get::<String>(r, 0)?)?;
        n.version = rows::get(r, 1)?;
        Ok(n)
    })
}

pub fn save_needs(
    conn: &Connection,
    deal: DealId,
    input: &NeedsInput,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<NeedsAnalysis> {
    let current = needs(conn, deal)?;
    let n = NeedsAnalysis::next(deal, current.as_ref(), input, actor.user, now)?;
    let version = n.version;
    let body = to_json(&n)?;
    let done = match current {
        None => exec(
            conn,
            "INSERT INTO deal_needs (deal_id, body, version) VALUES (?1, ?2, ?3)",
            params![deal.0, body, version],
        )?,
        Some(_) => exec(
            conn,
            "UPDATE deal_needs SET body = ?1, version = ?2 WHERE deal_id = ?3 AND version = ?4",
            params![body, version, deal.0, version - 1],
        )?,
    };
    if done == 0 {
        return Err(conflict("needs analysis of deal", deal.0));
    }
    let note = DealNote { kind: salesflow_domain::records::EventKind::NeedsUpdated, details: serde_json::json!({}) };
    note_deal(conn, deal, &[note], actor, now)?;
    Ok(n)
}

pub fn create_product(conn: &Connection, new: &NewProduct, now: DateTime<Utc>) -> Result<Product> {
    let id: i64 =
        one(conn, "INSERT INTO products (sku, active, body) VALUES (?1, 1, '{}') RETURNING id", [&new.sku], |r| {
            rows::get(r, 0)
        })?
        .ok_or_else(|| Error::Storage("INSERT … RETURNING returned nothing".into()))?;
    let p = Product { id: ProductId(id), spec: new.clone(), active: true, created_at: now, updated_at: now };
    exec(conn, "UPDATE products SET body = ?1 WHERE id = ?2", params![to_json(&p)?, id])?;
    Ok(p)
}

pub fn products(conn: &Connection) -> Result<Vec<Product>> {
    all(conn, "SELECT body FROM products ORDER BY sku", [], |r| from_json("product", &rows::get::<String>(r, 0)?))
}

const QUOTE_COLS: &str = "id, deal_id, number, status, content, state, version";

fn quote_row(r: &rusqlite::Row<'_>) -> Result<Quote> {
    documents::quote((
        rows::get(r, 0)?,
        rows::get(r, 1)?,
        rows::get(r, 2)?,
        rows::get(r, 3)?,
        rows::get(r, 4)?,
        rows::get(r, 5)?,
        rows::get(r, 6)?,
    ))
}

pub fn quotes(conn: &Connection, deal: DealId) -> Result<Vec<Quote>> {
    all(conn, &format!("SELECT {QUOTE_COLS} FROM quotes WHERE deal_id = ?1 ORDER BY number"), [deal.0], quote_row)
}

pub fn quote_by_token(conn: &Connection, hash: &str) -> Result<Option<Quote>> {
    one(conn, &format!("SELECT {QUOTE_COLS} FROM quotes WHERE token_hash = ?1"), [hash], quote_row)
}

pub fn save_quotes(
    conn: &Connection,
    cache: &Cache,
    w: &QuoteWrite,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Vec<Quote>> {
    let mut out = Vec::with_capacity(w.changes.len());
    for c in &w.changes {
        let mut q = c.quote.clone();
        if q.deal_id != w.deal {
            return Err(Error::Storage(format!("quote of deal {} written with deal {}", q.deal_id, w.deal)));
        }
        let (content, state) = quote_parts(&q)?;
        match c.read_version {
            None => {
                let id = one(
                    conn,
                    "INSERT INTO quotes (deal_id, number, status, content, state, token_hash, version) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
                    params![q.deal_id.0, q.number, q.status.as_str(), content, state, c.token_hash, q.version],
                    |r| rows::get(r, 0),
                )?;
                q.id = QuoteId(id.ok_or_else(|| Error::Storage("INSERT … RETURNING returned nothing".into()))?);
            }
            Some(read) => {
                let done = exec(
                    conn,
                    "UPDATE quotes SET status = ?1, content = ?2, state = ?3, token_hash = COALESCE(?4, token_hash), \
                     version = ?5 WHERE id = ?6 AND version = ?7",
                    params![q.status.as_str(), content, state, c.token_hash, q.version, q.id.0, read],
                )?;
                if done == 0 {
                    return Err(conflict("quote", q.id.0));
                }
            }
        }
        out.push(q);
    }
    note_deal(conn, w.deal, &w.notes, actor, now)?;
    if let Some(step) = &w.tick_step {
        let (deal, _, _) = deals::load(conn, w.deal)?;
        if !deal.completed_steps.contains(step) {
            let toggle = StepToggle { step: step.clone(), done: true, version: deal.version, occurred_at: None };
            deals::toggle_step(conn, cache, w.deal, &toggle, actor, now)?;
        }
    }
    Ok(out)
}

pub fn contracts(conn: &Connection, deal: DealId) -> Result<Vec<Contract>> {
    all(conn, "SELECT id, body, version FROM contracts WHERE deal_id = ?1 ORDER BY id", [deal.0], |r| {
        let mut c: Contract = from_json("contract", &rows::get::<String>(r, 1)?)?;
        c.id = ContractId(rows::get(r, 0)?);
        c.version = rows::get(r, 2)?;
        Ok(c)
    })
}

pub fn save_contract(
    conn: &Connection,
    contract: &Contract,
    read_version: Option<i64>,
    notes: &[DealNote],
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Contract> {
    let mut c = contract.clone();
    match read_version {
        None => {
            let id = one(
                conn,
                "INSERT INTO contracts (deal_id, quote_id, number, status, body, version) \
                 VALUES (?1, ?2, ?3, ?4, '{}', ?5) RETURNING id",
                params![c.deal_id.0, c.quote_id.0, c.number, c.status.as_str(), c.version],
                |r| rows::get(r, 0),
            )?;
            c.id = ContractId(id.ok_or_else(|| Error::Storage("INSERT … RETURNING returned nothing".into()))?);
            exec(conn, "UPDATE contracts SET body = ?1 WHERE id = ?2", params![to_json(&c)?, c.id.0])?;
        }
        Some(read) => {
            let done = exec(
                conn,
                "UPDATE contracts SET status = ?1, body = ?2, version = ?3 WHERE id = ?4 AND version = ?5",
                params![c.status.as_str(), to_json(&c)?, c.version, c.id.0, read],
            )?;
            if done == 0 {
                return Err(conflict("contract", c.id.0));
            }
        }
    }
    note_deal(conn, c.deal_id, notes, actor, now)?;
    Ok(c)
}

pub fn objections(conn: &Connection, deal: DealId) -> Result<Vec<Objection>> {
    all(conn, "SELECT id, body, version FROM objections WHERE deal_id = ?1 ORDER BY id", [deal.0], |r| {
        let mut o: Objection = from_json("objection", &rows::get::<String>(r, 1)?)?;
        o.id = rows::get(r, 0)?;
        o.version = rows::get(r, 2)?;
        Ok(o)
    })
}

pub fn save_objection(
    conn: &Connection,
    objection: &Objection,
    read_version: Option<i64>,
    note: &DealNote,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Objection> {
    let mut o = objection.clone();
    match read_version {
        None => {
            let id = one(
                conn,
                "INSERT INTO objections (deal_id, body, version) VALUES (?1, '{}', ?2) RETURNING id",
                params![o.deal_id.0, o.version],
                |r| rows::get(r, 0),
            )?;
            o.id = id.ok_or_else(|| Error::Storage("INSERT … RETURNING returned nothing".into()))?;
            exec(conn, "UPDATE objections SET body = ?1 WHERE id = ?2", params![to_json(&o)?, o.id])?;
        }
        Some(read) => {
            let done = exec(
                conn,
                "UPDATE objections SET body = ?1, version = ?2 WHERE id = ?3 AND version = ?4",
                params![to_json(&o)?, o.version, o.id, read],
            )?;
            if done == 0 {
                return Err(conflict("objection", o.id));
            }
        }
    }
    let mut note = note.clone();
    note.details["objection"] = serde_json::json!(o.id);
    note_deal(conn, o.deal_id, &[note], actor, now)?;
    Ok(o)
}

pub fn playbook(conn: &Connection, process: ProcessId, stage: &str) -> Result<Option<Playbook>> {
    one(
        conn,
        "SELECT body, version FROM playbooks WHERE process_id = ?1 AND stage = ?2",
        params![process.0, stage],
        |r| {
            let mut p: Playbook = from_json("playbook", &rows::get::<String>(r, 0)?)?;
            p.version = rows::get(r, 1)?;
            Ok(p)
        },
    )
}

pub fn save_playbook(conn: &Connection, p: &Playbook, read_version: Option<i64>) -> Result<Playbook> {
    let done = match read_version {
        None => exec(
            conn,
            "INSERT INTO playbooks (process_id, stage, body, version) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (process_id, stage) DO NOTHING",
            params![p.process_id.0, p.stage, to_json(p)?, p.version],
        )?,
        Some(read) => exec(
            conn,
            "UPDATE playbooks SET body = ?1, version = ?2 WHERE process_id = ?3 AND stage = ?4 AND version = ?5",
            params![to_json(p)?, p.version, p.process_id.0, p.stage, read],
        )?,
    };
    if done == 0 {
        return Err(Error::Conflict(format!(
            "the playbook of stage `{}` was changed by someone else since you read it; reload and try again",
            p.stage
        )));
    }
    Ok(p.clone())
}

pub fn price_books(conn: &Connection) -> Result<Vec<PriceBook>> {
    all(conn, "SELECT body, version FROM price_books ORDER BY name", [], |r| {
        let mut b: PriceBook = from_json("price book", &rows::get::<String>(r, 0)?)?;
        b.version = Some(rows::get(r, 1)?);
        Ok(b)
    })
}

pub fn save_price_book(conn: &Connection, b: &PriceBook) -> Result<PriceBook> {
    let mut stored = b.clone();
    stored.version = None;
    let body = to_json(&stored)?;
    let done = match b.version {
        None => exec(
            conn,
            "INSERT INTO price_books (name, body, version) VALUES (?1, ?2, 1) ON CONFLICT (name) DO NOTHING",
            params![b.name, body],
        )?,
        Some(read) => exec(
            conn,
            "UPDATE price_books SET body = ?1, version = version + 1 WHERE name = ?2 AND version = ?3",
            params![body, b.name, read],
        )?,
    };
    if done == 0 {
        return Err(price_book_conflict(&b.name));
    }
    stored.version = Some(b.version.unwrap_or(0) + 1);
    Ok(stored)
}

pub fn price_book_conflict(name: &str) -> Error {
    Error::Conflict(format!(
        "the price book `{name}` exists already or was changed since you read it; reload and try again"
    ))
}
