use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{NAME_MAX, Problems};
use crate::error::Error;
use crate::ids::{AccountId, ContactId, UserId};

/// How the customer likes to be reached (沟通偏好).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PreferredChannel {
    Email,
    Phone,
    Sms,
    Wechat,
    InPerson,
}

impl PreferredChannel {
    pub const ALL: [PreferredChannel; 5] = [
        PreferredChannel::Email,
        PreferredChannel::Phone,
        PreferredChannel::Sms,
        PreferredChannel::Wechat,
        PreferredChannel::InPerson,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            PreferredChannel::Email => "email",
            PreferredChannel::Phone => "phone",
            PreferredChannel::Sms => "sms",
            PreferredChannel::Wechat => "wechat",
            PreferredChannel::InPerson => "in_person",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// What the contact agreed to receive. Marketing sends check these.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    #[serde(default)]
    pub email: bool,
    #[serde(default)]
    pub sms: bool,
    #[serde(default)]
    pub phone: bool,
    #[serde(default)]
    pub wechat: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Contact {
    pub id: ContactId,
    pub account_id: Option<AccountId>,
    pub name: String,
    pub title: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub wechat_id: Option<String>,
    pub preferred_channel: Option<PreferredChannel>,
    pub consent: Consent,
    pub owner_id: UserId,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContact {
    pub account_id: Option<AccountId>,
    pub name: String,
    #[serde(default)]
    pub title: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub wechat_id: Option<String>,
    pub preferred_channel: Option<PreferredChannel>,
    #[serde(default)]
    pub consent: Consent,
    pub owner_id: Option<UserId>,
}

impl NewContact {
    pub fn validate(&self) -> Result<(), Error> {
        let mut p = Problems::default();
        p.text("name", &self.name, true, NAME_MAX);
        p.text("title", &self.title, false, NAME_MAX);
        p.email("email", self.email.as_deref());
        p.phone("phone", self.phone.as_deref());
        p.opt_text("wechat_id", self.wechat_id.as_deref(), 64);
        p.finish()
    }
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactPatch {
    pub version: i64,
    #[serde(default, deserialize_with = "crate::serde_util::double_option")]
    #[schema(value_type = Option<i64>)]
    pub account_id: Option<Option<AccountId>>,
    pub name: Option<String>,
    pub title: Option<String>,
    #[serde(default, deserialize_with = "crate::serde_util::double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::serde_util::double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::serde_util::double_option")]
    #[schema(value_type = Option<String>)]
    pub wechat_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::serde_util::double_option")]
    #[schema(value_type = Option<PreferredChannel>)]
    pub preferred_channel: Option<Option<PreferredChannel>>,
    pub consent: Option<Consent>,
    pub owner_id: Option<UserId>,
}

impl ContactPatch {
    pub fn validate(&self) -> Result<(), Error> {
        let mut p = Problems::default();
        if let Some(n) = &self.name {
            p.text("name", n, true, NAME_MAX);
        }
        p.opt_text("title", self.title.as_deref(), NAME_MAX);
        p.email("email", self.email.clone().flatten().as_deref());
        p.phone("phone", self.phone.clone().flatten().as_deref());
        p.opt_text("wechat_id", self.wechat_id.clone().flatten().as_deref(), 64);
        p.finish()
    }
}

#[derive(Debug, Clone, Default)]
pub struct ContactFilter {
    pub owner: Option<UserId>,
    pub account: Option<AccountId>,
    pub text: Option<String>,
}
