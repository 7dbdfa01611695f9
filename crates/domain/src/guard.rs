//! The store as one caller may use it: every record read is checked against the caller's
//! [`Scope`], every write also against their write reach, and every change lands in the audit
//! log with its old and new values. Handlers reach records only through [`Guarded`], so no
//! endpoint can forget a check.
//!
//! A record outside the caller's reach is `NotFound`, never `Forbidden`, so that its existence
//! does not leak; the refused attempt is still audited.

mod selling;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::access::Scope;
use crate::error::{Error, Result};
use crate::ids::*;
use crate::migration::{self, MigrationRequest, MigrationSummary};
use crate::process::ProcessDefinition;
use crate::records::*;
use crate::store::{Conversion, DealFacts, DealSummary, DealTotals, ProcessVersion, StageEntry, StageTotals, Store};

/// Where a request came from, for the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub address: String,
}

pub use selling::{
    CustomerAnswer, CustomerDesk, CustomerQuote, DiscountAction, ProductQuantity, QuoteEdit, QuoteFromProducts,
    SendMove, Sending,
};

pub struct Guarded<'a> {
    store: &'a dyn Store,
    scope: &'a Scope,
    origin: &'a Origin,
}

fn json<T: Serialize>(value: &T) -> Option<serde_json::Value> {
    serde_json::to_value(value).ok()
}

/// A version named in a request body that does not exist is a problem with that field.
fn field(name: &str, e: Error) -> Error {
    match e {
        Error::NotFound { .. } => Error::invalid(name, e.to_string()),
        other => other,
    }
}

impl<'a> Guarded<'a> {
    pub fn new(store: &'a dyn Store, scope: &'a Scope, origin: &'a Origin) -> Self {
        Self { store, scope, origin }
    }

    pub fn scope(&self) -> &Scope {
        self.scope
    }

    pub fn actor(&self) -> Actor {
        Actor { user: self.scope.user, role: self.scope.role }
    }

    /// Appends to the audit log as the caller.
    pub async fn audit(
        &self,
        action: AuditAction,
        (subject_kind, subject_id): (&str, Option<i64>),
        detail: impl Into<String>,
        old_value: Option<serde_json::Value>,
        new_value: Option<serde_json::Value>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.store
            .append_audit(&NewAuditEntry {
                at: now,
                actor_id: Some(self.scope.user),
                action,
                subject_kind: subject_kind.into(),
                subject_id,
                address: self.origin.address.clone(),
                detail: detail.into(),
                old_value,
                new_value,
            })
            .await
    }

    /// Audits a refusal and passes it on.
    async fn denied<T>(&self, kind: &str, id: Option<i64>, error: Error, now: DateTime<Utc>) -> Result<T> {
        self.audit(AuditAction::Denied, (kind, id), error.to_string(), None, None, now).await?;
        Err(error)
    }

    async fn shared(&self, kind: RecordKind, id: i64) -> Result<bool> {
        self.store.is_shared(kind, id, self.scope.user).await
    }

    /// `Ok` when the caller may read a record owned by `owner`; otherwise `NotFound`, audited.
    async fn check_read(&self, kind: RecordKind, id: i64, owner: UserId, now: DateTime<Utc>) -> Result<()> {
        if self.scope.can_read(owner, false) || self.shared(kind, id).await? {
            return Ok(());
        }
        self.hidden(kind, id, now).await
    }

    /// Read access first (so an unreachable record is `NotFound`), then write access. A record
    /// whose owner the caller's write reach covers needs no look at its shares.
    async fn check_write(&self, kind: RecordKind, id: i64, owner: UserId, now: DateTime<Utc>) -> Result<()> {
        if self.scope.can_write(owner, false) {
            return Ok(());
        }
        let shared = self.shared(kind, id).await?;
        if !(self.scope.can_read(owner, false) || shared) {
            return self.hidden(kind, id, now).await;
        }
        if self.scope.can_write(owner, shared) {
            return Ok(());
        }
        let error = Error::Forbidden(format!("{} {id} may be read but not changed by this user", kind.as_str()));
        self.denied(kind.as_str(), Some(id), error, now).await
    }

    /// Audits a look at a record outside the caller's reach and answers as if it did not exist.
    async fn hidden(&self, kind: RecordKind, id: i64, now: DateTime<Utc>) -> Result<()> {
        let entity = kind.as_str();
        let detail = format!("read of {entity} {id} outside the caller's reach");
        self.audit(AuditAction::Denied, (entity, Some(id)), detail, None, None, now).await?;
        Err(Error::NotFound { entity, id: id.to_string() })
    }

    /// The owner a new or reassigned record gets must be within the caller's write reach and active.
    async fn check_owner(&self, kind: RecordKind, owner: UserId, now: DateTime<Utc>) -> Result<()> {
        if let Err(e) = self.scope.require_writer() {
            return self.denied(kind.as_str(), None, e, now).await;
        }
        if !self.scope.can_assign_to(owner) {
            let e = Error::Forbidden(format!("this user may not give a {} to user {owner}", kind.as_str()));
            return self.denied(kind.as_str(), None, e, now).await;
        }
        if owner == self.scope.user {
            // The caller is active: they are signed in.
            return Ok(());
        }
        self.active_user("owner_id", owner).await
    }

    /// `user`, named by `field`, must exist and be active.
    async fn active_user(&self, field: &str, user: UserId) -> Result<()> {
        match self.store.user(user).await {
            Ok(u) if u.active => Ok(()),
            Ok(_) => Err(Error::invalid(field, format!("user {user} is deactivated"))),
            Err(Error::NotFound { .. }) => Err(Error::invalid(field, format!("user {user} does not exist"))),
            Err(e) => Err(e),
        }
    }

    /// A record referenced by another (a deal's account) must be readable; otherwise the
    /// reference is invalid, named by its field.
    async fn check_reference(&self, field: &str, kind: RecordKind, id: i64, owner: UserId) -> Result<()> {
        if self.scope.can_read(owner, false) || self.shared(kind, id).await? {
            return Ok(());
        }
        Err(Error::invalid(field, format!("{} {id} does not exist", kind.as_str())))
    }

    async fn check_account_ref(&self, field: &str, id: AccountId) -> Result<()> {
        match self.store.account(id).await {
            Ok(a) => self.check_reference(field, RecordKind::Account, id.0, a.owner_id).await,
            Err(Error::NotFound { .. }) => Err(Error::invalid(field, format!("account {id} does not exist"))),
            Err(e) => Err(e),
        }
    }

    async fn check_contact_ref(&self, field: &str, id: ContactId) -> Result<()> {
        match self.store.contact(id).await {
            Ok(c) => self.check_reference(field, RecordKind::Contact, id.0, c.owner_id).await,
            Err(Error::NotFound { .. }) => Err(Error::invalid(field, format!("contact {id} does not exist"))),
            Err(e) => Err(e),
        }
    }

    // ---------------------------------------------------------------------------------------
    // Accounts

    pub async fn create_account(&self, new: &NewAccount, now: DateTime<Utc>) -> Result<Account> {
        let owner = new.owner_id.unwrap_or(self.scope.user);
        self.check_owner(RecordKind::Account, owner, now).await?;
        let account = self.store.create_account(new, owner, now).await?;
        self.audit(AuditAction::Create, ("account", Some(account.id.0)), "", None, json(&account), now).await?;
        Ok(account)
    }

    pub async fn account(&self, id: AccountId, now: DateTime<Utc>) -> Result<Account> {
        let account = self.store.account(id).await?;
        self.check_read(RecordKind::Account, id.0, account.owner_id, now).await?;
        Ok(account)
    }

    pub async fn update_account(&self, id: AccountId, patch: &AccountPatch, now: DateTime<Utc>) -> Result<Account> {
        let old = self.store.account(id).await?;
        self.check_write(RecordKind::Account, id.0, old.owner_id, now).await?;
        if let Some(owner) = patch.owner_id.filter(|o| *o != old.owner_id) {
            self.check_owner(RecordKind::Account, owner, now).await?;
        }
        let new = self.store.update_account(id, patch, now).await?;
        self.audit(AuditAction::Update, ("account", Some(id.0)), "", json(&old), json(&new), now).await?;
        Ok(new)
    }

    pub async fn list_accounts(&self, filter: &AccountFilter, page: PageRequest) -> Result<Page<Account>> {
        self.store.list_accounts(filter, self.scope, page).await
    }

    // ---------------------------------------------------------------------------------------
    // Contacts

    pub async fn create_contact(&self, new: &NewContact, now: DateTime<Utc>) -> Result<Contact> {
        let owner = new.owner_id.unwrap_or(self.scope.user);
        self.check_owner(RecordKind::Contact, owner, now).await?;
        if let Some(account) = new.account_id {
            self.check_account_ref("account_id", account).await?;
        }
        let contact = self.store.create_contact(new, owner, now).await?;
        self.audit(AuditAction::Create, ("contact", Some(contact.id.0)), "", None, json(&contact), now).await?;
        Ok(contact)
    }

    pub async fn contact(&self, id: ContactId, now: DateTime<Utc>) -> Result<Contact> {
        let contact = self.store.contact(id).await?;
        self.check_read(RecordKind::Contact, id.0, contact.owner_id, now).await?;
        Ok(contact)
    }

    pub async fn update_contact(&self, id: ContactId, patch: &ContactPatch, now: DateTime<Utc>) -> Result<Contact> {
        let old = self.store.contact(id).await?;
        self.check_write(RecordKind::Contact, id.0, old.owner_id, now).await?;
        if let Some(owner) = patch.owner_id.filter(|o| *o != old.owner_id) {
            self.check_owner(RecordKind::Contact, owner, now).await?;
        }
        if let Some(Some(account)) = patch.account_id {
            self.check_account_ref("account_id", account).await?;
        }
        let new = self.store.update_contact(id, patch, now).await?;
        self.audit(AuditAction::Update, ("contact", Some(id.0)), "", json(&old), json(&new), now).await?;
        Ok(new)
    }

    pub async fn list_contacts(&self, filter: &ContactFilter, page: PageRequest) -> Result<Page<Contact>> {
        self.store.list_contacts(filter, self.scope, page).await
    }

    // ---------------------------------------------------------------------------------------
    // Leads

    pub async fn create_lead(&self, new: &NewLead, now: DateTime<Utc>) -> Result<Lead> {
        let owner = new.owner_id.unwrap_or(self.scope.user);
        self.check_owner(RecordKind::Lead, owner, now).await?;
        let lead = self.store.create_lead(new, owner, now).await?;
        self.audit(AuditAction::Create, ("lead", Some(lead.id.0)), "", None, json(&lead), now).await?;
        Ok(lead)
    }

    pub async fn lead(&self, id: LeadId, now: DateTime<Utc>) -> Result<Lead> {
        let lead = self.store.lead(id).await?;
        self.check_read(RecordKind::Lead, id.0, lead.owner_id, now).await?;
        Ok(lead)
    }

    pub async fn update_lead(&self, id: LeadId, patch: &LeadPatch, now: DateTime<Utc>) -> Result<Lead> {
        let old = self.store.lead(id).await?;
        self.check_write(RecordKind::Lead, id.0, old.owner_id, now).await?;
        if let Some(owner) = patch.owner_id.filter(|o| *o != old.owner_id) {
            self.check_owner(RecordKind::Lead, owner, now).await?;
        }
        let new = self.store.update_lead(id, patch, now).await?;
        self.audit(AuditAction::Update, ("lead", Some(id.0)), "", json(&old), json(&new), now).await?;
        Ok(new)
    }

    pub async fn set_lead_status(
        &self,
        id: LeadId,
        to: LeadStatus,
        q: &Qualification,
        now: DateTime<Utc>,
    ) -> Result<Lead> {
        let old = self.store.lead(id).await?;
        self.check_write(RecordKind::Lead, id.0, old.owner_id, now).await?;
        let new = self.store.set_lead_status(id, to, q, now).await?;
        let detail = format!("{} → {}", old.status.as_str(), new.status.as_str());
        self.audit(AuditAction::Transition, ("lead", Some(id.0)), detail, json(&old), json(&new), now).await?;
        Ok(new)
    }

    pub async fn list_leads(&self, filter: &LeadFilter, page: PageRequest) -> Result<Page<Lead>> {
        self.store.list_leads(filter, self.scope, page).await
    }

    /// Duplicates among the records the caller can read.
    pub async fn lead_duplicates(&self, id: LeadId, now: DateTime<Utc>) -> Result<Vec<Duplicate>> {
        let lead = self.lead(id, now).await?;
        self.store.find_duplicates(&lead.duplicate_keys(), Some(id), self.scope).await
    }

    pub async fn find_duplicates(&self, keys: &DuplicateKeys) -> Result<Vec<Duplicate>> {
        self.store.find_duplicates(keys, None, self.scope).await
    }

    pub async fn convert_lead(&self, id: LeadId, req: &ConvertLead, now: DateTime<Utc>) -> Result<Conversion> {
        let old = self.store.lead(id).await?;
        self.check_write(RecordKind::Lead, id.0, old.owner_id, now).await?;
        if let Some(account) = req.account_id {
            self.check_account_ref("account_id", account).await?;
        }
        if let Some(contact) = req.contact_id {
            self.check_contact_ref("contact_id", contact).await?;
        }
        let conversion = self.store.convert_lead(id, req, &self.actor(), now).await?;
        let detail = format!(
            "converted to account {}, contact {}, deal {}",
            conversion.account.id, conversion.contact.id, conversion.deal.id
        );
        self.audit(AuditAction::Transition, ("lead", Some(id.0)), detail, json(&old), json(&conversion), now).await?;
        Ok(conversion)
    }

    // ---------------------------------------------------------------------------------------
    // Deals

    pub async fn create_deal(&self, new: &NewDeal, now: DateTime<Utc>) -> Result<Deal> {
        let owner = new.owner_id.unwrap_or(self.scope.user);
        self.check_owner(RecordKind::Deal, owner, now).await?;
        self.check_account_ref("account_id", new.account_id).await?;
        for (i, c) in new.contact_ids.iter().enumerate() {
            self.check_contact_ref(&format!("contact_ids[{i}]"), *c).await?;
        }
        let deal = self.store.create_deal(new, &self.actor(), now).await?;
        self.audit(AuditAction::Create, ("deal", Some(deal.id.0)), "", None, json(&deal), now).await?;
        Ok(deal)
    }

    pub async fn deal(&self, id: DealId, now: DateTime<Utc>) -> Result<Deal> {
        let deal = self.store.deal(id).await?;
        self.check_read(RecordKind::Deal, id.0, deal.owner_id, now).await?;
        Ok(deal)
    }

    pub async fn list_deals(&self, filter: &DealFilter, page: PageRequest) -> Result<Page<DealSummary>> {
        self.store.list_deals(filter, self.scope, page).await
    }

    pub async fn deal_totals(&self, filter: &DealFilter) -> Result<DealTotals> {
        self.store.deal_totals(filter, self.scope).await
    }

    /// Totals per node of the deals the caller can read (a board's column headers).
    pub async fn stage_totals(&self, filter: &DealFilter) -> Result<Vec<StageTotals>> {
        self.store.stage_totals(filter, self.scope).await
    }

    pub async fn update_deal(&self, id: DealId, patch: &DealPatch, now: DateTime<Utc>) -> Result<Deal> {
        let old = self.store.deal(id).await?;
        self.check_write(RecordKind::Deal, id.0, old.owner_id, now).await?;
        if let Some(owner) = patch.owner_id.filter(|o| *o != old.owner_id) {
            self.check_owner(RecordKind::Deal, owner, now).await?;
        }
        if let Some(contacts) = &patch.contact_ids {
            for (i, c) in contacts.iter().enumerate() {
                self.check_contact_ref(&format!("contact_ids[{i}]"), *c).await?;
            }
        }
        let new = self.store.update_deal(id, patch, &self.actor(), now).await?;
        self.audit(AuditAction::Update, ("deal", Some(id.0)), "", json(&old), json(&new), now).await?;
        Ok(new)
    }

    pub async fn move_deal(&self, id: DealId, req: &MoveRequest, now: DateTime<Utc>) -> Result<(Deal, DealEvent)> {
        let old = self.store.deal(id).await?;
        self.check_write(RecordKind::Deal, id.0, old.owner_id, now).await?;
        let (deal, event) = self.store.move_deal(id, req, &self.actor(), now).await?;
        let detail = format!("{} → {}", old.current_node, deal.current_node);
        self.audit(AuditAction::Move, ("deal", Some(id.0)), detail, json(&old), json(&event), now).await?;
        Ok((deal, event))
    }

    pub async fn toggle_step(&self, id: DealId, toggle: &StepToggle, now: DateTime<Utc>) -> Result<Deal> {
        let old = self.store.deal(id).await?;
        self.check_write(RecordKind::Deal, id.0, old.owner_id, now).await?;
        let deal = self.store.toggle_step(id, toggle, &self.actor(), now).await?;
        self.audit(AuditAction::Transition, ("deal", Some(id.0)), "step", None, json(toggle), now).await?;
        Ok(deal)
    }

    pub async fn deal_events(&self, id: DealId, now: DateTime<Utc>) -> Result<Vec<DealEvent>> {
        self.deal(id, now).await?;
        self.store.deal_events(id).await
    }

    /// The next page of a process's deals that the caller can read (up to `limit` deals with
    /// ascending ids after `after`), those `keep` selects, with their stage entries. Also
    /// returns the last deal id read, to pass as `after` next (`None` at the end).
    pub async fn event_log_page(
        &self,
        process: ProcessId,
        after: Option<DealId>,
        limit: u32,
        keep: impl Fn(&DealFacts) -> bool,
    ) -> Result<(Vec<DealFacts>, Vec<StageEntry>, Option<DealId>)> {
        let facts = self.store.deal_facts(process, self.scope, after, limit).await?;
        let last = (facts.len() == limit as usize).then(|| facts.last().map(|f| f.deal_id)).flatten();
        let facts: Vec<DealFacts> = facts.into_iter().filter(|f| keep(f)).collect();
        let ids: Vec<DealId> = facts.iter().map(|f| f.deal_id).collect();
        let entries = if ids.is_empty() { Vec::new() } else { self.store.stage_entries_of(process, &ids).await? };
        Ok((facts, entries, last))
    }

    /// Brings in past deals of `version` from an event log, all of them or none: every bad row
    /// is reported (field `rows[<line>].<field>`). Deals without an owner go to the caller;
    /// named owners must be within the caller's write reach. Returns the deals and events
    /// written.
    pub async fn import_history(
        &self,
        version: &ProcessVersion,
        rows: Vec<crate::history::HistoryRow>,
        cases: &std::collections::BTreeMap<String, crate::history::HistoryCase>,
        now: DateTime<Utc>,
    ) -> Result<(usize, usize)> {
        if let Err(e) = self.scope.require_writer() {
            return self.denied("deal", None, e, now).await;
        }
        let users = self.store.list_users().await?;
        let start = self.store.max_ids().await?;
        let may_own = |u: &User| self.scope.can_assign_to(u.id);
        // Cases naming an account the caller can read join it (matched as lead conversion
        // matches: by normalised company name); other names make new accounts.
        let mut known_accounts = std::collections::BTreeMap::new();
        let names: std::collections::BTreeSet<&str> =
            cases.values().filter_map(|c| c.account.as_deref()).filter(|a| !a.trim().is_empty()).collect();
        for name in names {
            if let Some(a) = self.store.account_named(name).await?
                && self.scope.can_read(a.owner_id, false)
            {
                known_accounts.insert(name.to_string(), a.id);
            }
        }
        let importer = crate::history::Importer {
            users: &users,
            default_owner: self.scope.user,
            may_own: &may_own,
            known_accounts: &known_accounts,
        };
        let batch = crate::history::plan(version, rows, cases, &importer, start, now).map_err(|errors| {
            Error::Invalid(
                errors
                    .into_iter()
                    .map(|e| crate::FieldError::new(format!("rows[{}].{}", e.line, e.field), e.message))
                    .collect(),
            )
        })?;
        self.store.import_history(&batch).await?;
        self.store.finish_import().await?;
        let (deals, events) = (batch.deals.len(), batch.events.len());
        let detail = format!("imported {deals} past deals ({events} events) into version {}", version.version);
        self.audit(AuditAction::Create, ("process", Some(version.process_id.0)), detail, None, None, now).await?;
        Ok((deals, events))
    }

    // ---------------------------------------------------------------------------------------
    // Processes: everyone reads them, admins and managers change them.

    pub async fn create_process(&self, definition: &ProcessDefinition, now: DateTime<Utc>) -> Result<ProcessVersion> {
        self.editor("process", now).await?;
        let v = self.store.create_process(definition, now).await?;
        self.audit(AuditAction::Create, ("process", Some(v.process_id.0)), definition.key.clone(), None, None, now)
            .await?;
        Ok(v)
    }

    pub async fn save_draft(
        &self,
        id: ProcessId,
        version: i32,
        definition: &ProcessDefinition,
        now: DateTime<Utc>,
    ) -> Result<ProcessVersion> {
        self.editor("process", now).await?;
        // A draft saved from the editor must stay a valid process: every problem is named, and
        // nothing is stored.
        let issues = definition.validate();
        if !issues.is_empty() {
            return Err(Error::ProcessInvalid(issues));
        }
        let v = self.store.save_draft(id, version, definition, now).await?;
        self.audit(AuditAction::Update, ("process", Some(id.0)), format!("draft version {version}"), None, None, now)
            .await?;
        Ok(v)
    }

    pub async fn new_draft(
        &self,
        id: ProcessId,
        definition: &ProcessDefinition,
        now: DateTime<Utc>,
    ) -> Result<ProcessVersion> {
        self.editor("process", now).await?;
        let v = self.store.new_draft(id, definition, now).await?;
        let detail = format!("new draft version {}", v.version);
        self.audit(AuditAction::Create, ("process", Some(id.0)), detail, None, None, now).await?;
        Ok(v)
    }

    pub async fn publish(&self, id: ProcessId, version: i32, now: DateTime<Utc>) -> Result<ProcessVersion> {
        self.editor("process", now).await?;
        let v = self.store.publish(id, version, now).await?;
        let detail = format!("published version {version}");
        self.audit(AuditAction::Transition, ("process", Some(id.0)), detail, None, None, now).await?;
        Ok(v)
    }

    pub async fn retire(&self, id: ProcessId, version: i32, now: DateTime<Utc>) -> Result<ProcessVersion> {
        self.editor("process", now).await?;
        let v = self.store.retire(id, version, now).await?;
        let detail = format!("retired version {version}");
        self.audit(AuditAction::Transition, ("process", Some(id.0)), detail, None, None, now).await?;
        Ok(v)
    }

    /// What moving the open deals of one version to another would do. Admins only: it names
    /// deals of every team, which a manager may not all read.
    pub async fn preview_migration(
        &self,
        id: ProcessId,
        req: &MigrationRequest,
        now: DateTime<Utc>,
    ) -> Result<MigrationSummary> {
        self.require_admin("migrate deals between process versions", "process", Some(id.0), now).await?;
        let from = self.store.process_version(id, req.from_version).await.map_err(|e| field("from_version", e))?;
        let to = self.store.process_version(id, req.to_version).await.map_err(|e| field("to_version", e))?;
        let mapping = migration::completed(&from.definition, &to.definition, &req.mapping);
        let deals = self.store.open_deals_on(id, req.from_version).await?;
        Ok(migration::plan(&from, &to, &mapping, &deals, now)?.1)
    }

    /// Moves every open deal of a version, across teams: an admin action, audited once with
    /// the mapping (each deal also gets its own `migrated` event).
    pub async fn migrate_deals(
        &self,
        id: ProcessId,
        req: &MigrationRequest,
        now: DateTime<Utc>,
    ) -> Result<MigrationSummary> {
        self.require_admin("migrate deals between process versions", "process", Some(id.0), now).await?;
        self.store.process_version(id, req.from_version).await.map_err(|e| field("from_version", e))?;
        self.store.process_version(id, req.to_version).await.map_err(|e| field("to_version", e))?;
        let summary = self.store.migrate_deals(id, req, &self.actor(), now).await?;
        let detail = format!(
            "migrated {} open deals from version {} to {}",
            summary.deals, summary.from_version, summary.to_version
        );
        self.audit(AuditAction::Transition, ("process", Some(id.0)), detail, None, json(&summary.mapping), now).await?;
        Ok(summary)
    }

    async fn editor(&self, kind: &str, now: DateTime<Utc>) -> Result<()> {
        match self.scope.require_process_editor() {
            Ok(()) => Ok(()),
            Err(e) => self.denied(kind, None, e, now).await,
        }
    }

    // ---------------------------------------------------------------------------------------
    // Shares: whoever may change a record may open it to another user.

    async fn owner_of(&self, kind: RecordKind, id: i64) -> Result<UserId> {
        Ok(match kind {
            RecordKind::Account => self.store.account(AccountId(id)).await?.owner_id,
            RecordKind::Contact => self.store.contact(ContactId(id)).await?.owner_id,
            RecordKind::Lead => self.store.lead(LeadId(id)).await?.owner_id,
            RecordKind::Deal => self.store.deal(DealId(id)).await?.owner_id,
        })
    }

    pub async fn shares(&self, kind: RecordKind, id: i64, now: DateTime<Utc>) -> Result<Vec<Share>> {
        let owner = self.owner_of(kind, id).await?;
        self.check_read(kind, id, owner, now).await?;
        self.store.shares(kind, id).await
    }

    pub async fn share(&self, kind: RecordKind, id: i64, with: UserId, now: DateTime<Utc>) -> Result<Share> {
        let owner = self.owner_of(kind, id).await?;
        self.check_write(kind, id, owner, now).await?;
        self.active_user("user_id", with).await?;
        let share =
            Share { record_kind: kind, record_id: id, user_id: with, shared_by: self.scope.user, created_at: now };
        self.store.share(&share).await?;
        let detail = format!("{} {id} shared with user {with}", kind.as_str());
        self.audit(AuditAction::PermissionChanged, (kind.as_str(), Some(id)), detail, None, json(&share), now).await?;
        Ok(share)
    }

    pub async fn unshare(&self, kind: RecordKind, id: i64, with: UserId, now: DateTime<Utc>) -> Result<()> {
        let owner = self.owner_of(kind, id).await?;
        self.check_write(kind, id, owner, now).await?;
        if !self.store.unshare(kind, id, with).await? {
            return Err(Error::not_found("share", format!("{} {id} with user {with}", kind.as_str())));
        }
        let detail = format!("{} {id} no longer shared with user {with}", kind.as_str());
        self.audit(AuditAction::PermissionChanged, (kind.as_str(), Some(id)), detail, None, None, now).await
    }
}

/// People, teams, tokens and the audit log: what only admins (or the user themself) may do.
impl Guarded<'_> {
    /// Refuses (and audits) anyone but an admin.
    pub async fn require_admin(&self, what: &str, kind: &str, id: Option<i64>, now: DateTime<Utc>) -> Result<()> {
        match self.scope.require_admin(what) {
            Ok(()) => Ok(()),
            Err(e) => self.denied(kind, id, e, now).await,
        }
    }

    pub async fn users(&self) -> Result<Vec<User>> {
        self.store.list_users().await
    }

    pub async fn user(&self, id: UserId) -> Result<User> {
        self.store.user(id).await
    }

    /// `new.password_hash` is already hashed by the caller.
    pub async fn create_user(&self, new: &NewUser, now: DateTime<Utc>) -> Result<User> {
        self.require_admin("create users", "user", None, now).await?;
        let user = self.store.create_user(new, now).await?;
        self.audit(AuditAction::Create, ("user", Some(user.id.0)), "", None, json(&user), now).await?;
        Ok(user)
    }

    /// Admins change anything; a user changes their own name, language and time zone.
    /// Returns the user before and after.
    pub async fn update_user(&self, id: UserId, patch: &UserPatch, now: DateTime<Utc>) -> Result<(User, User)> {
        let own_details = id == self.scope.user && patch.role.is_none() && patch.active.is_none();
        if !own_details {
            let what = if patch.role.is_some() { "change roles" } else { "change other users" };
            self.require_admin(what, "user", Some(id.0), now).await?;
        }
        if id == self.scope.user && patch.active == Some(false) {
            return Err(Error::invalid("active", "an admin cannot deactivate themself"));
        }
        if id == self.scope.user && patch.role.is_some_and(|r| r != self.scope.role) {
            return Err(Error::invalid("role", "an admin cannot change their own role"));
        }
        let old = self.store.user(id).await?;
        let new = self.store.update_user(id, patch, now).await?;
        let action = if old.role != new.role || old.active != new.active {
            AuditAction::PermissionChanged
        } else {
            AuditAction::Update
        };
        self.audit(action, ("user", Some(id.0)), "", json(&old), json(&new), now).await?;
        if !new.active {
            self.store.delete_sessions_of(id).await?;
        }
        Ok((old, new))
    }

    /// An admin resets anyone's password; users change their own (the caller has checked
    /// their current password). Every session of the user ends.
    pub async fn set_password(&self, id: UserId, hash: &str, now: DateTime<Utc>) -> Result<()> {
        if id != self.scope.user {
            self.require_admin("reset passwords", "user", Some(id.0), now).await?;
        }
        self.store.set_password_hash(id, hash, now).await?;
        self.store.delete_sessions_of(id).await?;
        let detail = if id == self.scope.user { "changed by the user" } else { "reset by an admin" };
        self.audit(AuditAction::PasswordChanged, ("user", Some(id.0)), detail, None, None, now).await
    }

    pub async fn teams(&self) -> Result<Vec<Team>> {
        self.store.list_teams().await
    }

    pub async fn team(&self, id: TeamId) -> Result<Team> {
        self.store.team(id).await
    }

    pub async fn create_team(&self, new: &NewTeam, now: DateTime<Utc>) -> Result<Team> {
        self.require_admin("create teams", "team", None, now).await?;
        let team = self.store.create_team(new, now).await?;
        self.audit(AuditAction::PermissionChanged, ("team", Some(team.id.0)), "created", None, json(&team), now)
            .await?;
        Ok(team)
    }

    pub async fn update_team(&self, id: TeamId, patch: &TeamPatch, now: DateTime<Utc>) -> Result<Team> {
        self.require_admin("change teams", "team", Some(id.0), now).await?;
        let old = self.store.team(id).await?;
        let new = self.store.update_team(id, patch, now).await?;
        self.audit(AuditAction::PermissionChanged, ("team", Some(id.0)), "changed", json(&old), json(&new), now)
            .await?;
        Ok(new)
    }

    pub async fn delete_team(&self, id: TeamId, now: DateTime<Utc>) -> Result<()> {
        self.require_admin("delete teams", "team", Some(id.0), now).await?;
        let old = self.store.team(id).await?;
        self.store.delete_team(id).await?;
        self.audit(AuditAction::PermissionChanged, ("team", Some(id.0)), "deleted", json(&old), None, now).await
    }

    /// A token for the caller themself.
    pub async fn create_token(&self, new: &NewApiToken, now: DateTime<Utc>) -> Result<ApiToken> {
        if new.user_id != self.scope.user {
            return Err(Error::Forbidden("tokens are created by their own user".into()));
        }
        if let Some(end) = new.expires_at
            && end <= now
        {
            return Err(Error::invalid("expires_at", "must be in the future"));
        }
        let label = new.label.trim();
        if label.is_empty() || label.chars().count() > 200 {
            return Err(Error::invalid("label", "is required, at most 200 characters"));
        }
        let token = self.store.create_api_token(&NewApiToken { label: label.into(), ..new.clone() }, now).await?;
        self.audit(
            AuditAction::TokenCreated,
            ("api_token", Some(token.id.0)),
            token.label.clone(),
            None,
            json(&token),
            now,
        )
        .await?;
        Ok(token)
    }

    /// The caller's tokens; an admin may ask for everyone's.
    pub async fn tokens(&self, everyone: bool, now: DateTime<Utc>) -> Result<Vec<ApiToken>> {
        if everyone {
            self.require_admin("list every user's tokens", "api_token", None, now).await?;
            return self.store.list_api_tokens(None).await;
        }
        self.store.list_api_tokens(Some(self.scope.user)).await
    }

    /// Revokes one of the caller's tokens, or any token for an admin.
    pub async fn revoke_token(&self, id: TokenId, now: DateTime<Utc>) -> Result<ApiToken> {
        let token = self.store.api_token(id).await?;
        if token.user_id != self.scope.user && !self.scope.is_admin() {
            return Err(Error::not_found("api_token", id));
        }
        let token = self.store.revoke_api_token(id, now).await?;
        self.audit(AuditAction::TokenRevoked, ("api_token", Some(id.0)), token.label.clone(), None, None, now).await?;
        Ok(token)
    }

    pub async fn audit_log(
        &self,
        filter: &AuditFilter,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<AuditEntry>> {
        self.require_admin("read the audit log", "audit_log", None, now).await?;
        self.store.list_audit(filter, page).await
    }
}
