//! Accounts and contacts.

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{Connection, params, params_from_iter};
use salesflow_domain::error::{Error, Result};
use salesflow_domain::ids::*;
use salesflow_domain::normalize;
use salesflow_domain::records::*;

use super::scope::{ScopeFilter, Where, scoped_page};
use super::{all, check_version, conflict, one, row_exists, rows, ts, user_exists};
use crate::rows::{ACCOUNT_COLS, CONTACT_COLS};

fn returned<T>(row: Option<T>) -> Result<T> {
    row.ok_or_else(|| Error::Storage("INSERT … RETURNING returned nothing".into()))
}

pub fn load_account(conn: &Connection, id: AccountId) -> Result<Account> {
    one(conn, &format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE id = ?1"), [id.0], rows::account)?
        .ok_or_else(|| Error::not_found("account", id))
}

pub fn load_contact(conn: &Connection, id: ContactId) -> Result<Contact> {
    one(conn, &format!("SELECT {CONTACT_COLS} FROM contacts WHERE id = ?1"), [id.0], rows::contact)?
        .ok_or_else(|| Error::not_found("contact", id))
}

/// The oldest account whose normalised name is `key`.
pub fn account_by_key(conn: &Connection, key: &str) -> Result<Option<Account>> {
    one(
        conn,
        &format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE name_key = ?1 ORDER BY id LIMIT 1"),
        [key],
        rows::account,
    )
}

pub fn insert_account(conn: &Connection, new: &NewAccount, owner: UserId, now: DateTime<Utc>) -> Result<Account> {
    new.validate()?;
    user_exists(conn, owner, "owner_id")?;
    returned(one(
        conn,
        &format!(
            "INSERT INTO accounts (name, name_key, search_text, industry, region, website, owner_id, version, created_at, \
             updated_at, customer_group) VALUES (?1, ?2, ?8, ?3, ?4, ?5, ?6, 1, ?7, ?7, ?9) RETURNING {ACCOUNT_COLS}"
        ),
        params![
            new.name.trim(),
            normalize::company(&new.name),
            new.industry.trim(),
            new.region.trim(),
            new.website.trim(),
            owner.0,
            ts(now),
            normalize::search_text(&[Some(&new.name)]),
            new.customer_group.trim(),
        ],
        rows::account,
    )?)
}

pub fn insert_contact(conn: &Connection, new: &NewContact, owner: UserId, now: DateTime<Utc>) -> Result<Contact> {
    new.validate()?;
    user_exists(conn, owner, "owner_id")?;
    if let Some(a) = new.account_id {
        row_exists(conn, "accounts", a.0, "account_id", "account")?;
    }
    let email = trimmed(new.email.as_deref());
    let phone = trimmed(new.phone.as_deref());
    returned(one(
        conn,
        &format!(
            "INSERT INTO contacts (account_id, name, title, email, email_key, phone, phone_key, search_text, wechat_id, \
             preferred_channel, consent_email, consent_sms, consent_phone, consent_wechat, owner_id, version, created_at, \
             updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?16, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 1, ?15, ?15) RETURNING {CONTACT_COLS}"
        ),
        params![
            new.account_id.map(|a| a.0),
            new.name.trim(),
            new.title.trim(),
            email,
            email.as_deref().and_then(normalize::email),
            phone,
            phone.as_deref().and_then(normalize::phone),
            trimmed(new.wechat_id.as_deref()),
            new.preferred_channel.map(|p| p.as_str()),
            new.consent.email,
            new.consent.sms,
            new.consent.phone,
            new.consent.wechat,
            owner.0,
            ts(now),
            normalize::search_text(&[Some(&new.name), email.as_deref()]),
        ],
        rows::contact,
    )?)
}

pub fn update_account(conn: &Connection, id: AccountId, patch: &AccountPatch, now: DateTime<Utc>) -> Result<Account> {
    let cur = load_account(conn, id)?;
    check_version("account", id.0, cur.version, patch.version)?;
    if let Some(owner) = patch.owner_id {
        user_exists(conn, owner, "owner_id")?;
    }
    let name = patch.name.as_deref().map(str::trim).unwrap_or(&cur.name).to_string();
    let row = one(
        conn,
        &format!(
            "UPDATE accounts SET name = ?1, name_key = ?2, search_text = ?10, industry = ?3, region = ?4, website = ?5, \
             customer_group = ?11, owner_id = ?6, version = version + 1, updated_at = ?7 WHERE id = ?8 AND version = ?9 RETURNING {ACCOUNT_COLS}"
        ),
        params![
            name,
            normalize::company(&name),
            patch.industry.as_deref().unwrap_or(&cur.industry).trim(),
            patch.region.as_deref().unwrap_or(&cur.region).trim(),
            patch.website.as_deref().unwrap_or(&cur.website).trim(),
            patch.owner_id.unwrap_or(cur.owner_id).0,
            ts(now),
            id.0,
            patch.version,
            normalize::search_text(&[Some(&name)]),
            patch.customer_group.as_deref().unwrap_or(&cur.customer_group).trim(),
        ],
        rows::account,
    )?;
    row.ok_or_else(|| conflict("account", id.0))
}

pub fn update_contact(conn: &Connection, id: ContactId, patch: &ContactPatch, now: DateTime<Utc>) -> Result<Contact> {
    let cur = load_contact(conn, id)?;
    check_version("contact", id.0, cur.version, patch.version)?;
    if let Some(owner) = patch.owner_id {
        user_exists(conn, owner, "owner_id")?;
    }
    if let Some(Some(a)) = patch.account_id {
        row_exists(conn, "accounts", a.0, "account_id", "account")?;
    }
    let email = trimmed(patch.email.clone().unwrap_or(cur.email.clone()).as_deref());
    let phone = trimmed(patch.phone.clone().unwrap_or(cur.phone.clone()).as_deref());
    let consent = patch.consent.unwrap_or(cur.consent);
    let name = patch.name.as_deref().unwrap_or(&cur.name).trim().to_string();
    let row = one(
        conn,
        &format!(
            "UPDATE contacts SET account_id = ?1, name = ?2, title = ?3, email = ?4, email_key = ?5, phone = ?6, \
             phone_key = ?7, wechat_id = ?8, preferred_channel = ?9, consent_email = ?10, consent_sms = ?11, \
             consent_phone = ?12, consent_wechat = ?13, owner_id = ?14, version = version + 1, updated_at = ?15, \
             search_text = ?18 WHERE id = ?16 AND version = ?17 RETURNING {CONTACT_COLS}"
        ),
        params![
            patch.account_id.unwrap_or(cur.account_id).map(|a| a.0),
            name,
            patch.title.as_deref().unwrap_or(&cur.title).trim(),
            email,
            email.as_deref().and_then(normalize::email),
            phone,
            phone.as_deref().and_then(normalize::phone),
            trimmed(patch.wechat_id.clone().unwrap_or(cur.wechat_id.clone()).as_deref()),
            patch.preferred_channel.unwrap_or(cur.preferred_channel).map(|p| p.as_str()),
            consent.email,
            consent.sms,
            consent.phone,
            consent.wechat,
            patch.owner_id.unwrap_or(cur.owner_id).0,
            ts(now),
            id.0,
            patch.version,
            normalize::search_text(&[Some(&name), email.as_deref()]),
        ],
        rows::contact,
    )?;
    row.ok_or_else(|| conflict("contact", id.0))
}

pub fn list_accounts(
    conn: &Connection,
    filter: &AccountFilter,
    scope: &ScopeFilter,
    page: PageRequest,
) -> Result<Page<Account>> {
    let filters = |w: &mut Where| {
        w.eq("owner_id", filter.owner.map(|o| Value::Integer(o.0))).text("search_text", filter.text.as_deref());
    };
    let (sql, values) = if *scope == ScopeFilter::All {
        let mut w = Where::new(&format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE 1 = 1"));
        filters(&mut w);
        w.page("id", page)
    } else {
        let select = format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE id IN (");
        scoped_page(
            &select,
            "SELECT id FROM accounts WHERE 1 = 1",
            filters,
            scope,
            RecordKind::Account,
            "owner_id",
            "id",
            page,
        )
    };
    let items = all(conn, &sql, params_from_iter(values), rows::account)?;
    Ok(Page::from_rows(items, page.limit, |a| a.id.0))
}

pub fn list_contacts(
    conn: &Connection,
    filter: &ContactFilter,
    scope: &ScopeFilter,
    page: PageRequest,
) -> Result<Page<Contact>> {
    let filters = |w: &mut Where| {
        w.eq("owner_id", filter.owner.map(|o| Value::Integer(o.0)))
            .eq("account_id", filter.account.map(|a| Value::Integer(a.0)))
            .text("search_text", filter.text.as_deref());
    };
    let (sql, values) = if *scope == ScopeFilter::All {
        let mut w = Where::new(&format!("SELECT {CONTACT_COLS} FROM contacts WHERE 1 = 1"));
        filters(&mut w);
        w.page("id", page)
    } else {
        let select = format!("SELECT {CONTACT_COLS} FROM contacts WHERE id IN (");
        scoped_page(
            &select,
            "SELECT id FROM contacts WHERE 1 = 1",
            filters,
            scope,
            RecordKind::Contact,
            "owner_id",
            "id",
            page,
        )
    };
    let items = all(conn, &sql, params_from_iter(values), rows::contact)?;
    Ok(Page::from_rows(items, page.limit, |c| c.id.0))
}
