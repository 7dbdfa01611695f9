//! Rows as both databases return them, and their conversion into domain records. Only types
//! both backends share appear here: i64/i32/i16, text, bool, chrono timestamps and dates.

use chrono::{DateTime, NaiveDate, Utc};
use salesflow_domain::Error;
use salesflow_domain::currency::{Currency, Money};
use salesflow_domain::ids::*;
use salesflow_domain::records::*;
use salesflow_domain::store::{DealFacts, DealSummary, ProcessVersion, VersionStatus};

fn corrupt(what: &str, value: &str) -> Error {
    Error::Storage(format!("stored {what} `{value}` is not valid"))
}

fn money(minor: Option<i64>, currency: Option<&str>) -> Result<Option<Money>, Error> {
    match (minor, currency) {
        (Some(minor), Some(c)) => {
            Ok(Some(Money { minor, currency: Currency::parse(c).map_err(|_| corrupt("currency", c))? }))
        }
        _ => Ok(None),
    }
}

pub const USER_COLS: &str = "id, name, email, locale, time_zone, role, active";

#[derive(sqlx::FromRow)]
pub struct UserRow {
    id: i64,
    name: String,
    email: String,
    locale: String,
    time_zone: String,
    role: String,
    active: bool,
}

impl TryFrom<UserRow> for User {
    type Error = Error;
    fn try_from(r: UserRow) -> Result<Self, Error> {
        Ok(User {
            id: UserId(r.id),
            role: Role::parse(&r.role).ok_or_else(|| corrupt("role", &r.role))?,
            name: r.name,
            email: r.email,
            locale: r.locale,
            time_zone: r.time_zone,
            active: r.active,
        })
    }
}

/// A retired version keeps `status = 'published'` in the table; `retired_at` marks it.
pub const VERSION_COLS: &str = "process_id, version, status, definition, created_at, published_at, retired_at";

#[derive(sqlx::FromRow)]
pub struct VersionRow {
    process_id: i64,
    version: i32,
    status: String,
    definition: String,
    created_at: DateTime<Utc>,
    published_at: Option<DateTime<Utc>>,
    retired_at: Option<DateTime<Utc>>,
}

impl TryFrom<VersionRow> for ProcessVersion {
    type Error = Error;
    fn try_from(r: VersionRow) -> Result<Self, Error> {
        Ok(ProcessVersion {
            process_id: ProcessId(r.process_id),
            version: r.version,
            status: match r.retired_at {
                Some(_) => VersionStatus::Retired,
                None => VersionStatus::parse(&r.status).ok_or_else(|| corrupt("version status", &r.status))?,
            },
            definition: serde_json::from_str(&r.definition)
                .map_err(|e| Error::Storage(format!("stored process definition does not parse: {e}")))?,
            created_at: r.created_at,
            published_at: r.published_at,
            retired_at: r.retired_at,
        })
    }
}

pub const ACCOUNT_COLS: &str =
    "id, name, industry, region, website, owner_id, version, created_at, updated_at, customer_group";

#[derive(sqlx::FromRow)]
pub struct AccountRow {
    id: i64,
    name: String,
    industry: String,
    region: String,
    website: String,
    owner_id: i64,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    customer_group: String,
}

impl From<AccountRow> for Account {
    fn from(r: AccountRow) -> Self {
        Account {
            id: AccountId(r.id),
            name: r.name,
            industry: r.industry,
            region: r.region,
            website: r.website,
            customer_group: r.customer_group,
            owner_id: UserId(r.owner_id),
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

pub const CONTACT_COLS: &str = "id, account_id, name, title, email, phone, wechat_id, preferred_channel, \
    consent_email, consent_sms, consent_phone, consent_wechat, owner_id, version, created_at, updated_at";

#[derive(sqlx::FromRow)]
pub struct ContactRow {
    id: i64,
    account_id: Option<i64>,
    name: String,
    title: String,
    email: Option<String>,
    phone: Option<String>,
    wechat_id: Option<String>,
    preferred_channel: Option<String>,
    consent_email: bool,
    consent_sms: bool,
    consent_phone: bool,
    consent_wechat: bool,
    owner_id: i64,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<ContactRow> for Contact {
    type Error = Error;
    fn try_from(r: ContactRow) -> Result<Self, Error> {
        let preferred_channel = match r.preferred_channel.as_deref() {
            Some(p) => Some(PreferredChannel::parse(p).ok_or_else(|| corrupt("preferred channel", p))?),
            None => None,
        };
        Ok(Contact {
            id: ContactId(r.id),
            account_id: r.account_id.map(AccountId),
            name: r.name,
            title: r.title,
            email: r.email,
            phone: r.phone,
            wechat_id: r.wechat_id,
            preferred_channel,
            consent: Consent {
                email: r.consent_email,
                sms: r.consent_sms,
                phone: r.consent_phone,
                wechat: r.consent_wechat,
            },
            owner_id: UserId(r.owner_id),
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

pub const LEAD_COLS: &str = "id, name, company, email, phone, channel, status, disqualify_reason, owner_id, \
    notes, converted_deal_id, version, created_at, updated_at";

#[derive(sqlx::FromRow)]
pub struct LeadRow {
    id: i64,
    name: String,
    company: String,
    email: Option<String>,
    phone: Option<String>,
    channel: String,
    status: String,
    disqualify_reason: Option<String>,
    owner_id: i64,
    notes: String,
    converted_deal_id: Option<i64>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<LeadRow> for Lead {
    type Error = Error;
    fn try_from(r: LeadRow) -> Result<Self, Error> {
        Ok(Lead {
            id: LeadId(r.id),
            channel: Channel::parse(&r.channel).ok_or_else(|| corrupt("channel", &r.channel))?,
            status: LeadStatus::parse(&r.status).ok_or_else(|| corrupt("lead status", &r.status))?,
            name: r.name,
            company: r.company,
            email: r.email,
            phone: r.phone,
            disqualify_reason: r.disqualify_reason,
            owner_id: UserId(r.owner_id),
            notes: r.notes,
            converted_deal_id: r.converted_deal_id.map(DealId),
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

pub const DEAL_COLS: &str = "d.id, d.title, d.account_id, d.owner_id, d.process_id, d.process_version, \
    d.current_node, d.amount_minor, d.currency, d.expected_close_date, d.probability, d.probability_overridden, \
    d.status, d.lost_reason, d.needs_summary, d.channel, d.lead_id, d.version, d.last_event_seq, d.last_event_at, \
    d.stage_entered_at, d.created_at, d.updated_at, d.closed_at";

#[derive(sqlx::FromRow)]
pub struct DealRow {
    pub id: i64,
    title: String,
    account_id: i64,
    owner_id: i64,
    process_id: i64,
    process_version: i32,
    pub current_node: String,
    amount_minor: Option<i64>,
    currency: Option<String>,
    expected_close_date: Option<NaiveDate>,
    probability: i16,
    probability_overridden: bool,
    status: String,
    lost_reason: Option<String>,
    needs_summary: String,
    channel: Option<String>,
    lead_id: Option<i64>,
    version: i64,
    pub last_event_seq: i64,
    pub last_event_at: DateTime<Utc>,
    stage_entered_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
}

impl DealRow {
    pub fn into_deal(self, contact_ids: Vec<ContactId>, completed_steps: Vec<String>) -> Result<Deal, Error> {
        let channel = match self.channel.as_deref() {
            Some(c) => Some(Channel::parse(c).ok_or_else(|| corrupt("channel", c))?),
            None => None,
        };
        Ok(Deal {
            id: DealId(self.id),
            amount: money(self.amount_minor, self.currency.as_deref())?,
            status: DealStatus::parse(&self.status).ok_or_else(|| corrupt("deal status", &self.status))?,
            title: self.title,
            account_id: AccountId(self.account_id),
            contact_ids,
            owner_id: UserId(self.owner_id),
            process_id: ProcessId(self.process_id),
            process_version: self.process_version,
            current_node: self.current_node,
            expected_close_date: self.expected_close_date,
            probability: self.probability as u8,
            probability_overridden: self.probability_overridden,
            lost_reason: self.lost_reason,
            needs_summary: self.needs_summary,
            channel,
            lead_id: self.lead_id.map(LeadId),
            completed_steps,
            needs_known: Vec::new(),
            version: self.version,
            stage_entered_at: self.stage_entered_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
            closed_at: self.closed_at,
        })
    }
}

pub const SUMMARY_COLS: &str = "d.id, d.title, d.account_id, a.name AS account_name, d.owner_id, d.process_id, \
    d.process_version, d.current_node, d.amount_minor, d.currency, d.expected_close_date, d.probability, d.status, \
    d.stage_entered_at, d.version";

#[derive(sqlx::FromRow)]
pub struct SummaryRow {
    id: i64,
    title: String,
    account_id: i64,
    account_name: String,
    owner_id: i64,
    process_id: i64,
    process_version: i32,
    current_node: String,
    amount_minor: Option<i64>,
    currency: Option<String>,
    expected_close_date: Option<NaiveDate>,
    probability: i16,
    status: String,
    stage_entered_at: DateTime<Utc>,
    version: i64,
}

impl TryFrom<SummaryRow> for DealSummary {
    type Error = Error;
    fn try_from(r: SummaryRow) -> Result<Self, Error> {
        Ok(DealSummary {
            id: DealId(r.id),
            amount: money(r.amount_minor, r.currency.as_deref())?,
            status: DealStatus::parse(&r.status).ok_or_else(|| corrupt("deal status", &r.status))?,
            title: r.title,
            account_id: AccountId(r.account_id),
            account_name: r.account_name,
            owner_id: UserId(r.owner_id),
            process_id: ProcessId(r.process_id),
            process_version: r.process_version,
            current_node: r.current_node,
            expected_close_date: r.expected_close_date,
            probability: r.probability as u8,
            stage_entered_at: r.stage_entered_at,
            version: r.version,
        })
    }
}

pub const EVENT_COLS: &str = "id, deal_id, seq, kind, process_id, process_version, from_node, to_node, edge_id, \
    actor_id, occurred_at, recorded_at, amount_minor, currency, probability, expected_close_date, details";

#[derive(sqlx::FromRow)]
pub struct EventRow {
    id: i64,
    deal_id: i64,
    seq: i64,
    kind: String,
    process_id: i64,
    process_version: i32,
    from_node: String,
    to_node: String,
    edge_id: Option<String>,
    actor_id: i64,
    occurred_at: DateTime<Utc>,
    recorded_at: DateTime<Utc>,
    amount_minor: Option<i64>,
    currency: Option<String>,
    probability: i16,
    expected_close_date: Option<NaiveDate>,
    details: String,
}

impl TryFrom<EventRow> for DealEvent {
    type Error = Error;
    fn try_from(r: EventRow) -> Result<Self, Error> {
        let currency = match r.currency.as_deref() {
            Some(c) => Some(Currency::parse(c).map_err(|_| corrupt("currency", c))?),
            None => None,
        };
        Ok(DealEvent {
            id: r.id,
            deal_id: DealId(r.deal_id),
            seq: r.seq,
            kind: EventKind::parse(&r.kind).ok_or_else(|| corrupt("event kind", &r.kind))?,
            process_id: ProcessId(r.process_id),
            process_version: r.process_version,
            from_node: r.from_node,
            to_node: r.to_node,
            edge_id: r.edge_id,
            actor_id: UserId(r.actor_id),
            occurred_at: r.occurred_at,
            recorded_at: r.recorded_at,
            amount_minor: r.amount_minor,
            currency,
            probability: r.probability as u8,
            expected_close_date: r.expected_close_date,
            details: serde_json::from_str(&r.details).unwrap_or(serde_json::Value::Null),
        })
    }
}

/// The columns of [`DealFacts`], from `deals d JOIN accounts a`.
pub const FACTS_COLS: &str = "d.id, d.title, d.owner_id, d.process_version, d.current_node, d.status, d.amount_minor, \
    d.currency, d.channel, d.lost_reason, a.region, a.industry, d.stage_entered_at, d.created_at";

#[derive(sqlx::FromRow)]
pub struct FactsRow {
    id: i64,
    title: String,
    owner_id: i64,
    process_version: i32,
    current_node: String,
    status: String,
    amount_minor: Option<i64>,
    currency: Option<String>,
    channel: Option<String>,
    lost_reason: Option<String>,
    region: String,
    industry: String,
    stage_entered_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
}

impl TryFrom<FactsRow> for DealFacts {
    type Error = Error;
    fn try_from(r: FactsRow) -> Result<Self, Error> {
        Ok(DealFacts {
            deal_id: DealId(r.id),
            amount: money(r.amount_minor, r.currency.as_deref())?,
            status: DealStatus::parse(&r.status).ok_or_else(|| corrupt("deal status", &r.status))?,
            channel: r.channel.map(|c| Channel::parse(&c).ok_or_else(|| corrupt("channel", &c))).transpose()?,
            title: r.title,
            owner_id: UserId(r.owner_id),
            process_version: r.process_version,
            current_node: r.current_node,
            lost_reason: r.lost_reason,
            account_region: r.region,
            account_industry: r.industry,
            stage_entered_at: r.stage_entered_at,
            created_at: r.created_at,
        })
    }
}
