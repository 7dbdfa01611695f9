//! The SQL of the PostgreSQL adapter. Writes follow one pattern: read the current row, let the
//! domain decide (`plan_move`, `plan_patch`, …), then write with `WHERE version = <read
//! version>`; zero rows updated means someone else won the race, and the caller gets a conflict
//! with nothing changed. The SQLite adapter (`crate::sqlite`) implements the same behaviour.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use salesflow_domain::access::{Reach, Scope};
use salesflow_domain::deal_update::{plan_create, plan_patch, plan_step};
use salesflow_domain::error::{Error, Result};
use salesflow_domain::ids::*;
use salesflow_domain::migration::{self, MigrationRequest, MigrationSummary};
use salesflow_domain::normalize;
use salesflow_domain::process::ProcessDefinition;
use salesflow_domain::records::*;
use salesflow_domain::selling::catalog::{NewProduct, PriceBook, Product};
use salesflow_domain::selling::contract::Contract;
use salesflow_domain::selling::needs::{NeedsAnalysis, NeedsInput};
use salesflow_domain::selling::objection::{Objection, Playbook};
use salesflow_domain::selling::quote::{DealNote, Quote};
use salesflow_domain::stage_move::plan_move;
use salesflow_domain::store::*;
use sqlx::{PgConnection, Postgres, QueryBuilder};

use super::PgStore;
use super::trust::{self, push_scope};
use crate::DbResult;
use crate::rows::*;

/// Rows per multi-row INSERT in bulk writes (stays under PostgreSQL's 65,535 bind parameters).
const BULK_ROWS: usize = 1000;

fn like_pattern(text: &str) -> String {
    // Matched against `search_text`, which is lower-cased the same way in Rust.
    let escaped = text.trim().to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

pub(super) fn conflict(entity: &str, id: i64) -> Error {
    Error::Conflict(format!("{entity} {id} was changed by someone else since you read it; reload and try again"))
}

fn check_version(entity: &str, id: i64, current: i64, given: i64) -> Result<()> {
    if current == given { Ok(()) } else { Err(conflict(entity, id)) }
}

/// The `WHERE` of deal lists and totals: the filter, then the scope.
fn push_deal_filter(q: &mut QueryBuilder<'_, Postgres>, filter: &DealFilter, scope: &Scope) {
    if let Some(o) = filter.owner {
        q.push(" AND d.owner_id = ").push_bind(o.0);
    }
    if let Some(p) = filter.process {
        q.push(" AND d.process_id = ").push_bind(p.0);
    }
    if let Some(s) = &filter.stage {
        q.push(" AND d.current_node = ").push_bind(s.clone());
    }
    if let Some(s) = filter.status {
        q.push(" AND d.status = ").push_bind(s.as_str());
    }
    if let Some(c) = filter.channel {
        q.push(" AND d.channel = ").push_bind(c.as_str());
    }
    if let Some(a) = filter.account {
        q.push(" AND d.account_id = ").push_bind(a.0);
    }
    if let Some(t) = filter.text.as_deref().filter(|t| !t.trim().is_empty()) {
        q.push(" AND d.search_text LIKE ").push_bind(like_pattern(t)).push(" ESCAPE '\\'");
    }
    push_scope(q, scope, RecordKind::Deal, "d.");
}

impl PgStore {
    async fn user_exists(conn: &mut PgConnection, id: UserId, field: &str) -> Result<()> {
        let found: Option<(bool,)> = sqlx::query_as("SELECT active FROM users WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *conn)
            .await
            .db()?;
        match found {
            Some((true,)) => Ok(()),
            Some((false,)) => Err(Error::invalid(field, format!("user {id} is deactivated"))),
            None => Err(Error::invalid(field, format!("user {id} does not exist"))),
        }
    }

    async fn row_exists(conn: &mut PgConnection, table: &str, id: i64, field: &str, entity: &str) -> Result<()> {
        let found: Option<(i64,)> = sqlx::query_as(&format!("SELECT id FROM {table} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .db()?;
        found.map(|_| ()).ok_or_else(|| Error::invalid(field, format!("{entity} {id} does not exist")))
    }

    async fn contacts_exist(conn: &mut PgConnection, ids: &[ContactId]) -> Result<()> {
        for (i, c) in ids.iter().enumerate() {
            Self::row_exists(conn, "contacts", c.0, &format!("contact_ids[{i}]"), "contact").await?;
        }
        Ok(())
    }

    /// The deal, its contacts and the ticked steps of its current stage, plus the
    /// sequence number and business time of its last event.
    pub(super) async fn load_deal(conn: &mut PgConnection, id: DealId) -> Result<(Deal, i64, DateTime<Utc>)> {
        // The row, its contacts and its steps are three reads; a write landing between
        // them would mix two versions. Every write bumps `version`, so re-check it.
        for _ in 0..5 {
            let loaded = Self::load_deal_once(conn, id).await?;
            let now: Option<(i64,)> = sqlx::query_as("SELECT version FROM deals WHERE id = $1")
                .bind(id.0)
                .fetch_optional(&mut *conn)
                .await
                .db()?;
            if now.map(|(v,)| v) == Some(loaded.0.version) {
                return Ok(loaded);
            }
        }
        Err(Error::Conflict(format!("deal {id} is changing too fast to read; try again")))
    }

    async fn load_deal_once(conn: &mut PgConnection, id: DealId) -> Result<(Deal, i64, DateTime<Utc>)> {
        let row: Option<DealRow> = sqlx::query_as(&format!("SELECT {DEAL_COLS} FROM deals d WHERE d.id = $1"))
            .bind(id.0)
            .fetch_optional(&mut *conn)
            .await
            .db()?;
        let row = row.ok_or_else(|| Error::not_found("deal", id))?;
        let contacts: Vec<(i64,)> =
            sqlx::query_as("SELECT contact_id FROM deal_contacts WHERE deal_id = $1 ORDER BY position")
                .bind(id.0)
                .fetch_all(&mut *conn)
                .await
                .db()?;
        let steps: Vec<(String,)> = sqlx::query_as(
            "SELECT step_id FROM deal_steps WHERE deal_id = $1 AND node_id = $2 ORDER BY done_at, step_id",
        )
        .bind(id.0)
        .bind(&row.current_node)
        .fetch_all(&mut *conn)
        .await
        .db()?;
        let needs: Option<(String,)> = sqlx::query_as("SELECT body FROM deal_needs WHERE deal_id = $1")
            .bind(id.0)
            .fetch_optional(&mut *conn)
            .await
            .db()?;
        let (seq, at) = (row.last_event_seq, row.last_event_at);
        let mut deal = row.into_deal(
            contacts.into_iter().map(|(c,)| ContactId(c)).collect(),
            steps.into_iter().map(|(s,)| s).collect(),
        )?;
        deal.needs_known = needs.map(|(b,)| crate::documents::needs_known(&b)).transpose()?.unwrap_or_default();
        Ok((deal, seq, at))
    }

    pub(super) async fn insert_event(
        conn: &mut PgConnection,
        deal: &Deal,
        seq: i64,
        event: &NewEvent,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<DealEvent> {
        let row: EventRow = sqlx::query_as(&format!(
            "INSERT INTO deal_events (deal_id, seq, kind, process_id, process_version, from_node, to_node, edge_id, \
             actor_id, occurred_at, recorded_at, amount_minor, currency, probability, expected_close_date, details) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING {EVENT_COLS}"
        ))
        .bind(deal.id.0)
        .bind(seq)
        .bind(event.kind.as_str())
        .bind(deal.process_id.0)
        .bind(deal.process_version)
        .bind(&event.from_node)
        .bind(&event.to_node)
        .bind(&event.edge_id)
        .bind(actor.user.0)
        .bind(event.occurred_at)
        .bind(now)
        .bind(deal.amount.map(|m| m.minor))
        .bind(deal.amount.map(|m| m.currency.code().to_string()))
        .bind(deal.probability as i16)
        .bind(deal.expected_close_date)
        .bind(event.details.to_string())
        .fetch_one(&mut *conn)
        .await
        .db()?;
        row.try_into()
    }

    async fn replace_contacts(conn: &mut PgConnection, deal: DealId, contacts: &[ContactId]) -> Result<()> {
        sqlx::query("DELETE FROM deal_contacts WHERE deal_id = $1").bind(deal.0).execute(&mut *conn).await.db()?;
        for (pos, c) in contacts.iter().enumerate() {
            sqlx::query("INSERT INTO deal_contacts (deal_id, contact_id, position) VALUES ($1, $2, $3)")
                .bind(deal.0)
                .bind(c.0)
                .bind(pos as i64)
                .execute(&mut *conn)
                .await
                .db()?;
        }
        Ok(())
    }

    /// Inserts a deal planned by `plan_create` with its `created` event.
    async fn insert_deal(
        conn: &mut PgConnection,
        new: &NewDeal,
        owner: UserId,
        lead: Option<LeadId>,
        actor: &Actor,
        version: &ProcessVersion,
        now: DateTime<Utc>,
    ) -> Result<Deal> {
        let plan = plan_create(&version.definition, new, now)?;
        Self::row_exists(conn, "accounts", new.account_id.0, "account_id", "account").await?;
        Self::user_exists(conn, owner, "owner_id").await?;
        Self::contacts_exist(conn, &new.contact_ids).await?;
        let at = plan.event.occurred_at;
        // RETURNING takes bare column names here (the table has no alias).
        let returning = DEAL_COLS.split(", ").map(|c| c.trim().trim_start_matches("d.")).collect::<Vec<_>>().join(", ");
        let row: DealRow = sqlx::query_as(&format!(
            "INSERT INTO deals (title, search_text, account_id, owner_id, process_id, process_version, current_node, amount_minor, \
             currency, expected_close_date, probability, probability_overridden, status, lost_reason, needs_summary, \
             channel, lead_id, version, last_event_seq, last_event_at, stage_entered_at, created_at, updated_at, closed_at) \
             VALUES ($1, $17, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'open', NULL, $12, $13, $14, 1, 1, $15, $15, $15, $16, NULL) \
             RETURNING {returning}"
        ))
        .bind(new.title.trim())
        .bind(new.account_id.0)
        .bind(owner.0)
        .bind(version.process_id.0)
        .bind(version.version)
        .bind(&plan.entry)
        .bind(new.amount.map(|m| m.minor))
        .bind(new.amount.map(|m| m.currency.code().to_string()))
        .bind(new.expected_close_date)
        .bind(plan.probability as i16)
        .bind(plan.probability_overridden)
        .bind(&new.needs_summary)
        .bind(new.channel.map(|c| c.as_str()))
        .bind(lead.map(|l| l.0))
        .bind(at)
        .bind(now)
        .bind(normalize::search_text(&[Some(&new.title)]))
        .fetch_one(&mut *conn)
        .await
        .db()?;
        let contacts = unique(&new.contact_ids);
        let deal = row.into_deal(contacts.clone(), Vec::new())?;
        Self::replace_contacts(conn, deal.id, &contacts).await?;
        Self::insert_event(conn, &deal, 1, &plan.event, actor, now).await?;
        Ok(deal)
    }

    async fn load_lead(conn: &mut PgConnection, id: LeadId) -> Result<Lead> {
        let row: Option<LeadRow> = sqlx::query_as(&format!("SELECT {LEAD_COLS} FROM leads WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&mut *conn)
            .await
            .db()?;
        row.ok_or_else(|| Error::not_found("lead", id))?.try_into()
    }

    async fn load_account(conn: &mut PgConnection, id: AccountId) -> Result<Account> {
        let row: Option<AccountRow> = sqlx::query_as(&format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&mut *conn)
            .await
            .db()?;
        Ok(row.ok_or_else(|| Error::not_found("account", id))?.into())
    }

    async fn load_contact(conn: &mut PgConnection, id: ContactId) -> Result<Contact> {
        let row: Option<ContactRow> = sqlx::query_as(&format!("SELECT {CONTACT_COLS} FROM contacts WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&mut *conn)
            .await
            .db()?;
        row.ok_or_else(|| Error::not_found("contact", id))?.try_into()
    }

    async fn insert_account(
        conn: &mut PgConnection,
        new: &NewAccount,
        owner: UserId,
        now: DateTime<Utc>,
    ) -> Result<Account> {
        new.validate()?;
        Self::user_exists(conn, owner, "owner_id").await?;
        let row: AccountRow = sqlx::query_as(&format!(
            "INSERT INTO accounts (name, name_key, search_text, industry, region, website, owner_id, version, created_at, updated_at, \
             customer_group) VALUES ($1, $2, $8, $3, $4, $5, $6, 1, $7, $7, $9) RETURNING {ACCOUNT_COLS}"
        ))
        .bind(new.name.trim())
        .bind(normalize::company(&new.name))
        .bind(new.industry.trim())
        .bind(new.region.trim())
        .bind(new.website.trim())
        .bind(owner.0)
        .bind(now)
        .bind(normalize::search_text(&[Some(&new.name)]))
        .bind(new.customer_group.trim())
        .fetch_one(&mut *conn)
        .await
        .db()?;
        Ok(row.into())
    }

    async fn insert_contact(
        conn: &mut PgConnection,
        new: &NewContact,
        owner: UserId,
        now: DateTime<Utc>,
    ) -> Result<Contact> {
        new.validate()?;
        Self::user_exists(conn, owner, "owner_id").await?;
        if let Some(a) = new.account_id {
            Self::row_exists(conn, "accounts", a.0, "account_id", "account").await?;
        }
        let email = trimmed(new.email.as_deref());
        let phone = trimmed(new.phone.as_deref());
        let row: ContactRow = sqlx::query_as(&format!(
            "INSERT INTO contacts (account_id, name, title, email, email_key, phone, phone_key, search_text, wechat_id, \
             preferred_channel, consent_email, consent_sms, consent_phone, consent_wechat, owner_id, version, created_at, \
             updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $16, $8, $9, $10, $11, $12, $13, $14, 1, $15, $15) RETURNING {CONTACT_COLS}"
        ))
        .bind(new.account_id.map(|a| a.0))
        .bind(new.name.trim())
        .bind(new.title.trim())
        .bind(&email)
        .bind(email.as_deref().and_then(normalize::email))
        .bind(&phone)
        .bind(phone.as_deref().and_then(normalize::phone))
        .bind(trimmed(new.wechat_id.as_deref()))
        .bind(new.preferred_channel.map(|p| p.as_str()))
        .bind(new.consent.email)
        .bind(new.consent.sms)
        .bind(new.consent.phone)
        .bind(new.consent.wechat)
        .bind(owner.0)
        .bind(now)
        .bind(normalize::search_text(&[Some(&new.name), email.as_deref()]))
        .fetch_one(&mut *conn)
        .await
        .db()?;
        row.try_into()
    }

    /// Writes a planned step event: the deal's counters, the step row and the event.
    async fn toggle_step_in(
        conn: &mut PgConnection,
        deal: &Deal,
        seq: i64,
        event: &NewEvent,
        toggle: &StepToggle,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE deals SET version = version + 1, last_event_seq = $1, last_event_at = $2, updated_at = $3 \
             WHERE id = $4 AND version = $5",
        )
        .bind(seq + 1)
        .bind(event.occurred_at)
        .bind(now)
        .bind(deal.id.0)
        .bind(deal.version)
        .execute(&mut *conn)
        .await
        .db()?;
        if done.rows_affected() == 0 {
            return Err(conflict("deal", deal.id.0));
        }
        if toggle.done {
            sqlx::query("INSERT INTO deal_steps (deal_id, node_id, step_id, done_at) VALUES ($1, $2, $3, $4)")
                .bind(deal.id.0)
                .bind(&deal.current_node)
                .bind(&toggle.step)
                .bind(event.occurred_at)
                .execute(&mut *conn)
                .await
                .db()?;
        } else {
            sqlx::query("DELETE FROM deal_steps WHERE deal_id = $1 AND node_id = $2 AND step_id = $3")
                .bind(deal.id.0)
                .bind(&deal.current_node)
                .bind(&toggle.step)
                .execute(&mut *conn)
                .await
                .db()?;
        }
        Self::insert_event(conn, deal, seq + 1, event, actor, now).await.map(|_| ())
    }

    async fn cached_version(&self, id: ProcessId, version: i32) -> Result<Arc<ProcessVersion>> {
        if let Some(v) = self.cache.read().expect("cache lock").get(&(id.0, version)) {
            return Ok(v.clone());
        }
        let row: Option<VersionRow> = sqlx::query_as(&format!(
            "SELECT {VERSION_COLS} FROM process_versions WHERE process_id = $1 AND version = $2"
        ))
        .bind(id.0)
        .bind(version)
        .fetch_optional(&self.read)
        .await
        .db()?;
        let v: Arc<ProcessVersion> =
            Arc::new(row.ok_or_else(|| Error::not_found("process version", format!("{id}/{version}")))?.try_into()?);
        if v.status != VersionStatus::Draft {
            self.cache.write().expect("cache lock").insert((id.0, version), v.clone());
        }
        Ok(v)
    }

    /// The open deals on a version (locked for update inside a write transaction), with their
    /// contacts, the ticked steps of their stage and each one's last event sequence number.
    async fn open_on(conn: &mut PgConnection, id: ProcessId, version: i32, lock: bool) -> Result<Vec<(Deal, i64)>> {
        let lock = if lock { " FOR UPDATE" } else { "" };
        let rows: Vec<DealRow> = sqlx::query_as(&format!(
            "SELECT {DEAL_COLS} FROM deals d WHERE d.process_id = $1 AND d.process_version = $2 \
             AND d.status = 'open' ORDER BY d.id{lock}"
        ))
        .bind(id.0)
        .bind(version)
        .fetch_all(&mut *conn)
        .await
        .db()?;
        let mut contacts: std::collections::HashMap<i64, Vec<ContactId>> = Default::default();
        let found: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT c.deal_id, c.contact_id FROM deal_contacts c JOIN deals d ON d.id = c.deal_id \
             WHERE d.process_id = $1 AND d.process_version = $2 AND d.status = 'open' ORDER BY c.deal_id, c.position",
        )
        .bind(id.0)
        .bind(version)
        .fetch_all(&mut *conn)
        .await
        .db()?;
        for (deal, contact) in found {
            contacts.entry(deal).or_default().push(ContactId(contact));
        }
        let mut steps: std::collections::HashMap<i64, Vec<String>> = Default::default();
        let found: Vec<(i64, String)> = sqlx::query_as(
            "SELECT s.deal_id, s.step_id FROM deal_steps s JOIN deals d ON d.id = s.deal_id AND s.node_id = d.current_node \
             WHERE d.process_id = $1 AND d.process_version = $2 AND d.status = 'open' \
             ORDER BY s.deal_id, s.done_at, s.step_id",
        )
        .bind(id.0)
        .bind(version)
        .fetch_all(&mut *conn)
        .await
        .db()?;
        for (deal, step) in found {
            steps.entry(deal).or_default().push(step);
        }
        rows.into_iter()
            .map(|row| {
                let (deal_id, seq) = (row.id, row.last_event_seq);
                let deal = row.into_deal(
                    contacts.remove(&deal_id).unwrap_or_default(),
                    steps.remove(&deal_id).unwrap_or_default(),
                )?;
                Ok((deal, seq))
            })
            .collect()
    }

    fn write_deal_row<'a>(q: &mut QueryBuilder<'a, Postgres>, d: &'a Deal, seq: i64, last_at: DateTime<Utc>) {
        let mut s = q.separated(", ");
        s.push_unseparated("(");
        s.push_bind(d.id.0)
            .push_bind(&d.title)
            .push_bind(normalize::search_text(&[Some(&d.title)]))
            .push_bind(d.account_id.0)
            .push_bind(d.owner_id.0)
            .push_bind(d.process_id.0)
            .push_bind(d.process_version)
            .push_bind(&d.current_node)
            .push_bind(d.amount.map(|m| m.minor))
            .push_bind(d.amount.map(|m| m.currency.code().to_string()))
            .push_bind(d.expected_close_date)
            .push_bind(d.probability as i16)
            .push_bind(d.probability_overridden)
            .push_bind(d.status.as_str())
            .push_bind(&d.lost_reason)
            .push_bind(&d.needs_summary)
            .push_bind(d.channel.map(|c| c.as_str()))
            .push_bind(d.lead_id.map(|l| l.0))
            .push_bind(d.version)
            .push_bind(seq)
            .push_bind(last_at)
            .push_bind(d.stage_entered_at)
            .push_bind(d.created_at)
            .push_bind(d.updated_at)
            .push_bind(d.closed_at);
        s.push_unseparated(")");
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn migrate(&self) -> Result<()> {
        super::MIGRATOR.run(&self.write).await.map_err(|e| Error::Storage(format!("migration failed: {e}")))
    }

    async fn applied_migrations(&self) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> = sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(&self.read)
            .await
            .db()?;
        Ok(rows.into_iter().map(|(v,)| v).collect())
    }

    async fn create_user(&self, user: &NewUser, now: DateTime<Utc>) -> Result<User> {
        user.validate()?;
        let email = normalize::email(&user.email);
        let row: std::result::Result<UserRow, _> = sqlx::query_as(&format!(
            "INSERT INTO users (name, email, locale, time_zone, role, active, created_at, password_hash) \
             VALUES ($1, $2, $3, $4, $5, TRUE, $6, $7) RETURNING {USER_COLS}"
        ))
        .bind(user.name.trim())
        .bind(&email)
        .bind(&user.locale)
        .bind(&user.time_zone)
        .bind(user.role.as_str())
        .bind(now)
        .bind(&user.password_hash)
        .fetch_one(&self.write)
        .await
        .db();
        match row {
            Err(Error::Conflict(_)) => Err(Error::invalid("email", "a user with this email already exists")),
            other => other?.try_into(),
        }
    }

    async fn user(&self, id: UserId) -> Result<User> {
        let row: Option<UserRow> = sqlx::query_as(&format!("SELECT {USER_COLS} FROM users WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&self.read)
            .await
            .db()?;
        row.ok_or_else(|| Error::not_found("user", id))?.try_into()
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let Some(email) = normalize::email(email) else { return Ok(None) };
        let row: Option<UserRow> = sqlx::query_as(&format!("SELECT {USER_COLS} FROM users WHERE email = $1"))
            .bind(email)
            .fetch_optional(&self.read)
            .await
            .db()?;
        row.map(TryInto::try_into).transpose()
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        let rows: Vec<UserRow> =
            sqlx::query_as(&format!("SELECT {USER_COLS} FROM users ORDER BY id")).fetch_all(&self.read).await.db()?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn update_user(&self, id: UserId, patch: &UserPatch, now: DateTime<Utc>) -> Result<User> {
        trust::update_user(&self.write, id, patch, now).await
    }

    async fn password_hash(&self, id: UserId) -> Result<Option<String>> {
        trust::password_hash(&self.read, id).await
    }

    async fn set_password_hash(&self, id: UserId, hash: &str, now: DateTime<Utc>) -> Result<()> {
        trust::set_password_hash(&self.write, id, hash, now).await
    }

    async fn create_team(&self, team: &NewTeam, now: DateTime<Utc>) -> Result<Team> {
        trust::create_team(&self.write, team, now).await
    }

    async fn team(&self, id: TeamId) -> Result<Team> {
        trust::team(&self.read, id).await
    }

    async fn list_teams(&self) -> Result<Vec<Team>> {
        trust::list_teams(&self.read).await
    }

    async fn update_team(&self, id: TeamId, patch: &TeamPatch, _now: DateTime<Utc>) -> Result<Team> {
        trust::update_team(&self.write, id, patch).await
    }

    async fn delete_team(&self, id: TeamId) -> Result<()> {
        trust::delete_team(&self.write, id).await
    }

    async fn team_reach(&self, user: UserId) -> Result<TeamReach> {
        trust::team_reach(&self.read, user).await
    }

    async fn share(&self, share: &Share) -> Result<()> {
        trust::share(&self.write, share).await
    }

    async fn unshare(&self, kind: RecordKind, record_id: i64, user: UserId) -> Result<bool> {
        trust::unshare(&self.write, kind, record_id, user).await
    }

    async fn shares(&self, kind: RecordKind, record_id: i64) -> Result<Vec<Share>> {
        trust::shares(&self.read, kind, record_id).await
    }

    async fn is_shared(&self, kind: RecordKind, record_id: i64, user: UserId) -> Result<bool> {
        trust::is_shared(&self.read, kind, record_id, user).await
    }

    async fn create_api_token(&self, token: &NewApiToken, now: DateTime<Utc>) -> Result<ApiToken> {
        trust::create_api_token(&self.write, token, now).await
    }

    async fn api_token(&self, id: TokenId) -> Result<ApiToken> {
        trust::api_token(&self.read, id).await
    }

    async fn list_api_tokens(&self, user: Option<UserId>) -> Result<Vec<ApiToken>> {
        trust::list_api_tokens(&self.read, user).await
    }

    async fn revoke_api_token(&self, id: TokenId, now: DateTime<Utc>) -> Result<ApiToken> {
        trust::revoke_api_token(&self.write, id, now).await
    }

    async fn authenticate_token(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<(ApiToken, User)>> {
        trust::authenticate_token(&self.write, token_hash, now).await
    }

    async fn create_session(&self, session: &WebSession) -> Result<()> {
        trust::create_session(&self.write, session).await
    }

    async fn session(&self, id_hash: &str) -> Result<Option<WebSession>> {
        trust::session(&self.read, id_hash).await
    }

    async fn touch_session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<()> {
        trust::touch_session(&self.write, id_hash, now).await
    }

    async fn delete_session(&self, id_hash: &str) -> Result<()> {
        trust::delete_session(&self.write, id_hash).await
    }

    async fn delete_sessions_of(&self, user: UserId) -> Result<()> {
        trust::delete_sessions_of(&self.write, user).await
    }

    async fn delete_expired_sessions(&self, now: DateTime<Utc>, idle_since: DateTime<Utc>) -> Result<u64> {
        trust::delete_expired_sessions(&self.write, now, idle_since).await
    }

    async fn record_login_failure(&self, email_key: &str, address: &str, now: DateTime<Utc>) -> Result<()> {
        trust::record_login_failure(&self.write, email_key, address, now).await
    }

    async fn login_failures(&self, email_key: &str, address: &str, since: DateTime<Utc>) -> Result<(u32, u32)> {
        trust::login_failures(&self.read, email_key, address, since).await
    }

    async fn clear_login_failures(&self, email_key: &str) -> Result<()> {
        trust::clear_login_failures(&self.write, email_key).await
    }

    async fn prune_login_failures(&self, before: DateTime<Utc>) -> Result<u64> {
        trust::prune_login_failures(&self.write, before).await
    }

    async fn append_audit(&self, entry: &NewAuditEntry) -> Result<()> {
        trust::append_audit(&self.write, entry).await
    }

    async fn list_audit(&self, filter: &AuditFilter, page: PageRequest) -> Result<Page<AuditEntry>> {
        trust::list_audit(&self.read, filter, page).await
    }

    async fn create_process(&self, definition: &ProcessDefinition, now: DateTime<Utc>) -> Result<ProcessVersion> {
        let mut problems = Vec::new();
        if definition.key.trim().is_empty() {
            problems.push(salesflow_domain::FieldError::new("key", "is required"));
        }
        if definition.name.trim().is_empty() {
            problems.push(salesflow_domain::FieldError::new("name", "is required"));
        }
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        let mut tx = self.write.begin().await.db()?;
        let id: std::result::Result<(i64,), _> = sqlx::query_as(
            "INSERT INTO processes (key, name, locale, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(definition.key.trim())
        .bind(definition.name.trim())
        .bind(&definition.locale)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .db();
        let (id,) = match id {
            Err(Error::Conflict(_)) => {
                return Err(Error::invalid("key", format!("a process with key `{}` already exists", definition.key)));
            }
            other => other?,
        };
        let json = serde_json::to_string(definition).map_err(|e| Error::Storage(e.to_string()))?;
        let row: VersionRow = sqlx::query_as(&format!(
            "INSERT INTO process_versions (process_id, version, status, definition, created_at) \
             VALUES ($1, 1, 'draft', $2, $3) RETURNING {VERSION_COLS}"
        ))
        .bind(id)
        .bind(json)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .db()?;
        tx.commit().await.db()?;
        row.try_into()
    }

    async fn list_processes(&self) -> Result<Vec<ProcessSummary>> {
        let rows: Vec<(i64, String, String, String, i32, Option<i32>)> = sqlx::query_as(
            "SELECT p.id, p.key, p.name, p.locale, MAX(v.version), \
             MAX(CASE WHEN v.status = 'published' AND v.retired_at IS NULL THEN v.version END) \
             FROM processes p JOIN process_versions v ON v.process_id = p.id \
             GROUP BY p.id, p.key, p.name, p.locale ORDER BY p.id",
        )
        .fetch_all(&self.read)
        .await
        .db()?;
        Ok(rows
            .into_iter()
            .map(|(id, key, name, locale, latest_version, published_version)| ProcessSummary {
                id: ProcessId(id),
                key,
                name,
                locale,
                latest_version,
                published_version,
            })
            .collect())
    }

    async fn process_versions(&self, id: ProcessId) -> Result<Vec<ProcessVersion>> {
        let rows: Vec<VersionRow> = sqlx::query_as(&format!(
            "SELECT {VERSION_COLS} FROM process_versions WHERE process_id = $1 ORDER BY version"
        ))
        .bind(id.0)
        .fetch_all(&self.read)
        .await
        .db()?;
        if rows.is_empty() {
            return Err(Error::not_found("process", id));
        }
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn process_version(&self, id: ProcessId, version: i32) -> Result<Arc<ProcessVersion>> {
        self.cached_version(id, version).await
    }

    async fn latest_published(&self, id: ProcessId) -> Result<Arc<ProcessVersion>> {
        let row: Option<(Option<i32>,)> = sqlx::query_as(
            "SELECT MAX(CASE WHEN v.status = 'published' AND v.retired_at IS NULL THEN v.version END) FROM processes p \
             LEFT JOIN process_versions v ON v.process_id = p.id WHERE p.id = $1 GROUP BY p.id",
        )
        .bind(id.0)
        .fetch_optional(&self.read)
        .await
        .db()?;
        match row {
            None => Err(Error::not_found("process", id)),
            Some((None,)) => Err(Error::invalid("process_id", format!("process {id} has no published version yet"))),
            Some((Some(v),)) => self.cached_version(id, v).await,
        }
    }

    async fn save_draft(
        &self,
        id: ProcessId,
        version: i32,
        definition: &ProcessDefinition,
        now: DateTime<Utc>,
    ) -> Result<ProcessVersion> {
        let current = self.cached_version(id, version).await?;
        if current.status != VersionStatus::Draft {
            return Err(Error::Conflict(format!(
                "version {version} of process {id} is {} and cannot change; start a new draft",
                current.status.as_str()
            )));
        }
        if definition.key != current.definition.key {
            return Err(Error::invalid(
                "key",
                format!("the process key is `{}` and cannot change", current.definition.key),
            ));
        }
        let json = serde_json::to_string(definition).map_err(|e| Error::Storage(e.to_string()))?;
        let mut tx = self.write.begin().await.db()?;
        let row: Option<VersionRow> = sqlx::query_as(&format!(
            "UPDATE process_versions SET definition = $1 WHERE process_id = $2 AND version = $3 AND status = 'draft' \
             RETURNING {VERSION_COLS}"
        ))
        .bind(json)
        .bind(id.0)
        .bind(version)
        .fetch_optional(&mut *tx)
        .await
        .db()?;
        let row =
            row.ok_or_else(|| Error::Conflict(format!("version {version} of process {id} was just published")))?;
        sqlx::query("UPDATE processes SET name = $1, locale = $2 WHERE id = $3")
            .bind(definition.name.trim())
            .bind(&definition.locale)
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .db()?;
        tx.commit().await.db()?;
        let _ = now;
        row.try_into()
    }

    async fn new_draft(
        &self,
        id: ProcessId,
        definition: &ProcessDefinition,
        now: DateTime<Utc>,
    ) -> Result<ProcessVersion> {
        let versions = self.process_versions(id).await?;
        let key = &versions[0].definition.key;
        if &definition.key != key {
            return Err(Error::invalid("key", format!("the process key is `{key}` and cannot change")));
        }
        let next = versions.iter().map(|v| v.version).max().unwrap_or(0) + 1;
        let json = serde_json::to_string(definition).map_err(|e| Error::Storage(e.to_string()))?;
        let row: VersionRow = sqlx::query_as(&format!(
            "INSERT INTO process_versions (process_id, version, status, definition, created_at) \
             VALUES ($1, $2, 'draft', $3, $4) RETURNING {VERSION_COLS}"
        ))
        .bind(id.0)
        .bind(next)
        .bind(json)
        .bind(now)
        .fetch_one(&self.write)
        .await
        .db()?;
        row.try_into()
    }

    async fn publish(&self, id: ProcessId, version: i32, now: DateTime<Utc>) -> Result<ProcessVersion> {
        let current = self.cached_version(id, version).await?;
        if current.status != VersionStatus::Draft {
            return Err(Error::Conflict(format!(
                "version {version} of process {id} is already {}",
                current.status.as_str()
            )));
        }
        let issues = current.definition.validate();
        if !issues.is_empty() {
            return Err(Error::ProcessInvalid(issues));
        }
        let row: Option<VersionRow> = sqlx::query_as(&format!(
            "UPDATE process_versions SET status = 'published', published_at = $1 \
             WHERE process_id = $2 AND version = $3 AND status = 'draft' RETURNING {VERSION_COLS}"
        ))
        .bind(now)
        .bind(id.0)
        .bind(version)
        .fetch_optional(&self.write)
        .await
        .db()?;
        let published: ProcessVersion = row
            .ok_or_else(|| Error::Conflict(format!("version {version} of process {id} changed meanwhile")))?
            .try_into()?;
        self.cache.write().expect("cache lock").insert((id.0, version), Arc::new(published.clone()));
        Ok(published)
    }

    async fn retire(&self, id: ProcessId, version: i32, now: DateTime<Utc>) -> Result<ProcessVersion> {
        let current = self.cached_version(id, version).await?;
        if current.status != VersionStatus::Published {
            return Err(Error::Conflict(format!(
                "version {version} of process {id} is {}; only a published version can be retired",
                current.status.as_str()
            )));
        }
        let row: Option<VersionRow> = sqlx::query_as(&format!(
            "UPDATE process_versions SET retired_at = $1 \
             WHERE process_id = $2 AND version = $3 AND retired_at IS NULL RETURNING {VERSION_COLS}"
        ))
        .bind(now)
        .bind(id.0)
        .bind(version)
        .fetch_optional(&self.write)
        .await
        .db()?;
        let retired: ProcessVersion = row
            .ok_or_else(|| Error::Conflict(format!("version {version} of process {id} was just retired")))?
            .try_into()?;
        self.cache.write().expect("cache lock").insert((id.0, version), Arc::new(retired.clone()));
        Ok(retired)
    }

    async fn open_deals_on(&self, id: ProcessId, version: i32) -> Result<Vec<Deal>> {
        let mut conn = self.read.begin().await.db()?;
        let deals = Self::open_on(&mut conn, id, version, false).await?;
        conn.commit().await.db()?;
        Ok(deals.into_iter().map(|(d, _)| d).collect())
    }

    async fn migrate_deals(
        &self,
        id: ProcessId,
        req: &MigrationRequest,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<MigrationSummary> {
        let from = self.cached_version(id, req.from_version).await?;
        let to = self.cached_version(id, req.to_version).await?;
        let mut tx = self.write.begin().await.db()?;
        let loaded = Self::open_on(&mut tx, id, req.from_version, true).await?;
        let seqs: std::collections::HashMap<DealId, i64> = loaded.iter().map(|(d, seq)| (d.id, *seq)).collect();
        let deals: Vec<Deal> = loaded.into_iter().map(|(d, _)| d).collect();
        let (planned, mut summary) = migration::plan(&from, &to, &req.mapping, &deals, now)?;
        for (deal, p) in deals.into_iter().zip(&planned) {
            let seq = seqs[&p.deal] + 1;
            let done = sqlx::query(
                "UPDATE deals SET process_version = $1, current_node = $2, probability = $3, version = version + 1, \
                 last_event_seq = $4, last_event_at = $5, updated_at = $5 WHERE id = $6 AND version = $7",
            )
            .bind(to.version)
            .bind(&p.to_node)
            .bind(p.probability as i16)
            .bind(seq)
            .bind(now)
            .bind(p.deal.0)
            .bind(p.deal_version)
            .execute(&mut *tx)
            .await
            .db()?;
            if done.rows_affected() == 0 {
                return Err(conflict("deal", p.deal.0));
            }
            if p.to_node != p.from_node {
                sqlx::query("DELETE FROM deal_steps WHERE deal_id = $1 AND node_id = $2")
                    .bind(p.deal.0)
                    .bind(&p.to_node)
                    .execute(&mut *tx)
                    .await
                    .db()?;
                sqlx::query(
                    "INSERT INTO deal_steps (deal_id, node_id, step_id, done_at) SELECT deal_id, $1, step_id, done_at \
                     FROM deal_steps WHERE deal_id = $2 AND node_id = $3 AND step_id = ANY($4)",
                )
                .bind(&p.to_node)
                .bind(p.deal.0)
                .bind(&p.from_node)
                .bind(&p.kept_steps)
                .execute(&mut *tx)
                .await
                .db()?;
            }
            let moved = Deal {
                process_version: to.version,
                current_node: p.to_node.clone(),
                probability: p.probability,
                ..deal
            };
            Self::insert_event(&mut tx, &moved, seq, &p.event, actor, now).await?;
        }
        tx.commit().await.db()?;
        summary.applied = true;
        Ok(summary)
    }

    async fn create_account(&self, new: &NewAccount, owner: UserId, now: DateTime<Utc>) -> Result<Account> {
        let mut conn = self.write.acquire().await.db()?;
        Self::insert_account(&mut conn, new, owner, now).await
    }

    async fn account(&self, id: AccountId) -> Result<Account> {
        let mut conn = self.read.acquire().await.db()?;
        Self::load_account(&mut conn, id).await
    }

    async fn account_named(&self, name: &str) -> Result<Option<Account>> {
        let Some(key) = normalize::company(name) else { return Ok(None) };
        let row: Option<AccountRow> =
            sqlx::query_as(&format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE name_key = $1 ORDER BY id LIMIT 1"))
                .bind(key)
                .fetch_optional(&self.read)
                .await
                .db()?;
        Ok(row.map(Into::into))
    }

    async fn update_account(&self, id: AccountId, patch: &AccountPatch, now: DateTime<Utc>) -> Result<Account> {
        patch.validate()?;
        let mut tx = self.write.begin().await.db()?;
        let cur = Self::load_account(&mut tx, id).await?;
        check_version("account", id.0, cur.version, patch.version)?;
        if let Some(owner) = patch.owner_id {
            Self::user_exists(&mut tx, owner, "owner_id").await?;
        }
        let name = patch.name.as_deref().map(str::trim).unwrap_or(&cur.name).to_string();
        let row: Option<AccountRow> = sqlx::query_as(&format!(
            "UPDATE accounts SET name = $1, name_key = $2, search_text = $10, industry = $3, region = $4, website = $5, owner_id = $6, \
             customer_group = $11, version = version + 1, updated_at = $7 WHERE id = $8 AND version = $9 RETURNING {ACCOUNT_COLS}"
        ))
        .bind(&name)
        .bind(normalize::company(&name))
        .bind(patch.industry.as_deref().unwrap_or(&cur.industry).trim())
        .bind(patch.region.as_deref().unwrap_or(&cur.region).trim())
        .bind(patch.website.as_deref().unwrap_or(&cur.website).trim())
        .bind(patch.owner_id.unwrap_or(cur.owner_id).0)
        .bind(now)
        .bind(id.0)
        .bind(patch.version)
        .bind(normalize::search_text(&[Some(&name)]))
        .bind(patch.customer_group.as_deref().unwrap_or(&cur.customer_group).trim())
        .fetch_optional(&mut *tx)
        .await
        .db()?;
        let row = row.ok_or_else(|| conflict("account", id.0))?;
        tx.commit().await.db()?;
        Ok(row.into())
    }

    async fn list_accounts(&self, filter: &AccountFilter, scope: &Scope, page: PageRequest) -> Result<Page<Account>> {
        let mut q: QueryBuilder<Postgres> =
            QueryBuilder::new(format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE 1 = 1"));
        push_scope(&mut q, scope, RecordKind::Account, "");
        if let Some(o) = filter.owner {
            q.push(" AND owner_id = ").push_bind(o.0);
        }
        if let Some(t) = filter.text.as_deref().filter(|t| !t.trim().is_empty()) {
            q.push(" AND search_text LIKE ").push_bind(like_pattern(t)).push(" ESCAPE '\\'");
        }
        if let Some(after) = page.after {
            q.push(" AND id < ").push_bind(after);
        }
        q.push(" ORDER BY id DESC LIMIT ").push_bind(page.limit as i64 + 1);
        let rows: Vec<AccountRow> = q.build_query_as().fetch_all(&self.read).await.db()?;
        Ok(Page::from_rows(rows.into_iter().map(Account::from).collect(), page.limit, |a| a.id.0))
    }

    async fn create_contact(&self, new: &NewContact, owner: UserId, now: DateTime<Utc>) -> Result<Contact> {
        let mut conn = self.write.acquire().await.db()?;
        Self::insert_contact(&mut conn, new, owner, now).await
    }

    async fn contact(&self, id: ContactId) -> Result<Contact> {
        let mut conn = self.read.acquire().await.db()?;
        Self::load_contact(&mut conn, id).await
    }

    async fn update_contact(&self, id: ContactId, patch: &ContactPatch, now: DateTime<Utc>) -> Result<Contact> {
        patch.validate()?;
        let mut tx = self.write.begin().await.db()?;
        let cur = Self::load_contact(&mut tx, id).await?;
        check_version("contact", id.0, cur.version, patch.version)?;
        if let Some(owner) = patch.owner_id {
            Self::user_exists(&mut tx, owner, "owner_id").await?;
        }
        if let Some(Some(a)) = patch.account_id {
            Self::row_exists(&mut tx, "accounts", a.0, "account_id", "account").await?;
        }
        let email = trimmed(patch.email.clone().unwrap_or(cur.email.clone()).as_deref());
        let phone = trimmed(patch.phone.clone().unwrap_or(cur.phone.clone()).as_deref());
        let consent = patch.consent.unwrap_or(cur.consent);
        let name = patch.name.as_deref().unwrap_or(&cur.name).trim().to_string();
        let row: Option<ContactRow> = sqlx::query_as(&format!(
            "UPDATE contacts SET account_id = $1, name = $2, title = $3, email = $4, email_key = $5, phone = $6, \
             phone_key = $7, wechat_id = $8, preferred_channel = $9, consent_email = $10, consent_sms = $11, \
             consent_phone = $12, consent_wechat = $13, owner_id = $14, version = version + 1, updated_at = $15, \
             search_text = $18 WHERE id = $16 AND version = $17 RETURNING {CONTACT_COLS}"
        ))
        .bind(patch.account_id.unwrap_or(cur.account_id).map(|a| a.0))
        .bind(&name)
        .bind(patch.title.as_deref().unwrap_or(&cur.title).trim())
        .bind(&email)
        .bind(email.as_deref().and_then(normalize::email))
        .bind(&phone)
        .bind(phone.as_deref().and_then(normalize::phone))
        .bind(trimmed(patch.wechat_id.clone().unwrap_or(cur.wechat_id.clone()).as_deref()))
        .bind(patch.preferred_channel.unwrap_or(cur.preferred_channel).map(|p| p.as_str()))
        .bind(consent.email)
        .bind(consent.sms)
        .bind(consent.phone)
        .bind(consent.wechat)
        .bind(patch.owner_id.unwrap_or(cur.owner_id).0)
        .bind(now)
        .bind(id.0)
        .bind(patch.version)
        .bind(normalize::search_text(&[Some(&name), email.as_deref()]))
        .fetch_optional(&mut *tx)
        .await
        .db()?;
        let row = row.ok_or_else(|| conflict("contact", id.0))?;
        tx.commit().await.db()?;
        row.try_into()
    }

    async fn list_contacts(&self, filter: &ContactFilter, scope: &Scope, page: PageRequest) -> Result<Page<Contact>> {
        let mut q: QueryBuilder<Postgres> =
            QueryBuilder::new(format!("SELECT {CONTACT_COLS} FROM contacts WHERE 1 = 1"));
        push_scope(&mut q, scope, RecordKind::Contact, "");
        if let Some(o) = filter.owner {
            q.push(" AND owner_id = ").push_bind(o.0);
        }
        if let Some(a) = filter.account {
            q.push(" AND account_id = ").push_bind(a.0);
        }
        if let Some(t) = filter.text.as_deref().filter(|t| !t.trim().is_empty()) {
            q.push(" AND search_text LIKE ").push_bind(like_pattern(t)).push(" ESCAPE '\\'");
        }
        if let Some(after) = page.after {
            q.push(" AND id < ").push_bind(after);
        }
        q.push(" ORDER BY id DESC LIMIT ").push_bind(page.limit as i64 + 1);
        let rows: Vec<ContactRow> = q.build_query_as().fetch_all(&self.read).await.db()?;
        let items = rows.into_iter().map(TryInto::try_into).collect::<Result<Vec<Contact>>>()?;
        Ok(Page::from_rows(items, page.limit, |c| c.id.0))
    }

    async fn create_lead(&self, new: &NewLead, owner: UserId, now: DateTime<Utc>) -> Result<Lead> {
        new.validate()?;
        let mut conn = self.write.acquire().await.db()?;
        Self::user_exists(&mut conn, owner, "owner_id").await?;
        let (email, phone) = (trimmed(new.email.as_deref()), trimmed(new.phone.as_deref()));
        let row: LeadRow = sqlx::query_as(&format!(
            "INSERT INTO leads (name, company, company_key, email, email_key, phone, phone_key, search_text, channel, \
             status, disqualify_reason, owner_id, notes, converted_deal_id, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $12, $8, 'new', NULL, $9, $10, NULL, 1, $11, $11) RETURNING {LEAD_COLS}"
        ))
        .bind(new.name.trim())
        .bind(new.company.trim())
        .bind(normalize::company(&new.company))
        .bind(&email)
        .bind(email.as_deref().and_then(normalize::email))
        .bind(&phone)
        .bind(phone.as_deref().and_then(normalize::phone))
        .bind(new.channel.as_str())
        .bind(owner.0)
        .bind(&new.notes)
        .bind(now)
        .bind(normalize::search_text(&[Some(&new.name), Some(&new.company), email.as_deref()]))
        .fetch_one(&mut *conn)
        .await
        .db()?;
        row.try_into()
    }

    async fn lead(&self, id: LeadId) -> Result<Lead> {
        let mut conn = self.read.acquire().await.db()?;
        Self::load_lead(&mut conn, id).await
    }

    async fn update_lead(&self, id: LeadId, patch: &LeadPatch, now: DateTime<Utc>) -> Result<Lead> {
        patch.validate()?;
        let mut tx = self.write.begin().await.db()?;
        let cur = Self::load_lead(&mut tx, id).await?;
        check_version("lead", id.0, cur.version, patch.version)?;
        if let Some(owner) = patch.owner_id {
            Self::user_exists(&mut tx, owner, "owner_id").await?;
        }
        let company = patch.company.as_deref().unwrap_or(&cur.company).trim().to_string();
        let name = patch.name.as_deref().unwrap_or(&cur.name).trim().to_string();
        let email = trimmed(patch.email.clone().unwrap_or(cur.email.clone()).as_deref());
        let phone = trimmed(patch.phone.clone().unwrap_or(cur.phone.clone()).as_deref());
        let row: Option<LeadRow> = sqlx::query_as(&format!(
            "UPDATE leads SET name = $1, company = $2, company_key = $3, email = $4, email_key = $5, phone = $6, \
             phone_key = $7, channel = $8, owner_id = $9, notes = $10, version = version + 1, updated_at = $11, \
             search_text = $14 WHERE id = $12 AND version = $13 RETURNING {LEAD_COLS}"
        ))
        .bind(&name)
        .bind(&company)
        .bind(normalize::company(&company))
        .bind(&email)
        .bind(email.as_deref().and_then(normalize::email))
        .bind(&phone)
        .bind(phone.as_deref().and_then(normalize::phone))
        .bind(patch.channel.unwrap_or(cur.channel).as_str())
        .bind(patch.owner_id.unwrap_or(cur.owner_id).0)
        .bind(patch.notes.as_deref().unwrap_or(&cur.notes))
        .bind(now)
        .bind(id.0)
        .bind(patch.version)
        .bind(normalize::search_text(&[Some(&name), Some(&company), email.as_deref()]))
        .fetch_optional(&mut *tx)
        .await
        .db()?;
        let row = row.ok_or_else(|| conflict("lead", id.0))?;
        tx.commit().await.db()?;
        row.try_into()
    }

    async fn set_lead_status(&self, id: LeadId, to: LeadStatus, q: &Qualification, now: DateTime<Utc>) -> Result<Lead> {
        let mut tx = self.write.begin().await.db()?;
        let cur = Self::load_lead(&mut tx, id).await?;
        check_version("lead", id.0, cur.version, q.version)?;
        if to == LeadStatus::Converted {
            return Err(Error::invalid("status", "a lead becomes converted only by converting it"));
        }
        if !cur.status.can_become(to) {
            return Err(Error::invalid(
                "status",
                format!("a {} lead cannot become {}", cur.status.as_str(), to.as_str()),
            ));
        }
        let reason = q.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
        if to == LeadStatus::Disqualified && reason.is_none() {
            return Err(Error::invalid("reason", "disqualifying a lead needs a reason"));
        }
        let reason = if to == LeadStatus::Disqualified { reason } else { None };
        let row: Option<LeadRow> = sqlx::query_as(&format!(
            "UPDATE leads SET status = $1, disqualify_reason = $2, version = version + 1, updated_at = $3 \
             WHERE id = $4 AND version = $5 RETURNING {LEAD_COLS}"
        ))
        .bind(to.as_str())
        .bind(reason)
        .bind(now)
        .bind(id.0)
        .bind(q.version)
        .fetch_optional(&mut *tx)
        .await
        .db()?;
        let row = row.ok_or_else(|| conflict("lead", id.0))?;
        tx.commit().await.db()?;
        row.try_into()
    }

    async fn list_leads(&self, filter: &LeadFilter, scope: &Scope, page: PageRequest) -> Result<Page<Lead>> {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!("SELECT {LEAD_COLS} FROM leads WHERE 1 = 1"));
        push_scope(&mut q, scope, RecordKind::Lead, "");
        if let Some(o) = filter.owner {
            q.push(" AND owner_id = ").push_bind(o.0);
        }
        if let Some(s) = filter.status {
            q.push(" AND status = ").push_bind(s.as_str());
        }
        if let Some(c) = filter.channel {
            q.push(" AND channel = ").push_bind(c.as_str());
        }
        if let Some(t) = filter.text.as_deref().filter(|t| !t.trim().is_empty()) {
            q.push(" AND search_text LIKE ").push_bind(like_pattern(t)).push(" ESCAPE '\\'");
        }
        if let Some(after) = page.after {
            q.push(" AND id < ").push_bind(after);
        }
        q.push(" ORDER BY id DESC LIMIT ").push_bind(page.limit as i64 + 1);
        let rows: Vec<LeadRow> = q.build_query_as().fetch_all(&self.read).await.db()?;
        let items = rows.into_iter().map(TryInto::try_into).collect::<Result<Vec<Lead>>>()?;
        Ok(Page::from_rows(items, page.limit, |l| l.id.0))
    }

    async fn find_duplicates(
        &self,
        keys: &DuplicateKeys,
        except_lead: Option<LeadId>,
        scope: &Scope,
    ) -> Result<Vec<Duplicate>> {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new("");
        let mut first = true;
        let mut part = |q: &mut QueryBuilder<Postgres>,
                        kind: RecordKind,
                        table: &str,
                        column: &str,
                        on: &str,
                        key: &str| {
            let entity = kind.as_str();
            if !first {
                q.push(" UNION ALL ");
            }
            first = false;
            q.push(format!("SELECT * FROM (SELECT '{entity}' AS entity, id, name, '{on}' AS matched_on FROM {table} WHERE {column} = "));
            q.push_bind(key.to_string());
            if table == "leads" {
                q.push(" AND id <> ").push_bind(except_lead.map(|l| l.0).unwrap_or(0));
            }
            push_scope(q, scope, kind, "");
            q.push(" ORDER BY id LIMIT 10) AS ").push(format!("{table}_{on}"));
        };
        if let Some(e) = &keys.email {
            part(&mut q, RecordKind::Lead, "leads", "email_key", "email", e);
            part(&mut q, RecordKind::Contact, "contacts", "email_key", "email", e);
        }
        if let Some(p) = &keys.phone {
            part(&mut q, RecordKind::Lead, "leads", "phone_key", "phone", p);
            part(&mut q, RecordKind::Contact, "contacts", "phone_key", "phone", p);
        }
        if let Some(c) = &keys.company {
            part(&mut q, RecordKind::Lead, "leads", "company_key", "company", c);
            part(&mut q, RecordKind::Account, "accounts", "name_key", "company", c);
        }
        if first {
            return Ok(Vec::new());
        }
        let rows: Vec<(String, i64, String, String)> = q.build_query_as().fetch_all(&self.read).await.db()?;
        Ok(rows.into_iter().map(|(entity, id, name, matched_on)| Duplicate { entity, id, name, matched_on }).collect())
    }

    async fn convert_lead(
        &self,
        id: LeadId,
        req: &ConvertLead,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Conversion> {
        let process = match self.latest_published(req.process_id).await {
            Err(Error::NotFound { .. }) => {
                return Err(Error::invalid("process_id", format!("process {} does not exist", req.process_id)));
            }
            other => other?,
        };
        let mut tx = self.write.begin().await.db()?;
        let lead = Self::load_lead(&mut tx, id).await?;
        check_version("lead", id.0, lead.version, req.version)?;
        lead.ensure_convertible()?;
        let (account, account_created) = match req.account_id {
            Some(a) => match Self::load_account(&mut tx, a).await {
                Err(Error::NotFound { .. }) => {
                    return Err(Error::invalid("account_id", format!("account {a} does not exist")));
                }
                other => (other?, false),
            },
            None => {
                let key = normalize::company(&lead.company);
                let existing: Option<AccountRow> = match &key {
                    Some(k) => sqlx::query_as(&format!(
                        "SELECT {ACCOUNT_COLS} FROM accounts WHERE name_key = $1 ORDER BY id LIMIT 1"
                    ))
                    .bind(k)
                    .fetch_optional(&mut *tx)
                    .await
                    .db()?,
                    None => None,
                };
                match existing {
                    Some(row) => (row.into(), false),
                    None => (Self::insert_account(&mut tx, &lead.new_account(), lead.owner_id, now).await?, true),
                }
            }
        };
        let (contact, contact_created) = match req.contact_id {
            Some(c) => match Self::load_contact(&mut tx, c).await {
                Err(Error::NotFound { .. }) => {
                    return Err(Error::invalid("contact_id", format!("contact {c} does not exist")));
                }
                other => (other?, false),
            },
            None => (Self::insert_contact(&mut tx, &lead.new_contact(account.id), lead.owner_id, now).await?, true),
        };
        let new_deal = lead.new_deal(req, account.id, contact.id);
        let deal = Self::insert_deal(&mut tx, &new_deal, lead.owner_id, Some(lead.id), actor, &process, now).await?;
        let row: Option<LeadRow> = sqlx::query_as(&format!(
            "UPDATE leads SET status = 'converted', converted_deal_id = $1, version = version + 1, updated_at = $2 \
             WHERE id = $3 AND version = $4 RETURNING {LEAD_COLS}"
        ))
        .bind(deal.id.0)
        .bind(now)
        .bind(id.0)
        .bind(req.version)
        .fetch_optional(&mut *tx)
        .await
        .db()?;
        let lead = row.ok_or_else(|| conflict("lead", id.0))?.try_into()?;
        tx.commit().await.db()?;
        Ok(Conversion { lead, account, contact, deal, account_created, contact_created })
    }

    async fn create_deal(&self, new: &NewDeal, actor: &Actor, now: DateTime<Utc>) -> Result<Deal> {
        new.validate()?;
        let process = match self.latest_published(new.process_id).await {
            Err(Error::NotFound { .. }) => {
                return Err(Error::invalid("process_id", format!("process {} does not exist", new.process_id)));
            }
            other => other?,
        };
        let mut tx = self.write.begin().await.db()?;
        let deal =
            Self::insert_deal(&mut tx, new, new.owner_id.unwrap_or(actor.user), None, actor, &process, now).await?;
        tx.commit().await.db()?;
        Ok(deal)
    }

    async fn deal(&self, id: DealId) -> Result<Deal> {
        let mut conn = self.read.acquire().await.db()?;
        Ok(Self::load_deal(&mut conn, id).await?.0)
    }

    async fn list_deals(&self, filter: &DealFilter, scope: &Scope, page: PageRequest) -> Result<Page<DealSummary>> {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            "SELECT {SUMMARY_COLS} FROM deals d JOIN accounts a ON a.id = d.account_id WHERE 1 = 1"
        ));
        push_deal_filter(&mut q, filter, scope);
        if let Some(after) = page.after {
            q.push(" AND d.id < ").push_bind(after);
        }
        q.push(" ORDER BY d.id DESC LIMIT ").push_bind(page.limit as i64 + 1);
        let rows: Vec<SummaryRow> = q.build_query_as().fetch_all(&self.read).await.db()?;
        let items = rows.into_iter().map(TryInto::try_into).collect::<Result<Vec<DealSummary>>>()?;
        Ok(Page::from_rows(items, page.limit, |d| d.id.0))
    }

    async fn deal_totals(&self, filter: &DealFilter, scope: &Scope) -> Result<DealTotals> {
        // Every deal has its account (a NOT NULL foreign key), so the list's join drops none.
        // SUM(BIGINT) is NUMERIC: exact, cast back once; `DealTotals::fold` rounds the weighted
        // sum down once per currency total, as the port documents.
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
            "SELECT d.currency, COUNT(*), SUM(d.amount_minor)::BIGINT, \
             SUM(d.amount_minor * d.probability)::BIGINT FROM deals d WHERE 1 = 1",
        );
        push_deal_filter(&mut q, filter, scope);
        q.push(" GROUP BY d.currency ORDER BY d.currency");
        let rows: Vec<(Option<String>, i64, Option<i64>, Option<i64>)> =
            q.build_query_as().fetch_all(&self.read).await.db()?;
        DealTotals::fold(rows)
    }

    async fn stage_totals(&self, filter: &DealFilter, scope: &Scope) -> Result<Vec<StageTotals>> {
        let counted = filter.status.is_none()
            && filter.channel.is_none()
            && filter.account.is_none()
            && filter.text.as_deref().is_none_or(|t| t.trim().is_empty());
        let groups: Vec<TotalsRow> = if counted {
            // The running totals the trigger of migration 3 keeps, per owner; plus, for a scope
            // that is not everything, the deals shared with the user whose owners it does not reach.
            let owners: Option<Vec<i64>> = match scope.read_reach() {
                Reach::All => None,
                Reach::Owners(ids) => Some(ids.iter().map(|u| u.0).collect()),
                Reach::Nothing => Some(Vec::new()),
            };
            let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
                "SELECT current_node, NULLIF(currency, ''), SUM(deals)::BIGINT, SUM(amount_minor)::BIGINT, \
                 SUM(weighted)::BIGINT FROM deal_stage_counters WHERE deals <> 0",
            );
            if let Some(p) = filter.process {
                q.push(" AND process_id = ").push_bind(p.0);
            }
            if let Some(node) = &filter.stage {
                q.push(" AND current_node = ").push_bind(node.clone());
            }
            if let Some(o) = filter.owner {
                q.push(" AND owner_id = ").push_bind(o.0);
            }
            if let Some(owners) = &owners {
                q.push(" AND owner_id = ANY(").push_bind(owners.clone()).push(")");
            }
            q.push(" GROUP BY current_node, currency");
            let mut groups: Vec<TotalsRow> = q.build_query_as().fetch_all(&self.read).await.db()?;
            if let Some(owners) = owners {
                let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
                    "SELECT d.current_node, d.currency, COUNT(*), SUM(d.amount_minor)::BIGINT, \
                     SUM(d.amount_minor * d.probability)::BIGINT FROM record_shares s JOIN deals d ON d.id = s.record_id \
                     WHERE s.record_kind = 'deal' AND s.user_id = ",
                );
                q.push_bind(scope.user.0);
                if let Some(p) = filter.process {
                    q.push(" AND d.process_id = ").push_bind(p.0);
                }
                if let Some(node) = &filter.stage {
                    q.push(" AND d.current_node = ").push_bind(node.clone());
                }
                if let Some(o) = filter.owner {
                    q.push(" AND d.owner_id = ").push_bind(o.0);
                }
                q.push(" AND NOT (d.owner_id = ANY(").push_bind(owners).push("))");
                q.push(" GROUP BY d.current_node, d.currency");
                groups.extend(q.build_query_as::<TotalsRow>().fetch_all(&self.read).await.db()?);
            }
            groups
        } else {
            let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
                "SELECT d.current_node, d.currency, COUNT(*), SUM(d.amount_minor)::BIGINT, \
                 SUM(d.amount_minor * d.probability)::BIGINT FROM deals d WHERE 1 = 1",
            );
            push_deal_filter(&mut q, filter, scope);
            q.push(" GROUP BY d.current_node, d.currency");
            q.build_query_as().fetch_all(&self.read).await.db()?
        };
        StageTotals::fold(groups)
    }

    async fn update_deal(&self, id: DealId, patch: &DealPatch, actor: &Actor, now: DateTime<Utc>) -> Result<Deal> {
        let mut read = self.read.acquire().await.db()?;
        let (deal, seq, last_at) = Self::load_deal(&mut read, id).await?;
        drop(read);
        let version = self.cached_version(deal.process_id, deal.process_version).await?;
        let (next, events) = plan_patch(&version.definition, &deal, Some(last_at), patch, now)?;
        if events.is_empty() {
            return Ok(deal);
        }
        let mut tx = self.write.begin().await.db()?;
        if next.owner_id != deal.owner_id {
            Self::user_exists(&mut tx, next.owner_id, "owner_id").await?;
        }
        if next.contact_ids != deal.contact_ids {
            Self::contacts_exist(&mut tx, &next.contact_ids).await?;
        }
        let at = events[0].occurred_at;
        let done = sqlx::query(
            "UPDATE deals SET title = $1, search_text = $14, amount_minor = $2, currency = $3, expected_close_date = $4, probability = $5, \
             probability_overridden = $6, owner_id = $7, needs_summary = $8, version = version + 1, \
             last_event_seq = $9, last_event_at = $10, updated_at = $11 WHERE id = $12 AND version = $13",
        )
        .bind(&next.title)
        .bind(next.amount.map(|m| m.minor))
        .bind(next.amount.map(|m| m.currency.code().to_string()))
        .bind(next.expected_close_date)
        .bind(next.probability as i16)
        .bind(next.probability_overridden)
        .bind(next.owner_id.0)
        .bind(&next.needs_summary)
        .bind(seq + events.len() as i64)
        .bind(at)
        .bind(now)
        .bind(id.0)
        .bind(deal.version)
        .bind(normalize::search_text(&[Some(&next.title)]))
        .execute(&mut *tx)
        .await
        .db()?;
        if done.rows_affected() == 0 {
            return Err(conflict("deal", id.0));
        }
        if next.contact_ids != deal.contact_ids {
            Self::replace_contacts(&mut tx, id, &next.contact_ids).await?;
        }
        for (i, e) in events.iter().enumerate() {
            Self::insert_event(&mut tx, &next, seq + 1 + i as i64, e, actor, now).await?;
        }
        let (updated, _, _) = Self::load_deal(&mut tx, id).await?;
        tx.commit().await.db()?;
        Ok(updated)
    }

    async fn move_deal(
        &self,
        id: DealId,
        req: &MoveRequest,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(Deal, DealEvent)> {
        let mut read = self.read.acquire().await.db()?;
        let (deal, seq, last_at) = Self::load_deal(&mut read, id).await?;
        drop(read);
        let version = self.cached_version(deal.process_id, deal.process_version).await?;
        let plan = plan_move(&version.definition, &deal, Some(last_at), req, now)?;
        let at = plan.event.occurred_at;
        let closed_at = (plan.status != DealStatus::Open).then_some(at);
        let mut tx = self.write.begin().await.db()?;
        let done = sqlx::query(
            "UPDATE deals SET current_node = $1, status = $2, probability = $3, probability_overridden = FALSE, \
             lost_reason = $4, stage_entered_at = $5, closed_at = $6, version = version + 1, last_event_seq = $7, \
             last_event_at = $5, updated_at = $8 WHERE id = $9 AND version = $10",
        )
        .bind(&plan.to_node)
        .bind(plan.status.as_str())
        .bind(plan.probability as i16)
        .bind(&plan.lost_reason)
        .bind(at)
        .bind(closed_at)
        .bind(seq + 1)
        .bind(now)
        .bind(id.0)
        .bind(deal.version)
        .execute(&mut *tx)
        .await
        .db()?;
        if done.rows_affected() == 0 {
            return Err(conflict("deal", id.0));
        }
        // Entering a stage starts a fresh visit: its checklist begins unticked.
        sqlx::query("DELETE FROM deal_steps WHERE deal_id = $1 AND node_id = $2")
            .bind(id.0)
            .bind(&plan.to_node)
            .execute(&mut *tx)
            .await
            .db()?;
        let moved = plan.applied_to(deal, now);
        let event = Self::insert_event(&mut tx, &moved, seq + 1, &plan.event, actor, now).await?;
        tx.commit().await.db()?;
        Ok((moved, event))
    }

    async fn toggle_step(&self, id: DealId, toggle: &StepToggle, actor: &Actor, now: DateTime<Utc>) -> Result<Deal> {
        let mut read = self.read.acquire().await.db()?;
        let (deal, seq, last_at) = Self::load_deal(&mut read, id).await?;
        drop(read);
        let version = self.cached_version(deal.process_id, deal.process_version).await?;
        let event = plan_step(&version.definition, &deal, Some(last_at), toggle, now)?;
        let mut tx = self.write.begin().await.db()?;
        Self::toggle_step_in(&mut tx, &deal, seq, &event, toggle, actor, now).await?;
        let (updated, _, _) = Self::load_deal(&mut tx, id).await?;
        tx.commit().await.db()?;
        Ok(updated)
    }

    async fn deal_events(&self, id: DealId) -> Result<Vec<DealEvent>> {
        let mut conn = self.read.acquire().await.db()?;
        Self::row_exists(&mut conn, "deals", id.0, "id", "deal").await.map_err(|_| Error::not_found("deal", id))?;
        let rows: Vec<EventRow> =
            sqlx::query_as(&format!("SELECT {EVENT_COLS} FROM deal_events WHERE deal_id = $1 ORDER BY seq"))
                .bind(id.0)
                .fetch_all(&mut *conn)
                .await
                .db()?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn deal_facts(
        &self,
        process: ProcessId,
        scope: &Scope,
        after: Option<DealId>,
        limit: u32,
    ) -> Result<Vec<DealFacts>> {
        let mut conn = self.read.acquire().await.db()?;
        Self::row_exists(&mut conn, "processes", process.0, "id", "process")
            .await
            .map_err(|_| Error::not_found("process", process))?;
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            "SELECT {FACTS_COLS} FROM deals d JOIN accounts a ON a.id = d.account_id WHERE d.process_id = "
        ));
        q.push_bind(process.0);
        if let Some(after) = after {
            q.push(" AND d.id > ").push_bind(after.0);
        }
        push_scope(&mut q, scope, RecordKind::Deal, "d.");
        q.push(" ORDER BY d.id LIMIT ").push_bind(i64::from(limit));
        let rows: Vec<FactsRow> = q.build_query_as().fetch_all(&mut *conn).await.db()?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn stage_entries_of(&self, process: ProcessId, deals: &[DealId]) -> Result<Vec<StageEntry>> {
        let ids: Vec<i64> = deals.iter().map(|d| d.0).collect();
        let rows: Vec<(i64, i32, String, DateTime<Utc>, i64)> = sqlx::query_as(
            "SELECT deal_id, process_version, to_node, occurred_at, actor_id FROM deal_events \
             WHERE process_id = $1 AND (kind IN ('created', 'moved') OR (kind = 'migrated' AND to_node <> from_node)) \
             AND deal_id = ANY($2) ORDER BY deal_id, seq",
        )
        .bind(process.0)
        .bind(&ids)
        .fetch_all(&self.read)
        .await
        .db()?;
        Ok(rows
            .into_iter()
            .map(|(deal, process_version, node, occurred_at, actor)| StageEntry {
                deal_id: DealId(deal),
                process_version,
                node,
                occurred_at,
                actor_id: UserId(actor),
            })
            .collect())
    }

    async fn events_since(&self, after: i64, also: &[i64]) -> Result<Vec<EventMark>> {
        let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
            "SELECT id, deal_id, process_id FROM deal_events WHERE id > $1 \
             UNION ALL SELECT id, deal_id, process_id FROM deal_events WHERE id <= $1 AND id = ANY($2) ORDER BY id",
        )
        .bind(after)
        .bind(also)
        .fetch_all(&self.read)
        .await
        .db()?;
        Ok(rows
            .into_iter()
            .map(|(id, deal, process)| EventMark { id, deal: DealId(deal), process: ProcessId(process) })
            .collect())
    }

    async fn max_ids(&self) -> Result<MaxIds> {
        let row: (Option<i64>, Option<i64>, Option<i64>, Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT (SELECT MAX(id) FROM accounts), (SELECT MAX(id) FROM contacts), (SELECT MAX(id) FROM leads), \
             (SELECT MAX(id) FROM deals), (SELECT MAX(id) FROM deal_events)",
        )
        .fetch_one(&self.read)
        .await
        .db()?;
        Ok(MaxIds {
            account: row.0.unwrap_or(0),
            contact: row.1.unwrap_or(0),
            lead: row.2.unwrap_or(0),
            deal: row.3.unwrap_or(0),
            event: row.4.unwrap_or(0),
        })
    }

    async fn import_history(&self, batch: &HistoryBatch) -> Result<()> {
        let mut tx = self.write.begin().await.db()?;
        for chunk in batch.accounts.chunks(BULK_ROWS) {
            let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
                "INSERT INTO accounts (id, name, name_key, search_text, industry, region, website, owner_id, version, created_at, updated_at, \
                 customer_group) ",
            );
            q.push_values(chunk, |mut b, a| {
                b.push_bind(a.id.0)
                    .push_bind(&a.name)
                    .push_bind(normalize::company(&a.name))
                    .push_bind(normalize::search_text(&[Some(&a.name)]))
                    .push_bind(&a.industry)
                    .push_bind(&a.region)
                    .push_bind(&a.website)
                    .push_bind(a.owner_id.0)
                    .push_bind(a.version)
                    .push_bind(a.created_at)
                    .push_bind(a.updated_at)
                    .push_bind(&a.customer_group);
            });
            q.build().execute(&mut *tx).await.db()?;
        }
        for chunk in batch.contacts.chunks(BULK_ROWS) {
            let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
                "INSERT INTO contacts (id, account_id, name, title, email, email_key, phone, phone_key, search_text, wechat_id, \
                 preferred_channel, consent_email, consent_sms, consent_phone, consent_wechat, owner_id, version, \
                 created_at, updated_at) ",
            );
            q.push_values(chunk, |mut b, c| {
                b.push_bind(c.id.0)
                    .push_bind(c.account_id.map(|a| a.0))
                    .push_bind(&c.name)
                    .push_bind(&c.title)
                    .push_bind(&c.email)
                    .push_bind(c.email.as_deref().and_then(normalize::email))
                    .push_bind(&c.phone)
                    .push_bind(c.phone.as_deref().and_then(normalize::phone))
                    .push_bind(normalize::search_text(&[Some(&c.name), c.email.as_deref()]))
                    .push_bind(&c.wechat_id)
                    .push_bind(c.preferred_channel.map(|p| p.as_str()))
                    .push_bind(c.consent.email)
                    .push_bind(c.consent.sms)
                    .push_bind(c.consent.phone)
                    .push_bind(c.consent.wechat)
                    .push_bind(c.owner_id.0)
                    .push_bind(c.version)
                    .push_bind(c.created_at)
                    .push_bind(c.updated_at);
            });
            q.build().execute(&mut *tx).await.db()?;
        }
        for chunk in batch.leads.chunks(BULK_ROWS) {
            let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
                "INSERT INTO leads (id, name, company, company_key, email, email_key, phone, phone_key, search_text, channel, status, \
                 disqualify_reason, owner_id, notes, converted_deal_id, version, created_at, updated_at) ",
            );
            q.push_values(chunk, |mut b, l| {
                b.push_bind(l.id.0)
                    .push_bind(&l.name)
                    .push_bind(&l.company)
                    .push_bind(normalize::company(&l.company))
                    .push_bind(&l.email)
                    .push_bind(l.email.as_deref().and_then(normalize::email))
                    .push_bind(&l.phone)
                    .push_bind(l.phone.as_deref().and_then(normalize::phone))
                    .push_bind(normalize::search_text(&[Some(&l.name), Some(&l.company), l.email.as_deref()]))
                    .push_bind(l.channel.as_str())
                    .push_bind(l.status.as_str())
                    .push_bind(&l.disqualify_reason)
                    .push_bind(l.owner_id.0)
                    .push_bind(&l.notes)
                    .push_bind(l.converted_deal_id.map(|d| d.0))
                    .push_bind(l.version)
                    .push_bind(l.created_at)
                    .push_bind(l.updated_at);
            });
            q.build().execute(&mut *tx).await.db()?;
        }
        // Each deal's last event gives its sequence counter and business time.
        let mut last: std::collections::HashMap<i64, (i64, DateTime<Utc>)> = std::collections::HashMap::new();
        for e in &batch.events {
            let entry = last.entry(e.deal_id.0).or_insert((0, e.occurred_at));
            if e.seq >= entry.0 {
                *entry = (e.seq, e.occurred_at);
            }
        }
        for chunk in batch.deals.chunks(BULK_ROWS) {
            let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
                "INSERT INTO deals (id, title, search_text, account_id, owner_id, process_id, process_version, current_node, \
                 amount_minor, currency, expected_close_date, probability, probability_overridden, status, lost_reason, \
                 needs_summary, channel, lead_id, version, last_event_seq, last_event_at, stage_entered_at, created_at, \
                 updated_at, closed_at) VALUES ",
            );
            for (i, d) in chunk.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                let (seq, at) = last.get(&d.id.0).copied().unwrap_or((0, d.created_at));
                Self::write_deal_row(&mut q, d, seq, at);
            }
            q.build().execute(&mut *tx).await.db()?;
        }
        let links: Vec<(i64, i64, i64)> = batch
            .deals
            .iter()
            .flat_map(|d| d.contact_ids.iter().enumerate().map(move |(i, c)| (d.id.0, c.0, i as i64)))
            .collect();
        for chunk in links.chunks(BULK_ROWS) {
            let mut q: QueryBuilder<Postgres> =
                QueryBuilder::new("INSERT INTO deal_contacts (deal_id, contact_id, position) ");
            q.push_values(chunk, |mut b, (d, c, p)| {
                b.push_bind(*d).push_bind(*c).push_bind(*p);
            });
            q.build().execute(&mut *tx).await.db()?;
        }
        for chunk in batch.steps.chunks(BULK_ROWS) {
            let mut q: QueryBuilder<Postgres> =
                QueryBuilder::new("INSERT INTO deal_steps (deal_id, node_id, step_id, done_at) ");
            q.push_values(chunk, |mut b, (d, n, s, at)| {
                b.push_bind(d.0).push_bind(n).push_bind(s).push_bind(*at);
            });
            q.build().execute(&mut *tx).await.db()?;
        }
        for chunk in batch.events.chunks(BULK_ROWS) {
            let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
                "INSERT INTO deal_events (id, deal_id, seq, kind, process_id, process_version, from_node, to_node, edge_id, \
                 actor_id, occurred_at, recorded_at, amount_minor, currency, probability, expected_close_date, details) ",
            );
            q.push_values(chunk, |mut b, e| {
                b.push_bind(e.id)
                    .push_bind(e.deal_id.0)
                    .push_bind(e.seq)
                    .push_bind(e.kind.as_str())
                    .push_bind(e.process_id.0)
                    .push_bind(e.process_version)
                    .push_bind(&e.from_node)
                    .push_bind(&e.to_node)
                    .push_bind(&e.edge_id)
                    .push_bind(e.actor_id.0)
                    .push_bind(e.occurred_at)
                    .push_bind(e.recorded_at)
                    .push_bind(e.amount_minor)
                    .push_bind(e.currency.map(|c| c.code().to_string()))
                    .push_bind(e.probability as i16)
                    .push_bind(e.expected_close_date)
                    .push_bind(e.details.to_string());
            });
            q.build().execute(&mut *tx).await.db()?;
        }
        tx.commit().await.db()?;
        Ok(())
    }

    async fn finish_import(&self) -> Result<()> {
        self.after_bulk_write().await
    }

    async fn needs(&self, deal: DealId) -> Result<Option<NeedsAnalysis>> {
        let mut conn = self.read.acquire().await.db()?;
        Self::needs_in(&mut conn, deal).await
    }

    async fn save_needs(
        &self,
        deal: DealId,
        input: &NeedsInput,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<NeedsAnalysis> {
        input.validate()?;
        let mut tx = self.write.begin().await.db()?;
        let n = Self::save_needs_in(&mut tx, deal, input, actor, now).await?;
        tx.commit().await.db()?;
        Ok(n)
    }

    async fn create_product(&self, new: &NewProduct, now: DateTime<Utc>) -> Result<Product> {
        new.validate()?;
        let mut tx = self.write.begin().await.db()?;
        let p = Self::create_product_in(&mut tx, new, now).await?;
        tx.commit().await.db()?;
        Ok(p)
    }

    async fn list_products(&self) -> Result<Vec<Product>> {
        let mut conn = self.read.acquire().await.db()?;
        Self::products_in(&mut conn).await
    }

    async fn quotes(&self, deal: DealId) -> Result<Vec<Quote>> {
        let mut conn = self.read.acquire().await.db()?;
        Self::quotes_in(&mut conn, deal).await
    }

    async fn quote_by_token(&self, token_hash: &str) -> Result<Option<Quote>> {
        let mut conn = self.read.acquire().await.db()?;
        Self::quote_by_token_in(&mut conn, token_hash).await
    }

    async fn save_quotes(&self, write: &QuoteWrite, actor: &Actor, now: DateTime<Utc>) -> Result<Vec<Quote>> {
        let mut tx = self.write.begin().await.db()?;
        let saved = Self::save_quotes_in(&mut tx, write, actor, now).await?;
        if let Some(step) = &write.tick_step {
            let (deal, seq, last_at) = Self::load_deal(&mut tx, write.deal).await?;
            if !deal.completed_steps.contains(step) {
                let version = self.cached_version(deal.process_id, deal.process_version).await?;
                let toggle = StepToggle { step: step.clone(), done: true, version: deal.version, occurred_at: None };
                let event = plan_step(&version.definition, &deal, Some(last_at), &toggle, now)?;
                Self::toggle_step_in(&mut tx, &deal, seq, &event, &toggle, actor, now).await?;
            }
        }
        tx.commit().await.db()?;
        Ok(saved)
    }

    async fn contracts(&self, deal: DealId) -> Result<Vec<Contract>> {
        let mut conn = self.read.acquire().await.db()?;
        Self::contracts_in(&mut conn, deal).await
    }

    async fn save_contract(
        &self,
        contract: &Contract,
        read_version: Option<i64>,
        notes: &[DealNote],
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Contract> {
        let mut tx = self.write.begin().await.db()?;
        let c = Self::save_contract_in(&mut tx, contract, read_version, notes, actor, now).await?;
        tx.commit().await.db()?;
        Ok(c)
    }

    async fn objections(&self, deal: DealId) -> Result<Vec<Objection>> {
        let mut conn = self.read.acquire().await.db()?;
        Self::objections_in(&mut conn, deal).await
    }

    async fn save_objection(
        &self,
        objection: &Objection,
        read_version: Option<i64>,
        note: &DealNote,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Objection> {
        let mut tx = self.write.begin().await.db()?;
        let o = Self::save_objection_in(&mut tx, objection, read_version, note, actor, now).await?;
        tx.commit().await.db()?;
        Ok(o)
    }

    async fn playbook(&self, process: ProcessId, stage: &str) -> Result<Option<Playbook>> {
        let mut conn = self.read.acquire().await.db()?;
        Self::playbook_in(&mut conn, process, stage).await
    }

    async fn save_playbook(&self, playbook: &Playbook, read_version: Option<i64>) -> Result<Playbook> {
        let mut conn = self.write.acquire().await.db()?;
        Self::save_playbook_in(&mut conn, playbook, read_version).await
    }

    async fn price_books(&self) -> Result<Vec<PriceBook>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT body, version FROM price_books ORDER BY name").fetch_all(&self.read).await.db()?;
        rows.into_iter()
            .map(|(body, version)| {
                let mut b: PriceBook = crate::documents::from_json("price book", &body)?;
                b.version = Some(version);
                Ok(b)
            })
            .collect()
    }

    async fn save_price_book(&self, book: &PriceBook) -> Result<PriceBook> {
        let mut stored = book.clone();
        stored.version = None;
        let body = crate::documents::to_json(&stored)?;
        let done = match book.version {
            None => sqlx::query(
                "INSERT INTO price_books (name, body, version) VALUES ($1, $2, 1) ON CONFLICT (name) DO NOTHING",
            )
            .bind(&book.name)
            .bind(&body)
            .execute(&self.write)
            .await
            .db()?,
            Some(read) => {
                sqlx::query("UPDATE price_books SET body = $1, version = version + 1 WHERE name = $2 AND version = $3")
                    .bind(&body)
                    .bind(&book.name)
                    .bind(read)
                    .execute(&self.write)
                    .await
                    .db()?
            }
        };
        if done.rows_affected() == 0 {
            return Err(Error::Conflict(format!(
                "the price book `{}` exists already or was changed since you read it; reload and try again",
                book.name
            )));
        }
        stored.version = Some(book.version.unwrap_or(0) + 1);
        Ok(stored)
    }

    async fn note_deal(&self, deal: DealId, notes: &[DealNote], actor: &Actor, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.write.begin().await.db()?;
        Self::note_deal_in(&mut tx, deal, notes, actor, now).await?;
        tx.commit().await.db()
    }
}
