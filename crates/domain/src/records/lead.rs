use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{NAME_MAX, Problems, TEXT_MAX};
use crate::currency::Money;
use crate::error::Error;
use crate::ids::{AccountId, ContactId, DealId, LeadId, ProcessId, UserId};

/// Where a lead came from (获客渠道).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    SocialMedia,
    TradeShow,
    Advertising,
    Telemarketing,
    WebsiteForm,
    Referral,
    Import,
    Other,
}

impl Channel {
    pub const ALL: [Channel; 8] = [
        Channel::SocialMedia,
        Channel::TradeShow,
        Channel::Advertising,
        Channel::Telemarketing,
        Channel::WebsiteForm,
        Channel::Referral,
        Channel::Import,
        Channel::Other,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Channel::SocialMedia => "social_media",
            Channel::TradeShow => "trade_show",
            Channel::Advertising => "advertising",
            Channel::Telemarketing => "telemarketing",
            Channel::WebsiteForm => "website_form",
            Channel::Referral => "referral",
            Channel::Import => "import",
            Channel::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Qualification status (筛选).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LeadStatus {
    New,
    Contacted,
    Qualified,
    Disqualified,
    Converted,
}

impl LeadStatus {
    pub const ALL: [LeadStatus; 5] = [
        LeadStatus::New,
        LeadStatus::Contacted,
        LeadStatus::Qualified,
        LeadStatus::Disqualified,
        LeadStatus::Converted,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            LeadStatus::New => "new",
            LeadStatus::Contacted => "contacted",
            LeadStatus::Qualified => "qualified",
            LeadStatus::Disqualified => "disqualified",
            LeadStatus::Converted => "converted",
        }
    }

    pub fn parse(s: &str) -> Option<LeadStatus> {
        LeadStatus::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The qualification moves a lead may make. A converted lead is done; a disqualified one
    /// may be reopened by marking it contacted again.
    pub fn can_become(self, next: LeadStatus) -> bool {
        use LeadStatus::*;
        matches!(
            (self, next),
            (New, Contacted)
                | (New, Qualified)
                | (Contacted, Qualified)
                | (New | Contacted | Qualified, Disqualified)
                | (Disqualified, Contacted)
                | (Qualified, Converted)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Lead {
    pub id: LeadId,
    /// The person.
    pub name: String,
    pub company: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub channel: Channel,
    pub status: LeadStatus,
    pub disqualify_reason: Option<String>,
    pub owner_id: UserId,
    pub notes: String,
    pub converted_deal_id: Option<DealId>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLead {
    pub name: String,
    #[serde(default)]
    pub company: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub channel: Channel,
    /// Defaults to the caller.
    pub owner_id: Option<UserId>,
    #[serde(default)]
    pub notes: String,
}

impl NewLead {
    pub fn validate(&self) -> Result<(), Error> {
        let mut p = Problems::default();
        p.text("name", &self.name, true, NAME_MAX);
        p.text("company", &self.company, false, NAME_MAX);
        p.email("email", self.email.as_deref());
        p.phone("phone", self.phone.as_deref());
        p.text("notes", &self.notes, false, TEXT_MAX);
        p.finish()
    }
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadPatch {
    /// The version read; a stale version is refused with 409.
    pub version: i64,
    pub name: Option<String>,
    pub company: Option<String>,
    #[serde(default, deserialize_with = "crate::serde_util::double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::serde_util::double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    pub channel: Option<Channel>,
    pub owner_id: Option<UserId>,
    pub notes: Option<String>,
}

impl LeadPatch {
    pub fn validate(&self) -> Result<(), Error> {
        let mut p = Problems::default();
        if let Some(n) = &self.name {
            p.text("name", n, true, NAME_MAX);
        }
        p.opt_text("company", self.company.as_deref(), NAME_MAX);
        p.email("email", self.email.clone().flatten().as_deref());
        p.phone("phone", self.phone.clone().flatten().as_deref());
        p.opt_text("notes", self.notes.as_deref(), TEXT_MAX);
        p.finish()
    }
}

/// A qualification move: contacted, qualified or disqualified (with a reason).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Qualification {
    pub version: i64,
    /// Required when disqualifying.
    pub reason: Option<String>,
}

/// Converting a qualified lead: account, contact and deal in one transaction.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConvertLead {
    pub version: i64,
    /// The process the deal runs through (its latest published version).
    pub process_id: ProcessId,
    /// Link to this account instead of creating or matching one.
    pub account_id: Option<AccountId>,
    /// Link to this contact instead of creating one.
    pub contact_id: Option<ContactId>,
    /// Defaults to "<company> — <name>".
    pub deal_title: Option<String>,
    pub amount: Option<Money>,
    pub expected_close_date: Option<chrono::NaiveDate>,
}

impl Lead {
    /// The keys its duplicates share.
    pub fn duplicate_keys(&self) -> DuplicateKeys {
        DuplicateKeys::of(self.email.as_deref(), self.phone.as_deref(), Some(&self.company))
    }

    /// Only a qualified lead becomes a customer and a deal.
    pub fn ensure_convertible(&self) -> Result<(), Error> {
        if self.status == LeadStatus::Qualified {
            return Ok(());
        }
        Err(Error::invalid(
            "status",
            format!("only a qualified lead can be converted; this one is {}", self.status.as_str()),
        ))
    }

    /// The account a conversion creates when none is given or matches: named after the company
    /// (or the person, for a lead without one).
    pub fn new_account(&self) -> super::NewAccount {
        let name = if self.company.trim().is_empty() { self.name.clone() } else { self.company.clone() };
        super::NewAccount {
            name,
            industry: String::new(),
            region: String::new(),
            website: String::new(),
            customer_group: String::new(),
            owner_id: Some(self.owner_id),
        }
    }

    /// The contact a conversion creates: the lead's person at `account`.
    pub fn new_contact(&self, account: AccountId) -> super::NewContact {
        super::NewContact {
            account_id: Some(account),
            name: self.name.clone(),
            title: String::new(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            wechat_id: None,
            preferred_channel: None,
            consent: super::Consent::default(),
            owner_id: Some(self.owner_id),
        }
    }

    /// The deal a conversion opens, titled "<company> — <name>" unless the request names it.
    pub fn new_deal(&self, req: &ConvertLead, account: AccountId, contact: ContactId) -> super::NewDeal {
        let title = req.deal_title.clone().filter(|t| !t.trim().is_empty()).unwrap_or_else(|| {
            if self.company.trim().is_empty() {
                self.name.clone()
            } else {
                format!("{} — {}", self.company, self.name)
            }
        });
        super::NewDeal {
            title,
            account_id: account,
            contact_ids: vec![contact],
            owner_id: Some(self.owner_id),
            process_id: req.process_id,
            amount: req.amount,
            expected_close_date: req.expected_close_date,
            probability: None,
            needs_summary: String::new(),
            channel: Some(self.channel),
            occurred_at: None,
        }
    }
}

/// Something that looks like the same person or company already on file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Duplicate {
    /// `lead`, `contact` or `account`.
    pub entity: String,
    pub id: i64,
    pub name: String,
    /// `email`, `phone` or `company`.
    pub matched_on: String,
}

/// Normal forms used to look for duplicates of a person/company.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DuplicateKeys {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
}

impl DuplicateKeys {
    pub fn of(email: Option<&str>, phone: Option<&str>, company: Option<&str>) -> Self {
        Self {
            email: email.and_then(crate::normalize::email),
            phone: phone.and_then(crate::normalize::phone),
            company: company.and_then(crate::normalize::company),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct LeadFilter {
    pub owner: Option<UserId>,
    pub status: Option<LeadStatus>,
    pub channel: Option<Channel>,
    pub text: Option<String>,
}
