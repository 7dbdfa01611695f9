use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::currency::Currency;
use crate::ids::{DealId, ProcessId, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Created,
    Moved,
    StepCompleted,
    StepReopened,
    AmountChanged,
    ProbabilityChanged,
    CloseDateChanged,
    OwnerChanged,
    /// Other fields (title, needs summary, contacts), old and new values in `details`.
    Updated,
    /// Moved to another version of its process (`details`: from_version, to_version and the
    /// exit criteria of the new stage it does not meet yet).
    Migrated,
    /// The needs analysis was captured or changed.
    NeedsUpdated,
    /// A quote version was drafted (`details.quote` is its number).
    QuoteCreated,
    /// A draft changed, or a sent version was superseded.
    QuoteUpdated,
    DiscountRequested,
    /// A manager approved or rejected a discount (`details.approved`, `details.comment`).
    DiscountDecided,
    QuoteSent,
    /// The customer opened the quote page.
    QuoteViewed,
    QuoteAccepted,
    /// The customer rejected the quote (`details.reason`).
    QuoteRejected,
    ContractCreated,
    ContractStatusChanged,
    /// A deliverable delivered or an installment paid.
    MilestoneDone,
    /// An objection raised, answered or resolved.
    ObjectionLogged,
}

impl EventKind {
    pub const ALL: [EventKind; 23] = [
        EventKind::Created,
        EventKind::Moved,
        EventKind::StepCompleted,
        EventKind::StepReopened,
        EventKind::AmountChanged,
        EventKind::ProbabilityChanged,
        EventKind::CloseDateChanged,
        EventKind::OwnerChanged,
        EventKind::Updated,
        EventKind::Migrated,
        EventKind::NeedsUpdated,
        EventKind::QuoteCreated,
        EventKind::QuoteUpdated,
        EventKind::DiscountRequested,
        EventKind::DiscountDecided,
        EventKind::QuoteSent,
        EventKind::QuoteViewed,
        EventKind::QuoteAccepted,
        EventKind::QuoteRejected,
        EventKind::ContractCreated,
        EventKind::ContractStatusChanged,
        EventKind::MilestoneDone,
        EventKind::ObjectionLogged,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::Moved => "moved",
            EventKind::StepCompleted => "step_completed",
            EventKind::StepReopened => "step_reopened",
            EventKind::AmountChanged => "amount_changed",
            EventKind::ProbabilityChanged => "probability_changed",
            EventKind::CloseDateChanged => "close_date_changed",
            EventKind::OwnerChanged => "owner_changed",
            EventKind::Updated => "updated",
            EventKind::Migrated => "migrated",
            EventKind::NeedsUpdated => "needs_updated",
            EventKind::QuoteCreated => "quote_created",
            EventKind::QuoteUpdated => "quote_updated",
            EventKind::DiscountRequested => "discount_requested",
            EventKind::DiscountDecided => "discount_decided",
            EventKind::QuoteSent => "quote_sent",
            EventKind::QuoteViewed => "quote_viewed",
            EventKind::QuoteAccepted => "quote_accepted",
            EventKind::QuoteRejected => "quote_rejected",
            EventKind::ContractCreated => "contract_created",
            EventKind::ContractStatusChanged => "contract_status_changed",
            EventKind::MilestoneDone => "milestone_done",
            EventKind::ObjectionLogged => "objection_logged",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One row of the append-only deal event log. Nothing updates or deletes an event.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DealEvent {
    pub id: i64,
    pub deal_id: DealId,
    /// 1, 2, 3 … within the deal.
    pub seq: i64,
    pub kind: EventKind,
    pub process_id: ProcessId,
    pub process_version: i32,
    pub from_node: String,
    pub to_node: String,
    /// The edge taken (for moves through a decision: the answer edge).
    pub edge_id: Option<String>,
    pub actor_id: UserId,
    /// Business time.
    pub occurred_at: DateTime<Utc>,
    /// When the system wrote it.
    pub recorded_at: DateTime<Utc>,
    pub amount_minor: Option<i64>,
    pub currency: Option<Currency>,
    pub probability: u8,
    pub expected_close_date: Option<NaiveDate>,
    /// Old/new values, gate overrides, lost reason, the route taken.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

/// An event about to be appended; the store gives it id, seq and recorded_at.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub kind: EventKind,
    pub from_node: String,
    pub to_node: String,
    pub edge_id: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub details: serde_json::Value,
}
