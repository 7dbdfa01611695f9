//! The selling records as stored by both backends: JSON documents beside the columns that
//! are searched, joined or guarded. One (de)serialisation, so both backends read alike.

use chrono::{DateTime, Utc};
use salesflow_domain::error::{Error, Result};
use salesflow_domain::ids::{DealId, QuoteId, UserId};
use salesflow_domain::selling::pricing::Totals;
use salesflow_domain::selling::quote::{DiscountApproval, Quote, QuoteContent, QuoteDecision, QuoteStatus};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

pub fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Storage(format!("a record does not serialise: {e}")))
}

pub fn from_json<T: DeserializeOwned>(what: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| Error::Storage(format!("stored {what} does not read: {e}")))
}

/// The parts known of a stored needs analysis: what the deal's exit criteria see.
pub fn needs_known(body: &str) -> Result<Vec<salesflow_domain::selling::needs::NeedsPart>> {
    let needs: salesflow_domain::selling::needs::NeedsAnalysis = from_json("needs analysis", body)?;
    Ok(needs.input.known_parts())
}

/// Everything of a quote version but its content and key columns.
#[derive(Serialize, Deserialize)]
struct QuoteState {
    totals: Vec<Totals>,
    approval: Option<DiscountApproval>,
    sent_at: Option<DateTime<Utc>>,
    sent_by: Option<UserId>,
    decision: Option<QuoteDecision>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    price_book: Option<String>,
    created_by: UserId,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// (content, state) of a quote version.
pub fn quote_parts(q: &Quote) -> Result<(String, String)> {
    let state = QuoteState {
        totals: q.totals.clone(),
        approval: q.approval.clone(),
        sent_at: q.sent_at,
        sent_by: q.sent_by,
        decision: q.decision.clone(),
        price_book: q.price_book.clone(),
        created_by: q.created_by,
        created_at: q.created_at,
        updated_at: q.updated_at,
    };
    Ok((to_json(&q.content)?, to_json(&state)?))
}

/// A stored row: id, deal, number, status, content, state, version.
pub type QuoteRow = (i64, i64, i32, String, String, String, i64);

pub fn quote(row: QuoteRow) -> Result<Quote> {
    let (id, deal, number, status, content, state, version) = row;
    let content: QuoteContent = from_json("quote content", &content)?;
    let s: QuoteState = from_json("quote state", &state)?;
    Ok(Quote {
        id: QuoteId(id),
        deal_id: DealId(deal),
        number,
        status: QuoteStatus::parse(&status).ok_or_else(|| Error::Storage(format!("quote status `{status}`")))?,
        content,
        totals: s.totals,
        approval: s.approval,
        sent_at: s.sent_at,
        sent_by: s.sent_by,
        decision: s.decision,
        price_book: s.price_book,
        created_by: s.created_by,
        created_at: s.created_at,
        updated_at: s.updated_at,
        version,
    })
}
