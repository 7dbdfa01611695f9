//! The storage port. Each method is something the sales team's system does; the SQLite and
//! PostgreSQL adapters implement it with the same behaviour, checked by one test suite.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::access::Scope;
use crate::error::Result;
use crate::ids::*;
use crate::process::ProcessDefinition;
use crate::records::*;
use crate::selling::catalog::{NewProduct, PriceBook, Product};
use crate::selling::contract::Contract;
use crate::selling::needs::{NeedsAnalysis, NeedsInput};
use crate::selling::objection::{Objection, Playbook};
use crate::selling::quote::{DealNote, Quote};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VersionStatus {
    /// Editable.
    Draft,
    /// Immutable; deals run on it.
    Published,
    /// Published once, now closed to new deals; the deals on it stay until migrated.
    Retired,
}

impl VersionStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            VersionStatus::Draft => "draft",
            VersionStatus::Published => "published",
            VersionStatus::Retired => "retired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "draft" => Some(VersionStatus::Draft),
            "published" => Some(VersionStatus::Published),
            "retired" => Some(VersionStatus::Retired),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ProcessVersion {
    pub process_id: ProcessId,
    pub version: i32,
    pub status: VersionStatus,
    pub definition: ProcessDefinition,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub retired_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ProcessSummary {
    pub id: ProcessId,
    pub key: String,
    pub name: String,
    pub locale: String,
    pub latest_version: i32,
    /// The newest published version that is not retired, if any: new deals enter it.
    pub published_version: Option<i32>,
}

/// A deal as lists and boards show it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DealSummary {
    pub id: DealId,
    pub title: String,
    pub account_id: AccountId,
    pub account_name: String,
    pub owner_id: UserId,
    pub process_id: ProcessId,
    pub process_version: i32,
    pub current_node: String,
    pub amount: Option<crate::currency::Money>,
    pub expected_close_date: Option<chrono::NaiveDate>,
    pub probability: u8,
    pub status: DealStatus,
    pub stage_entered_at: DateTime<Utc>,
    pub version: i64,
}

/// Count and sums over the deals a filter and scope select. Sums are per currency, in minor
/// units; the weighted sum is amount × probability / 100, rounded down per currency total.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DealTotals {
    pub count: u64,
    pub amount: Vec<crate::currency::Money>,
    pub weighted_amount: Vec<crate::currency::Money>,
}

/// The totals of the deals in one node (a stage or terminal): one row of a pipeline board's
/// column headers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StageTotals {
    /// The node the deals are in (`current_node`).
    pub node: String,
    pub totals: DealTotals,
}

/// One row of a totals query: node, currency (none for deals without an amount), count, sum of
/// the amounts and sum of amount × probability, all in minor units.
pub type TotalsRow = (String, Option<String>, i64, Option<i64>, Option<i64>);

impl StageTotals {
    /// Folds totals-query rows into one `StageTotals` per node, by node id. Rows may repeat a
    /// node and currency (one query per source of deals); amounts come per currency, by code,
    /// and the weighted sum is rounded down once per currency total, not per deal.
    pub fn fold(rows: impl IntoIterator<Item = TotalsRow>) -> Result<Vec<StageTotals>> {
        let mut merged: std::collections::BTreeMap<(String, Option<String>), (i64, i64, i64)> = Default::default();
        for (node, currency, count, amount, weighted) in rows {
            let sums = merged.entry((node, currency)).or_default();
            *sums = (sums.0 + count, sums.1 + amount.unwrap_or(0), sums.2 + weighted.unwrap_or(0));
        }
        let mut out: Vec<StageTotals> = Vec::new();
        for ((node, currency), (count, amount, weighted)) in merged {
            if count == 0 {
                continue;
            }
            if out.last().is_none_or(|s| s.node != node) {
                out.push(StageTotals { node, totals: DealTotals::default() });
            }
            let totals = &mut out.last_mut().expect("pushed above").totals;
            totals.count += count as u64;
            if let Some(code) = currency {
                let currency = crate::currency::Currency::parse(&code)
                    .map_err(|_| crate::Error::Storage(format!("stored currency `{code}` is not valid")))?;
                totals.amount.push(crate::currency::Money { minor: amount, currency });
                totals.weighted_amount.push(crate::currency::Money { minor: weighted.div_euclid(100), currency });
            }
        }
        Ok(out)
    }
}

impl DealTotals {
    /// [`StageTotals::fold`] for rows without a node: (currency, count, amount sum, weighted sum).
    pub fn fold(rows: impl IntoIterator<Item = (Option<String>, i64, Option<i64>, Option<i64>)>) -> Result<DealTotals> {
        let rows = rows
            .into_iter()
            .map(|(currency, count, amount, weighted)| (String::new(), currency, count, amount, weighted));
        Ok(StageTotals::fold(rows)?.pop().map(|s| s.totals).unwrap_or_default())
    }
}

/// What converting a lead produced.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Conversion {
    pub lead: Lead,
    pub account: Account,
    pub contact: Contact,
    pub deal: Deal,
    pub account_created: bool,
    pub contact_created: bool,
}

/// A stage a deal entered (its creation or a move): one row of the process-mining event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageEntry {
    pub deal_id: DealId,
    pub process_version: i32,
    pub node: String,
    pub occurred_at: DateTime<Utc>,
    pub actor_id: UserId,
}

/// One event's place: its id, deal and process (what a reader keeping up with the log needs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventMark {
    pub id: i64,
    pub deal: DealId,
    pub process: ProcessId,
}

/// What analytics needs of one deal beyond its stage entries: who owns it, where it came
/// from, its value and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DealFacts {
    pub deal_id: DealId,
    pub title: String,
    pub owner_id: UserId,
    pub process_version: i32,
    pub current_node: String,
    pub status: DealStatus,
    pub amount: Option<crate::currency::Money>,
    pub channel: Option<Channel>,
    pub lost_reason: Option<String>,
    pub account_region: String,
    pub account_industry: String,
    pub stage_entered_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// History written in bulk (demo data, imports): rows with their ids already assigned.
#[derive(Debug, Clone, Default)]
pub struct HistoryBatch {
    pub accounts: Vec<Account>,
    pub contacts: Vec<Contact>,
    pub leads: Vec<Lead>,
    pub deals: Vec<Deal>,
    /// Steps ticked per deal: (deal, stage, step, when).
    pub steps: Vec<(DealId, String, String, DateTime<Utc>)>,
    pub events: Vec<DealEvent>,
}

/// The highest id in use per table, so that bulk writers can assign the next ones.
#[derive(Debug, Clone, Copy, Default)]
pub struct MaxIds {
    pub account: i64,
    pub contact: i64,
    pub lead: i64,
    pub deal: i64,
    pub event: i64,
}

/// One quote version to write: a new one (`read_version` absent) or a change to the version
/// read. A version that is no longer a draft never changes its content (the database refuses).
#[derive(Debug, Clone, PartialEq)]
pub struct QuoteChange {
    pub quote: Quote,
    pub read_version: Option<i64>,
    /// SHA-256 of the customer's link token, set when the version is sent.
    pub token_hash: Option<String>,
}

/// Quote versions of one deal written together, with the notes for the deal's event log.
#[derive(Debug, Clone, PartialEq)]
pub struct QuoteWrite {
    pub deal: DealId,
    pub changes: Vec<QuoteChange>,
    pub notes: Vec<DealNote>,
    /// A step of the deal's current stage ticked in the same transaction, unless it already is
    /// (sending ticks `send_quote`).
    pub tick_step: Option<String>,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// Applies pending migrations.
    async fn migrate(&self) -> Result<()>;
    /// Migration versions applied, in order.
    async fn applied_migrations(&self) -> Result<Vec<i64>>;

    // Users, teams and shares.
    async fn create_user(&self, user: &NewUser, now: DateTime<Utc>) -> Result<User>;
    async fn user(&self, id: UserId) -> Result<User>;
    async fn user_by_email(&self, email: &str) -> Result<Option<User>>;
    async fn list_users(&self) -> Result<Vec<User>>;
    async fn update_user(&self, id: UserId, patch: &UserPatch, now: DateTime<Utc>) -> Result<User>;
    /// The argon2 PHC string of the user's password, if one is set.
    async fn password_hash(&self, id: UserId) -> Result<Option<String>>;
    async fn set_password_hash(&self, id: UserId, hash: &str, now: DateTime<Utc>) -> Result<()>;
    async fn create_team(&self, team: &NewTeam, now: DateTime<Utc>) -> Result<Team>;
    async fn team(&self, id: TeamId) -> Result<Team>;
    async fn list_teams(&self) -> Result<Vec<Team>>;
    async fn update_team(&self, id: TeamId, patch: &TeamPatch, now: DateTime<Utc>) -> Result<Team>;
    async fn delete_team(&self, id: TeamId) -> Result<()>;
    /// The members of the teams `user` manages and of the teams they belong to.
    async fn team_reach(&self, user: UserId) -> Result<TeamReach>;
    /// Shares `share.record_id` with `share.user_id`; sharing twice is not an error.
    async fn share(&self, share: &Share) -> Result<()>;
    /// Whether a share existed.
    async fn unshare(&self, kind: RecordKind, record_id: i64, user: UserId) -> Result<bool>;
    async fn shares(&self, kind: RecordKind, record_id: i64) -> Result<Vec<Share>>;
    async fn is_shared(&self, kind: RecordKind, record_id: i64, user: UserId) -> Result<bool>;

    // API tokens, web sessions, sign-in throttling.
    async fn create_api_token(&self, token: &NewApiToken, now: DateTime<Utc>) -> Result<ApiToken>;
    async fn api_token(&self, id: TokenId) -> Result<ApiToken>;
    /// Tokens of one user, or of everyone; newest first.
    async fn list_api_tokens(&self, user: Option<UserId>) -> Result<Vec<ApiToken>>;
    /// Revokes a token (again revoking is a no-op that keeps the first time).
    async fn revoke_api_token(&self, id: TokenId, now: DateTime<Utc>) -> Result<ApiToken>;
    /// The live token (not revoked, not expired, its user active) with this hash, and its
    /// user; marks it used at `now`.
    async fn authenticate_token(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<(ApiToken, User)>>;
    async fn create_session(&self, session: &WebSession) -> Result<()>;
    async fn session(&self, id_hash: &str) -> Result<Option<WebSession>>;
    async fn touch_session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<()>;
    async fn delete_session(&self, id_hash: &str) -> Result<()>;
    /// Signs a user out everywhere (deactivation, password change).
    async fn delete_sessions_of(&self, user: UserId) -> Result<()>;
    /// Removes sessions past their absolute end or idle since before `idle_since`.
    async fn delete_expired_sessions(&self, now: DateTime<Utc>, idle_since: DateTime<Utc>) -> Result<u64>;
    /// A failed sign-in for a normalised email from an address.
    async fn record_login_failure(&self, email_key: &str, address: &str, now: DateTime<Utc>) -> Result<()>;
    /// Failures since `since`: (for this email, from this address).
    async fn login_failures(&self, email_key: &str, address: &str, since: DateTime<Utc>) -> Result<(u32, u32)>;
    /// Forgets the failures of an email after a successful sign-in.
    async fn clear_login_failures(&self, email_key: &str) -> Result<()>;
    /// Forgets failures older than `before` (past every throttling window); returns how many.
    async fn prune_login_failures(&self, before: DateTime<Utc>) -> Result<u64>;

    // The audit log: append-only.
    async fn append_audit(&self, entry: &NewAuditEntry) -> Result<()>;
    async fn list_audit(&self, filter: &AuditFilter, page: PageRequest) -> Result<Page<AuditEntry>>;

    // Processes.
    /// Creates a process with `definition` as its version 1 draft.
    async fn create_process(&self, definition: &ProcessDefinition, now: DateTime<Utc>) -> Result<ProcessVersion>;
    async fn list_processes(&self) -> Result<Vec<ProcessSummary>>;
    async fn process_versions(&self, id: ProcessId) -> Result<Vec<ProcessVersion>>;
    /// A version; published versions come from an in-memory cache, as they never change.
    async fn process_version(&self, id: ProcessId, version: i32) -> Result<Arc<ProcessVersion>>;
    async fn latest_published(&self, id: ProcessId) -> Result<Arc<ProcessVersion>>;
    /// Replaces the definition of a draft; a published version is refused.
    async fn save_draft(
        &self,
        id: ProcessId,
        version: i32,
        definition: &ProcessDefinition,
        now: DateTime<Utc>,
    ) -> Result<ProcessVersion>;
    /// Starts the next version as a draft.
    async fn new_draft(
        &self,
        id: ProcessId,
        definition: &ProcessDefinition,
        now: DateTime<Utc>,
    ) -> Result<ProcessVersion>;
    /// Validates and freezes a draft.
    async fn publish(&self, id: ProcessId, version: i32, now: DateTime<Utc>) -> Result<ProcessVersion>;
    /// Closes a published version to new deals; the deals on it stay there.
    async fn retire(&self, id: ProcessId, version: i32, now: DateTime<Utc>) -> Result<ProcessVersion>;
    /// The open deals on a version, with their contacts and the ticked steps of their stage.
    async fn open_deals_on(&self, id: ProcessId, version: i32) -> Result<Vec<Deal>>;
    /// Moves every open deal of `req.from_version` to `req.to_version` by the mapping, in one
    /// transaction that appends a `migrated` event per deal; nothing is written on any error.
    async fn migrate_deals(
        &self,
        id: ProcessId,
        req: &crate::migration::MigrationRequest,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<crate::migration::MigrationSummary>;

    // Accounts and contacts.
    async fn create_account(&self, new: &NewAccount, owner: UserId, now: DateTime<Utc>) -> Result<Account>;
    async fn account(&self, id: AccountId) -> Result<Account>;
    /// The oldest account whose normalised name (`normalize::company`) is that of `name`.
    async fn account_named(&self, name: &str) -> Result<Option<Account>>;
    async fn update_account(&self, id: AccountId, patch: &AccountPatch, now: DateTime<Utc>) -> Result<Account>;
    async fn list_accounts(&self, filter: &AccountFilter, scope: &Scope, page: PageRequest) -> Result<Page<Account>>;
    async fn create_contact(&self, new: &NewContact, owner: UserId, now: DateTime<Utc>) -> Result<Contact>;
    async fn contact(&self, id: ContactId) -> Result<Contact>;
    async fn update_contact(&self, id: ContactId, patch: &ContactPatch, now: DateTime<Utc>) -> Result<Contact>;
    async fn list_contacts(&self, filter: &ContactFilter, scope: &Scope, page: PageRequest) -> Result<Page<Contact>>;

    // Leads.
    async fn create_lead(&self, new: &NewLead, owner: UserId, now: DateTime<Utc>) -> Result<Lead>;
    async fn lead(&self, id: LeadId) -> Result<Lead>;
    async fn update_lead(&self, id: LeadId, patch: &LeadPatch, now: DateTime<Utc>) -> Result<Lead>;
    async fn set_lead_status(&self, id: LeadId, to: LeadStatus, q: &Qualification, now: DateTime<Utc>) -> Result<Lead>;
    async fn list_leads(&self, filter: &LeadFilter, scope: &Scope, page: PageRequest) -> Result<Page<Lead>>;
    /// Leads, contacts and accounts within `scope` that share a normalised email, phone or company name.
    async fn find_duplicates(
        &self,
        keys: &DuplicateKeys,
        except_lead: Option<LeadId>,
        scope: &Scope,
    ) -> Result<Vec<Duplicate>>;
    /// Account (created or matched), contact and deal from a qualified lead, in one transaction.
    async fn convert_lead(
        &self,
        id: LeadId,
        req: &ConvertLead,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Conversion>;

    // Deals and their event log.
    async fn create_deal(&self, new: &NewDeal, actor: &Actor, now: DateTime<Utc>) -> Result<Deal>;
    async fn deal(&self, id: DealId) -> Result<Deal>;
    async fn list_deals(&self, filter: &DealFilter, scope: &Scope, page: PageRequest) -> Result<Page<DealSummary>>;
    /// Count and sums of the deals `list_deals` would show for the same filter and scope.
    async fn deal_totals(&self, filter: &DealFilter, scope: &Scope) -> Result<DealTotals>;
    /// The same totals per node the deals are in, in one query: one row per `current_node`
    /// present among the deals `list_deals` would show (sorted by node id), each summed exactly
    /// like `deal_totals` with the filter narrowed to that stage.
    async fn stage_totals(&self, filter: &DealFilter, scope: &Scope) -> Result<Vec<StageTotals>>;
    async fn update_deal(&self, id: DealId, patch: &DealPatch, actor: &Actor, now: DateTime<Utc>) -> Result<Deal>;
    /// Gate check and event append, or nothing at all.
    async fn move_deal(
        &self,
        id: DealId,
        req: &MoveRequest,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(Deal, DealEvent)>;
    async fn toggle_step(&self, id: DealId, toggle: &StepToggle, actor: &Actor, now: DateTime<Utc>) -> Result<Deal>;
    async fn deal_events(&self, id: DealId) -> Result<Vec<DealEvent>>;
    /// The facts of a process's deals within the scope, by ascending deal id: at most `limit`
    /// deals after `after`.
    async fn deal_facts(
        &self,
        process: ProcessId,
        scope: &Scope,
        after: Option<DealId>,
        limit: u32,
    ) -> Result<Vec<DealFacts>>;
    /// The stage entries of these deals of a process, by deal and in order: creations, moves,
    /// and migrations onto a stage with another id. The caller has already limited `deals` to
    /// those it may read.
    async fn stage_entries_of(&self, process: ProcessId, deals: &[DealId]) -> Result<Vec<StageEntry>>;
    /// The events, of every process, whose id is above `after` or one of `also` (ids a reader
    /// found missing before: a transaction still writing them, or one rolled back), by id.
    async fn events_since(&self, after: i64, also: &[i64]) -> Result<Vec<EventMark>>;

    // Selling: needs, catalog, quotes, contracts. Every change appends its notes to the deal's
    // event log in the same transaction.
    async fn needs(&self, deal: DealId) -> Result<Option<NeedsAnalysis>>;
    /// Creates (input without version) or replaces (with the version read) the analysis.
    async fn save_needs(
        &self,
        deal: DealId,
        input: &NeedsInput,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<NeedsAnalysis>;
    async fn create_product(&self, new: &NewProduct, now: DateTime<Utc>) -> Result<Product>;
    /// Every product, by SKU.
    async fn list_products(&self) -> Result<Vec<Product>>;
    /// The deal's quote versions, oldest first.
    async fn quotes(&self, deal: DealId) -> Result<Vec<Quote>>;
    async fn quote_by_token(&self, token_hash: &str) -> Result<Option<Quote>>;
    /// Writes the versions (each at the version read, else `Conflict` and nothing written).
    async fn save_quotes(&self, write: &QuoteWrite, actor: &Actor, now: DateTime<Utc>) -> Result<Vec<Quote>>;
    /// The deal's contracts, oldest first.
    async fn contracts(&self, deal: DealId) -> Result<Vec<Contract>>;
    /// Inserts (`read_version` absent) or updates a contract at the version read.
    async fn save_contract(
        &self,
        contract: &Contract,
        read_version: Option<i64>,
        notes: &[DealNote],
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Contract>;
    /// The deal's objections, oldest first.
    async fn objections(&self, deal: DealId) -> Result<Vec<Objection>>;
    /// Inserts (`read_version` absent) or updates an objection, with its note in the deal's log.
    async fn save_objection(
        &self,
        objection: &Objection,
        read_version: Option<i64>,
        note: &DealNote,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Objection>;
    async fn playbook(&self, process: ProcessId, stage: &str) -> Result<Option<Playbook>>;
    /// Inserts (`read_version` absent) or replaces a stage's playbook at the version read.
    async fn save_playbook(&self, playbook: &Playbook, read_version: Option<i64>) -> Result<Playbook>;
    /// Every price book, by name.
    async fn price_books(&self) -> Result<Vec<PriceBook>>;
    /// Inserts (`version` absent) or replaces a price book at the version it carries; the
    /// stored book with its new version.
    async fn save_price_book(&self, book: &PriceBook) -> Result<PriceBook>;
    /// Appends notes to a deal's event log (the customer opened a quote).
    async fn note_deal(&self, deal: DealId, notes: &[DealNote], actor: &Actor, now: DateTime<Utc>) -> Result<()>;

    // Bulk history.
    async fn max_ids(&self) -> Result<MaxIds>;
    /// Writes a batch of history with preassigned ids in one transaction.
    async fn import_history(&self, batch: &HistoryBatch) -> Result<()>;
    /// Brings id sequences and statistics up to date after bulk writes.
    async fn finish_import(&self) -> Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::currency::{Currency, Money};

    #[test]
    fn totals_rows_fold_per_node_and_currency_and_round_once() {
        let row = |node: &str, currency: Option<&str>, count, amount, weighted| -> TotalsRow {
            (node.into(), currency.map(str::to_string), count, amount, weighted)
        };
        let folded = StageTotals::fold([
            // The same node and currency from two queries (own deals, shared deals).
            row("b", Some("CNY"), 1, Some(10_001), Some(500_050)),
            row("b", Some("CNY"), 1, Some(10_001), Some(500_050)),
            row("b", None, 2, None, None),
            row("a", Some("USD"), 1, Some(300), Some(7_500)),
            row("a", Some("CNY"), 1, Some(100), Some(1_000)),
            row("c", Some("CNY"), 0, Some(0), Some(0)),
        ])
        .unwrap();
        let cny = |minor| Money { minor, currency: Currency::CNY };
        let usd = |minor| Money { minor, currency: Currency::USD };
        assert_eq!(
            folded,
            vec![
                StageTotals {
                    node: "a".into(),
                    totals: DealTotals {
                        count: 2,
                        amount: vec![cny(100), usd(300)],
                        weighted_amount: vec![cny(10), usd(75)]
                    },
                },
                // 2 × 10,001 at 50 %: 10,001 once per total, not 10,000 from rounding each deal.
                StageTotals {
                    node: "b".into(),
                    totals: DealTotals { count: 4, amount: vec![cny(20_002)], weighted_amount: vec![cny(10_001)] },
                },
            ],
            "node c had no deals left"
        );
        assert!(StageTotals::fold([row("a", Some("XXQ"), 1, Some(1), Some(1))]).is_err(), "a bad stored code");
        assert_eq!(DealTotals::fold([]).unwrap(), DealTotals::default());
    }
}
