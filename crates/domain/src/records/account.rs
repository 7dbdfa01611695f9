use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{NAME_MAX, Problems};
use crate::error::Error;
use crate::ids::{AccountId, UserId};

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub industry: String,
    pub region: String,
    pub website: String,
    /// The customer group whose price book applies ("经销商", "education"); empty for none.
    pub customer_group: String,
    pub owner_id: UserId,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    pub name: String,
    #[serde(default)]
    pub industry: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub website: String,
    /// The customer group whose price book applies; empty for none.
    #[serde(default)]
    pub customer_group: String,
    pub owner_id: Option<UserId>,
}

impl NewAccount {
    pub fn validate(&self) -> Result<(), Error> {
        let mut p = Problems::default();
        p.text("name", &self.name, true, NAME_MAX);
        if crate::normalize::company(&self.name).is_none() && !self.name.trim().is_empty() {
            p.push("name", "needs at least one letter or digit");
        }
        p.text("industry", &self.industry, false, NAME_MAX);
        p.text("region", &self.region, false, NAME_MAX);
        p.text("website", &self.website, false, 500);
        p.text("customer_group", &self.customer_group, false, NAME_MAX);
        p.finish()
    }
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountPatch {
    pub version: i64,
    pub name: Option<String>,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub website: Option<String>,
    /// Empty to remove the account from its group.
    pub customer_group: Option<String>,
    pub owner_id: Option<UserId>,
}

impl AccountPatch {
    pub fn validate(&self) -> Result<(), Error> {
        let mut p = Problems::default();
        if let Some(n) = &self.name {
            p.text("name", n, true, NAME_MAX);
            if crate::normalize::company(n).is_none() && !n.trim().is_empty() {
                p.push("name", "needs at least one letter or digit");
            }
        }
        p.opt_text("industry", self.industry.as_deref(), NAME_MAX);
        p.opt_text("region", self.region.as_deref(), NAME_MAX);
        p.opt_text("website", self.website.as_deref(), 500);
        p.opt_text("customer_group", self.customer_group.as_deref(), NAME_MAX);
        p.finish()
    }
}

#[derive(Debug, Clone, Default)]
pub struct AccountFilter {
    pub owner: Option<UserId>,
    pub text: Option<String>,
}
