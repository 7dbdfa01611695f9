use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{Channel, NAME_MAX, Problems, TEXT_MAX};
use crate::currency::Money;
use crate::error::Error;
use crate::ids::{AccountId, ContactId, DealId, LeadId, ProcessId, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DealStatus {
    Open,
    Won,
    Lost,
}

impl DealStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            DealStatus::Open => "open",
            DealStatus::Won => "won",
            DealStatus::Lost => "lost",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [DealStatus::Open, DealStatus::Won, DealStatus::Lost].into_iter().find(|c| c.as_str() == s)
    }
}

/// Deal fields an exit criterion can require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DealField {
    Amount,
    ExpectedCloseDate,
    /// At least one contact on the deal.
    Contact,
    /// The needs analysis summary (痛点, 需求, 购买意向).
    NeedsSummary,
}

impl DealField {
    /// Every field, in the order the editor offers them.
    pub const ALL: [DealField; 4] =
        [DealField::Amount, DealField::ExpectedCloseDate, DealField::Contact, DealField::NeedsSummary];

    pub fn as_str(&self) -> &'static str {
        match self {
            DealField::Amount => "amount",
            DealField::ExpectedCloseDate => "expected_close_date",
            DealField::Contact => "contact",
            DealField::NeedsSummary => "needs_summary",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Deal {
    pub id: DealId,
    pub title: String,
    pub account_id: AccountId,
    pub contact_ids: Vec<ContactId>,
    pub owner_id: UserId,
    pub process_id: ProcessId,
    /// The process version the deal is pinned to.
    pub process_version: i32,
    /// The stage (or terminal) the deal is in.
    pub current_node: String,
    pub amount: Option<Money>,
    pub expected_close_date: Option<NaiveDate>,
    /// Win probability in percent: the stage default unless overridden.
    pub probability: u8,
    pub probability_overridden: bool,
    pub status: DealStatus,
    pub lost_reason: Option<String>,
    pub needs_summary: String,
    pub channel: Option<Channel>,
    pub lead_id: Option<LeadId>,
    /// Steps of the current stage already ticked.
    pub completed_steps: Vec<String>,
    /// The parts of the needs analysis known, for exit criteria that ask for them.
    pub needs_known: Vec<crate::selling::needs::NeedsPart>,
    pub version: i64,
    pub stage_entered_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl Deal {
    pub fn has(&self, field: DealField) -> bool {
        match field {
            DealField::Amount => self.amount.is_some_and(|m| m.minor > 0),
            DealField::ExpectedCloseDate => self.expected_close_date.is_some(),
            DealField::Contact => !self.contact_ids.is_empty(),
            DealField::NeedsSummary => !self.needs_summary.trim().is_empty(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDeal {
    pub title: String,
    pub account_id: AccountId,
    #[serde(default)]
    pub contact_ids: Vec<ContactId>,
    pub owner_id: Option<UserId>,
    /// The deal enters the latest published version of this process.
    pub process_id: ProcessId,
    pub amount: Option<Money>,
    pub expected_close_date: Option<NaiveDate>,
    /// Overrides the stage default.
    pub probability: Option<u8>,
    #[serde(default)]
    pub needs_summary: String,
    pub channel: Option<Channel>,
    /// Business time of creation; may be back-dated for imports.
    pub occurred_at: Option<DateTime<Utc>>,
}

impl NewDeal {
    pub fn validate(&self) -> Result<(), Error> {
        let mut p = Problems::default();
        p.text("title", &self.title, true, NAME_MAX);
        p.text("needs_summary", &self.needs_summary, false, TEXT_MAX);
        if let Some(m) = self.amount
            && let Err(Error::Invalid(errs)) = m.checked("amount")
        {
            p.0.extend(errs);
        }
        if self.probability.is_some_and(|v| v > 100) {
            p.push("probability", "must be between 0 and 100");
        }
        p.finish()
    }
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DealPatch {
    /// The version read; a stale version is refused with 409 and nothing changes.
    pub version: i64,
    pub title: Option<String>,
    #[serde(default, deserialize_with = "crate::serde_util::double_option")]
    #[schema(value_type = Option<Money>)]
    pub amount: Option<Option<Money>>,
    #[serde(default, deserialize_with = "crate::serde_util::double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub expected_close_date: Option<Option<NaiveDate>>,
    /// A number overrides the stage default; `null` returns to it.
    #[serde(default, deserialize_with = "crate::serde_util::double_option")]
    #[schema(value_type = Option<u8>)]
    pub probability: Option<Option<u8>>,
    pub owner_id: Option<UserId>,
    pub needs_summary: Option<String>,
    pub contact_ids: Option<Vec<ContactId>>,
    /// Business time of the change; never before the deal's previous event.
    pub occurred_at: Option<DateTime<Utc>>,
}

impl DealPatch {
    pub fn validate(&self) -> Result<(), Error> {
        let mut p = Problems::default();
        if let Some(t) = &self.title {
            p.text("title", t, true, NAME_MAX);
        }
        p.opt_text("needs_summary", self.needs_summary.as_deref(), TEXT_MAX);
        if let Some(Some(m)) = self.amount
            && let Err(Error::Invalid(errs)) = m.checked("amount")
        {
            p.0.extend(errs);
        }
        if let Some(Some(v)) = self.probability
            && v > 100
        {
            p.push("probability", "must be between 0 and 100");
        }
        p.finish()
    }
}

/// Ask to move a deal along an edge of its process.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveRequest {
    /// The node to move to (a stage, Won or Lost).
    pub to: String,
    /// The last edge of the route, when more than one route leads to `to`.
    pub edge: Option<String>,
    /// The deal version read.
    pub version: i64,
    /// Business time of the move; may be back-dated but never before the previous event.
    pub occurred_at: Option<DateTime<Utc>>,
    /// Required to pass soft gates that are not met.
    pub override_reason: Option<String>,
    /// Required when moving to Lost.
    pub lost_reason: Option<String>,
}

/// Tick or untick a step of the current stage.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepToggle {
    pub step: String,
    pub done: bool,
    pub version: i64,
    pub occurred_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct DealFilter {
    pub owner: Option<UserId>,
    pub process: Option<ProcessId>,
    pub stage: Option<String>,
    pub status: Option<DealStatus>,
    pub channel: Option<Channel>,
    pub account: Option<AccountId>,
    pub text: Option<String>,
}
