//! Rows as SQLite returns them, read by position in the column lists of `crate::rows`
//! (`USER_COLS`, `DEAL_COLS`, …) or of this module (`TOKEN_COLS`, `AUDIT_COLS`, …), straight
//! into domain records.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::Row;
use rusqlite::types::FromSql;
use salesflow_domain::currency::{Currency, Money};
use salesflow_domain::error::{Error, Result};
use salesflow_domain::ids::*;
use salesflow_domain::records::*;
use salesflow_domain::store::{DealFacts, DealSummary, ProcessVersion, VersionStatus};

use super::Db;

fn corrupt(what: &str, value: &str) -> Error {
    Error::Storage(format!("stored {what} `{value}` is not valid"))
}

pub fn get<T: FromSql>(r: &Row<'_>, i: usize) -> Result<T> {
    r.get(i).db()
}

fn text<'r>(r: &'r Row<'_>, i: usize) -> Result<&'r str> {
    r.get_ref(i).db()?.as_str().map_err(|e| Error::Storage(format!("stored text does not read: {e}")))
}

fn opt_text<'r>(r: &'r Row<'_>, i: usize) -> Result<Option<&'r str>> {
    r.get_ref(i).db()?.as_str_or_null().map_err(|e| Error::Storage(format!("stored text does not read: {e}")))
}

fn parse_time(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).map_err(|_| corrupt("timestamp", s))
}

pub fn time(r: &Row<'_>, i: usize) -> Result<DateTime<Utc>> {
    parse_time(text(r, i)?)
}

pub fn opt_time(r: &Row<'_>, i: usize) -> Result<Option<DateTime<Utc>>> {
    opt_text(r, i)?.map(parse_time).transpose()
}

fn date(r: &Row<'_>, i: usize) -> Result<Option<NaiveDate>> {
    opt_text(r, i)?.map(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| corrupt("date", s))).transpose()
}

fn currency(c: &str) -> Result<Currency> {
    // Most amounts are in one of these; `Currency::parse` searches the whole ISO list.
    for known in [Currency::CNY, Currency::USD] {
        if c == known.code() {
            return Ok(known);
        }
    }
    Currency::parse(c).map_err(|_| corrupt("currency", c))
}

fn money(r: &Row<'_>, minor: usize, cur: usize) -> Result<Option<Money>> {
    match (get::<Option<i64>>(r, minor)?, opt_text(r, cur)?) {
        (Some(minor), Some(c)) => Ok(Some(Money { minor, currency: currency(c)? })),
        _ => Ok(None),
    }
}

fn channel(c: Option<&str>) -> Result<Option<Channel>> {
    c.map(|c| Channel::parse(c).ok_or_else(|| corrupt("channel", c))).transpose()
}

fn deal_status(s: &str) -> Result<DealStatus> {
    DealStatus::parse(s).ok_or_else(|| corrupt("deal status", s))
}

/// `USER_COLS`, from position `at` on.
pub fn user_at(r: &Row<'_>, at: usize) -> Result<User> {
    let role = text(r, at + 5)?;
    Ok(User {
        id: UserId(get(r, at)?),
        name: get(r, at + 1)?,
        email: get(r, at + 2)?,
        locale: get(r, at + 3)?,
        time_zone: get(r, at + 4)?,
        role: Role::parse(role).ok_or_else(|| corrupt("role", role))?,
        active: get(r, at + 6)?,
    })
}

/// `USER_COLS`.
pub fn user(r: &Row<'_>) -> Result<User> {
    user_at(r, 0)
}

/// `VERSION_COLS`.
pub fn version(r: &Row<'_>) -> Result<ProcessVersion> {
    let status = text(r, 2)?;
    let retired_at = opt_time(r, 6)?;
    Ok(ProcessVersion {
        process_id: ProcessId(get(r, 0)?),
        version: get(r, 1)?,
        status: match retired_at {
            Some(_) => VersionStatus::Retired,
            None => VersionStatus::parse(status).ok_or_else(|| corrupt("version status", status))?,
        },
        definition: serde_json::from_str(text(r, 3)?)
            .map_err(|e| Error::Storage(format!("stored process definition does not parse: {e}")))?,
        created_at: time(r, 4)?,
        published_at: opt_time(r, 5)?,
        retired_at,
    })
}

/// `ACCOUNT_COLS`.
pub fn account(r: &Row<'_>) -> Result<Account> {
    Ok(Account {
        id: AccountId(get(r, 0)?),
        name: get(r, 1)?,
        industry: get(r, 2)?,
        region: get(r, 3)?,
        website: get(r, 4)?,
        customer_group: get(r, 9)?,
        owner_id: UserId(get(r, 5)?),
        version: get(r, 6)?,
        created_at: time(r, 7)?,
        updated_at: time(r, 8)?,
    })
}

/// `CONTACT_COLS`.
pub fn contact(r: &Row<'_>) -> Result<Contact> {
    let preferred_channel = match opt_text(r, 7)? {
        Some(p) => Some(PreferredChannel::parse(p).ok_or_else(|| corrupt("preferred channel", p))?),
        None => None,
    };
    Ok(Contact {
        id: ContactId(get(r, 0)?),
        account_id: get::<Option<i64>>(r, 1)?.map(AccountId),
        name: get(r, 2)?,
        title: get(r, 3)?,
        email: get(r, 4)?,
        phone: get(r, 5)?,
        wechat_id: get(r, 6)?,
        preferred_channel,
        consent: Consent { email: get(r, 8)?, sms: get(r, 9)?, phone: get(r, 10)?, wechat: get(r, 11)? },
        owner_id: UserId(get(r, 12)?),
        version: get(r, 13)?,
        created_at: time(r, 14)?,
        updated_at: time(r, 15)?,
    })
}

/// `LEAD_COLS`.
pub fn lead(r: &Row<'_>) -> Result<Lead> {
    let (ch, status) = (text(r, 5)?, text(r, 6)?);
    Ok(Lead {
        id: LeadId(get(r, 0)?),
        name: get(r, 1)?,
        company: get(r, 2)?,
        email: get(r, 3)?,
        phone: get(r, 4)?,
        channel: Channel::parse(ch).ok_or_else(|| corrupt("channel", ch))?,
        status: LeadStatus::parse(status).ok_or_else(|| corrupt("lead status", status))?,
        disqualify_reason: get(r, 7)?,
        owner_id: UserId(get(r, 8)?),
        notes: get(r, 9)?,
        converted_deal_id: get::<Option<i64>>(r, 10)?.map(DealId),
        version: get(r, 11)?,
        created_at: time(r, 12)?,
        updated_at: time(r, 13)?,
    })
}

/// `DEAL_COLS` (or its bare-name form): the deal without contacts and steps, its last event's
/// sequence number and business time.
pub fn deal(r: &Row<'_>) -> Result<(Deal, i64, DateTime<Utc>)> {
    let deal = Deal {
        id: DealId(get(r, 0)?),
        title: get(r, 1)?,
        account_id: AccountId(get(r, 2)?),
        contact_ids: Vec::new(),
        owner_id: UserId(get(r, 3)?),
        process_id: ProcessId(get(r, 4)?),
        process_version: get(r, 5)?,
        current_node: get(r, 6)?,
        amount: money(r, 7, 8)?,
        expected_close_date: date(r, 9)?,
        probability: get::<i16>(r, 10)? as u8,
        probability_overridden: get(r, 11)?,
        status: deal_status(text(r, 12)?)?,
        lost_reason: get(r, 13)?,
        needs_summary: get(r, 14)?,
        channel: channel(opt_text(r, 15)?)?,
        lead_id: get::<Option<i64>>(r, 16)?.map(LeadId),
        completed_steps: Vec::new(),
        needs_known: Vec::new(),
        version: get(r, 17)?,
        stage_entered_at: time(r, 20)?,
        created_at: time(r, 21)?,
        updated_at: time(r, 22)?,
        closed_at: opt_time(r, 23)?,
    };
    Ok((deal, get(r, 18)?, time(r, 19)?))
}

/// `SUMMARY_COLS`.
pub fn summary(r: &Row<'_>) -> Result<DealSummary> {
    Ok(DealSummary {
        id: DealId(get(r, 0)?),
        title: get(r, 1)?,
        account_id: AccountId(get(r, 2)?),
        account_name: get(r, 3)?,
        owner_id: UserId(get(r, 4)?),
        process_id: ProcessId(get(r, 5)?),
        process_version: get(r, 6)?,
        current_node: get(r, 7)?,
        amount: money(r, 8, 9)?,
        expected_close_date: date(r, 10)?,
        probability: get::<i16>(r, 11)? as u8,
        status: deal_status(text(r, 12)?)?,
        stage_entered_at: time(r, 13)?,
        version: get(r, 14)?,
    })
}

/// `EVENT_COLS`.
pub fn event(r: &Row<'_>) -> Result<DealEvent> {
    let kind = text(r, 3)?;
    Ok(DealEvent {
        id: get(r, 0)?,
        deal_id: DealId(get(r, 1)?),
        seq: get(r, 2)?,
        kind: EventKind::parse(kind).ok_or_else(|| corrupt("event kind", kind))?,
        process_id: ProcessId(get(r, 4)?),
        process_version: get(r, 5)?,
        from_node: get(r, 6)?,
        to_node: get(r, 7)?,
        edge_id: get(r, 8)?,
        actor_id: UserId(get(r, 9)?),
        occurred_at: time(r, 10)?,
        recorded_at: time(r, 11)?,
        amount_minor: get(r, 12)?,
        currency: opt_text(r, 13)?.map(currency).transpose()?,
        probability: get::<i16>(r, 14)? as u8,
        expected_close_date: date(r, 15)?,
        details: serde_json::from_str(text(r, 16)?).unwrap_or(serde_json::Value::Null),
    })
}

pub const TOKEN_COLS: &str = "id, user_id, label, scope, created_at, expires_at, last_used_at, revoked_at";

/// `TOKEN_COLS`, from position `at` on.
pub fn token_at(r: &Row<'_>, at: usize) -> Result<ApiToken> {
    let scope = text(r, at + 3)?;
    Ok(ApiToken {
        id: TokenId(get(r, at)?),
        user_id: UserId(get(r, at + 1)?),
        label: get(r, at + 2)?,
        scope: TokenScope::parse(scope).ok_or_else(|| corrupt("token scope", scope))?,
        created_at: time(r, at + 4)?,
        expires_at: opt_time(r, at + 5)?,
        last_used_at: opt_time(r, at + 6)?,
        revoked_at: opt_time(r, at + 7)?,
    })
}

/// `TOKEN_COLS`.
pub fn token(r: &Row<'_>) -> Result<ApiToken> {
    token_at(r, 0)
}

pub const SHARE_COLS: &str = "record_kind, record_id, user_id, shared_by, created_at";

/// `SHARE_COLS`.
pub fn share(r: &Row<'_>) -> Result<Share> {
    let kind = text(r, 0)?;
    Ok(Share {
        record_kind: RecordKind::parse(kind).ok_or_else(|| corrupt("record kind", kind))?,
        record_id: get(r, 1)?,
        user_id: UserId(get(r, 2)?),
        shared_by: UserId(get(r, 3)?),
        created_at: time(r, 4)?,
    })
}

pub const SESSION_COLS: &str =
    "id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, address, user_agent";

/// `SESSION_COLS`.
pub fn session(r: &Row<'_>) -> Result<WebSession> {
    Ok(WebSession {
        id_hash: get(r, 0)?,
        user_id: UserId(get(r, 1)?),
        csrf_token: get(r, 2)?,
        created_at: time(r, 3)?,
        last_seen_at: time(r, 4)?,
        expires_at: time(r, 5)?,
        address: get(r, 6)?,
        user_agent: get(r, 7)?,
    })
}

pub const AUDIT_COLS: &str =
    "id, at, actor_id, action, subject_kind, subject_id, address, detail, old_value, new_value";

fn opt_json(r: &Row<'_>, i: usize) -> Result<Option<serde_json::Value>> {
    opt_text(r, i)?
        .map(|s| serde_json::from_str(s).map_err(|e| Error::Storage(format!("stored JSON does not parse: {e}"))))
        .transpose()
}

/// `AUDIT_COLS`.
pub fn audit(r: &Row<'_>) -> Result<AuditEntry> {
    let action = text(r, 3)?;
    Ok(AuditEntry {
        id: get(r, 0)?,
        at: time(r, 1)?,
        actor_id: get::<Option<i64>>(r, 2)?.map(UserId),
        action: AuditAction::parse(action).ok_or_else(|| corrupt("audit action", action))?,
        subject_kind: get(r, 4)?,
        subject_id: get(r, 5)?,
        address: get(r, 6)?,
        detail: get(r, 7)?,
        old_value: opt_json(r, 8)?,
        new_value: opt_json(r, 9)?,
    })
}

/// `FACTS_COLS`.
pub fn facts(r: &Row<'_>) -> Result<DealFacts> {
    Ok(DealFacts {
        deal_id: DealId(get(r, 0)?),
        title: get(r, 1)?,
        owner_id: UserId(get(r, 2)?),
        process_version: get(r, 3)?,
        current_node: get(r, 4)?,
        status: deal_status(text(r, 5)?)?,
        amount: money(r, 6, 7)?,
        channel: channel(opt_text(r, 8)?)?,
        lost_reason: get(r, 9)?,
        account_region: get(r, 10)?,
        account_industry: get(r, 11)?,
        stage_entered_at: time(r, 12)?,
        created_at: time(r, 13)?,
    })
}
