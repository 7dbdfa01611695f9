//! Leads: capture, qualification, duplicate search and conversion.

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{Connection, params, params_from_iter};
use salesflow_domain::error::{Error, Result};
use salesflow_domain::ids::*;
use salesflow_domain::normalize;
use salesflow_domain::records::*;
use salesflow_domain::store::Conversion;

use super::crm;
use super::scope::{ScopeFilter, Where, scoped_page};
use super::{Cache, all, check_version, conflict, deals, one, processes, rows, ts, user_exists};
use crate::rows::LEAD_COLS;

pub fn load(conn: &Connection, id: LeadId) -> Result<Lead> {
    one(conn, &format!("SELECT {LEAD_COLS} FROM leads WHERE id = ?1"), [id.0], rows::lead)?
        .ok_or_else(|| Error::not_found("lead", id))
}

pub fn create(conn: &Connection, new: &NewLead, owner: UserId, now: DateTime<Utc>) -> Result<Lead> {
    user_exists(conn, owner, "owner_id")?;
    let (email, phone) = (trimmed(new.email.as_deref()), trimmed(new.phone.as_deref()));
    let row = one(
        conn,
        &format!(
            "INSERT INTO leads (name, company, company_key, email, email_key, phone, phone_key, search_text, channel, \
             status, disqualify_reason, owner_id, notes, converted_deal_id, version, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?12, ?8, 'new', NULL, ?9, ?10, NULL, 1, ?11, ?11) RETURNING {LEAD_COLS}"
        ),
        params![
            new.name.trim(),
            new.company.trim(),
            normalize::company(&new.company),
            email,
            email.as_deref().and_then(normalize::email),
            phone,
            phone.as_deref().and_then(normalize::phone),
            new.channel.as_str(),
            owner.0,
            new.notes,
            ts(now),
            normalize::search_text(&[Some(&new.name), Some(&new.company), email.as_deref()]),
        ],
        rows::lead,
    )?;
    row.ok_or_else(|| Error::Storage("INSERT … RETURNING returned nothing".into()))
}

pub fn update(conn: &Connection, id: LeadId, patch: &LeadPatch, now: DateTime<Utc>) -> Result<Lead> {
    let cur = load(conn, id)?;
    check_version("lead", id.0, cur.version, patch.version)?;
    if let Some(owner) = patch.owner_id {
        user_exists(conn, owner, "owner_id")?;
    }
    let company = patch.company.as_deref().unwrap_or(&cur.company).trim().to_string();
    let name = patch.name.as_deref().unwrap_or(&cur.name).trim().to_string();
    let email = trimmed(patch.email.clone().unwrap_or(cur.email.clone()).as_deref());
    let phone = trimmed(patch.phone.clone().unwrap_or(cur.phone.clone()).as_deref());
    let row = one(
        conn,
        &format!(
            "UPDATE leads SET name = ?1, company = ?2, company_key = ?3, email = ?4, email_key = ?5, phone = ?6, \
             phone_key = ?7, channel = ?8, owner_id = ?9, notes = ?10, version = version + 1, updated_at = ?11, \
             search_text = ?14 WHERE id = ?12 AND version = ?13 RETURNING {LEAD_COLS}"
        ),
        params![
            name,
            company,
            normalize::company(&company),
            email,
            email.as_deref().and_then(normalize::email),
            phone,
            phone.as_deref().and_then(normalize::phone),
            patch.channel.unwrap_or(cur.channel).as_str(),
            patch.owner_id.unwrap_or(cur.owner_id).0,
            patch.notes.as_deref().unwrap_or(&cur.notes),
            ts(now),
            id.0,
            patch.version,
            normalize::search_text(&[Some(&name), Some(&company), email.as_deref()]),
        ],
        rows::lead,
    )?;
    row.ok_or_else(|| conflict("lead", id.0))
}

pub fn set_status(
    conn: &Connection,
    id: LeadId,
    to: LeadStatus,
    q: &Qualification,
    now: DateTime<Utc>,
) -> Result<Lead> {
    let cur = load(conn, id)?;
    check_version("lead", id.0, cur.version, q.version)?;
    if to == LeadStatus::Converted {
        return Err(Error::invalid("status", "a lead becomes converted only by converting it"));
    }
    if !cur.status.can_become(to) {
        return Err(Error::invalid("status", format!("a {} lead cannot become {}", cur.status.as_str(), to.as_str())));
    }
    let reason = q.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    if to == LeadStatus::Disqualified && reason.is_none() {
        return Err(Error::invalid("reason", "disqualifying a lead needs a reason"));
    }
    let reason = if to == LeadStatus::Disqualified { reason } else { None };
    let row = one(
        conn,
        &format!(
            "UPDATE leads SET status = ?1, disqualify_reason = ?2, version = version + 1, updated_at = ?3 \
             WHERE id = ?4 AND version = ?5 RETURNING {LEAD_COLS}"
        ),
        params![to.as_str(), reason, ts(now), id.0, q.version],
        rows::lead,
    )?;
    row.ok_or_else(|| conflict("lead", id.0))
}

pub fn list(conn: &Connection, filter: &LeadFilter, scope: &ScopeFilter, page: PageRequest) -> Result<Page<Lead>> {
    let filters = |w: &mut Where| {
        w.eq("owner_id", filter.owner.map(|o| Value::Integer(o.0)))
            .eq("status", filter.status.map(|s| Value::Text(s.as_str().into())))
            .eq("channel", filter.channel.map(|c| Value::Text(c.as_str().into())))
            .text("search_text", filter.text.as_deref());
    };
    let (sql, values) = if *scope == ScopeFilter::All {
        let mut w = Where::new(&format!("SELECT {LEAD_COLS} FROM leads WHERE 1 = 1"));
        filters(&mut w);
        w.page("id", page)
    } else {
        let select = format!("SELECT {LEAD_COLS} FROM leads WHERE id IN (");
        scoped_page(
            &select,
            "SELECT id FROM leads WHERE 1 = 1",
            filters,
            scope,
            RecordKind::Lead,
            "owner_id",
            "id",
            page,
        )
    };
    let items = all(conn, &sql, params_from_iter(values), rows::lead)?;
    Ok(Page::from_rows(items, page.limit, |l| l.id.0))
}

/// Leads, contacts and accounts within `scope` sharing a key; at least one key is given.
pub fn duplicates(
    conn: &Connection,
    keys: &DuplicateKeys,
    except_lead: Option<LeadId>,
    scope: &ScopeFilter,
) -> Result<Vec<Duplicate>> {
    let mut sql = String::new();
    let mut values: Vec<Value> = Vec::new();
    let mut part = |kind: RecordKind, table: &str, column: &str, on: &str, key: &str| {
        if !sql.is_empty() {
            sql.push_str(" UNION ALL ");
        }
        let entity = kind.as_str();
        let mut w = Where::new(&format!(
            "SELECT * FROM (SELECT '{entity}' AS entity, id, name, '{on}' AS matched_on FROM {table} WHERE {column} = ?"
        ));
        w.bind(Value::Text(key.to_string()));
        if kind == RecordKind::Lead {
            w.and("id <> ?", Value::Integer(except_lead.map(|l| l.0).unwrap_or(0)));
        }
        w.scope(scope, kind, "owner_id", "id").push(&format!(" ORDER BY id LIMIT 10) AS {table}_{on}"), []);
        let (part_sql, part_values) = w.finish();
        sql.push_str(&part_sql);
        values.extend(part_values);
    };
    if let Some(e) = &keys.email {
        part(RecordKind::Lead, "leads", "email_key", "email", e);
        part(RecordKind::Contact, "contacts", "email_key", "email", e);
    }
    if let Some(p) = &keys.phone {
        part(RecordKind::Lead, "leads", "phone_key", "phone", p);
        part(RecordKind::Contact, "contacts", "phone_key", "phone", p);
    }
    if let Some(c) = &keys.company {
        part(RecordKind::Lead, "leads", "company_key", "company", c);
        part(RecordKind::Account, "accounts", "name_key", "company", c);
    }
    if sql.is_empty() {
        return Ok(Vec::new());
    }
    all(conn, &sql, params_from_iter(values), |r| {
        Ok(Duplicate {
            entity: rows::get(r, 0)?,
            id: rows::get(r, 1)?,
            name: rows::get(r, 2)?,
            matched_on: rows::get(r, 3)?,
        })
    })
}

/// Account (matched or created), contact and deal from a qualified lead, all in the caller's
/// transaction.
pub fn convert(
    conn: &Connection,
    cache: &Cache,
    id: LeadId,
    req: &ConvertLead,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Conversion> {
    let process = match processes::latest_published(conn, cache, req.process_id) {
        Err(Error::NotFound { .. }) => {
            return Err(Error::invalid("process_id", format!("process {} does not exist", req.process_id)));
        }
        other => other?,
    };
    let lead = load(conn, id)?;
    check_version("lead", id.0, lead.version, req.version)?;
    lead.ensure_convertible()?;
    let (account, account_created) = match req.account_id {
        Some(a) => match crm::load_account(conn, a) {
            Err(Error::NotFound { .. }) => {
                return Err(Error::invalid("account_id", format!("account {a} does not exist")));
            }
            other => (other?, false),
        },
        None => {
            let existing = match normalize::company(&lead.company) {
                Some(key) => crm::account_by_key(conn, &key)?,
                None => None,
            };
            match existing {
                Some(account) => (account, false),
                None => (crm::insert_account(conn, &lead.new_account(), lead.owner_id, now)?, true),
            }
        }
    };
    let (contact, contact_created) = match req.contact_id {
        Some(c) => match crm::load_contact(conn, c) {
            Err(Error::NotFound { .. }) => {
                return Err(Error::invalid("contact_id", format!("contact {c} does not exist")));
            }
            other => (other?, false),
        },
        None => (crm::insert_contact(conn, &lead.new_contact(account.id), lead.owner_id, now)?, true),
    };
    let new_deal = lead.new_deal(req, account.id, contact.id);
    let deal = deals::insert(conn, &new_deal, lead.owner_id, Some(lead.id), actor, &process, now)?;
    let row = one(
        conn,
        &format!(
            "UPDATE leads SET status = 'converted', converted_deal_id = ?1, version = version + 1, updated_at = ?2 \
             WHERE id = ?3 AND version = ?4 RETURNING {LEAD_COLS}"
        ),
        params![deal.id.0, ts(now), id.0, req.version],
        rows::lead,
    )?;
    let lead = row.ok_or_else(|| conflict("lead", id.0))?;
    Ok(Conversion { lead, account, contact, deal, account_created, contact_created })
}
