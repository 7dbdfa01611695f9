//! Needs, catalog, quotes and contracts on PostgreSQL: the same documents and the same rules
//! as `sqlite/selling.rs`. Each change and its notes for the deal's log share one transaction.

use chrono::{DateTime, Utc};
use salesflow_domain::error::{Error, Result};
use salesflow_domain::ids::*;
use salesflow_domain::records::{Actor, EventKind, NewEvent};
use salesflow_domain::selling::catalog::{NewProduct, Product};
use salesflow_domain::selling::contract::Contract;
use salesflow_domain::selling::needs::{NeedsAnalysis, NeedsInput};
use salesflow_domain::selling::objection::{Objection, Playbook};
use salesflow_domain::selling::quote::{DealNote, Quote};
use salesflow_domain::store::QuoteWrite;
use sqlx::PgConnection;

use super::PgStore;
use super::store::conflict;
use crate::DbResult;
use crate::documents::{self, QuoteRow, from_json, quote_parts, to_json};

const QUOTE_COLS: &str = "id, deal_id, number, status, content, state, version";

impl PgStore {
    /// Appends `notes` to the deal's log, at the deal's current node; the deal's version stays
    /// (its fields do not change), the sequence number read guards against a concurrent append.
    pub(super) async fn note_deal_in(
        conn: &mut PgConnection,
        deal: DealId,
        notes: &[DealNote],
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if notes.is_empty() {
            return Ok(());
        }
        let (d, seq, _) = Self::load_deal(conn, deal).await?;
        for (i, n) in notes.iter().enumerate() {
            let event = NewEvent {
                kind: n.kind,
                from_node: d.current_node.clone(),
                to_node: d.current_node.clone(),
                edge_id: None,
                occurred_at: now,
                details: n.details.clone(),
            };
            Self::insert_event(conn, &d, seq + 1 + i as i64, &event, actor, now).await?;
        }
        let done = sqlx::query(
            "UPDATE deals SET last_event_seq = $1, last_event_at = $2, updated_at = $2 WHERE id = $3 AND last_event_seq = $4",
        )
        .bind(seq + notes.len() as i64)
        .bind(now)
        .bind(deal.0)
        .bind(seq)
        .execute(&mut *conn)
        .await
        .db()?;
        if done.rows_affected() == 0 {
            return Err(conflict("deal", deal.0));
        }
        Ok(())
    }

    pub(super) async fn needs_in(conn: &mut PgConnection, deal: DealId) -> Result<Option<NeedsAnalysis>> {
        let row: Option<(String, i64)> = sqlx::query_as("SELECT body, version FROM deal_needs WHERE deal_id = $1")
            .bind(deal.0)
            .fetch_optional(&mut *conn)
            .await
            .db()?;
        row.map(|(body, version)| {
            let mut n: NeedsAnalysis = from_json("needs analysis", &body)?;
            n.version = version;
            Ok(n)
        })
        .transpose()
    }

    pub(super) async fn save_needs_in(
        conn: &mut PgConnection,
        deal: DealId,
        input: &NeedsInput,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<NeedsAnalysis> {
        let current = Self::needs_in(conn, deal).await?;
        let n = NeedsAnalysis::next(deal, current.as_ref(), input, actor.user, now)?;
        let version = n.version;
        let body = to_json(&n)?;
        let done = match current {
            None => sqlx::query("INSERT INTO deal_needs (deal_id, body, version) VALUES ($1, $2, $3)")
                .bind(deal.0)
                .bind(&body)
                .bind(version)
                .execute(&mut *conn)
                .await
                .db()?,
            Some(_) => sqlx::query("UPDATE deal_needs SET body = $1, version = $2 WHERE deal_id = $3 AND version = $4")
                .bind(&body)
                .bind(version)
                .bind(deal.0)
                .bind(version - 1)
                .execute(&mut *conn)
                .await
                .db()?,
        };
        if done.rows_affected() == 0 {
            return Err(conflict("needs analysis of deal", deal.0));
        }
        let note = DealNote { kind: EventKind::NeedsUpdated, details: serde_json::json!({}) };
        Self::note_deal_in(conn, deal, &[note], actor, now).await?;
        Ok(n)
    }

    pub(super) async fn create_product_in(
        conn: &mut PgConnection,
        new: &NewProduct,
        now: DateTime<Utc>,
    ) -> Result<Product> {
        let (id,): (i64,) =
            sqlx::query_as("INSERT INTO products (sku, active, body) VALUES ($1, TRUE, '{}') RETURNING id")
                .bind(&new.sku)
                .fetch_one(&mut *conn)
                .await
                .db()?;
        let p = Product { id: ProductId(id), spec: new.clone(), active: true, created_at: now, updated_at: now };
        sqlx::query("UPDATE products SET body = $1 WHERE id = $2")
            .bind(to_json(&p)?)
            .bind(id)
            .execute(&mut *conn)
            .await
            .db()?;
        Ok(p)
    }

    pub(super) async fn products_in(conn: &mut PgConnection) -> Result<Vec<Product>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT body FROM products ORDER BY sku").fetch_all(&mut *conn).await.db()?;
        rows.into_iter().map(|(b,)| from_json("product", &b)).collect()
    }

    pub(super) async fn quotes_in(conn: &mut PgConnection, deal: DealId) -> Result<Vec<Quote>> {
        let rows: Vec<QuoteRow> =
            sqlx::query_as(&format!("SELECT {QUOTE_COLS} FROM quotes WHERE deal_id = $1 ORDER BY number"))
                .bind(deal.0)
                .fetch_all(&mut *conn)
                .await
                .db()?;
        rows.into_iter().map(documents::quote).collect()
    }

    pub(super) async fn quote_by_token_in(conn: &mut PgConnection, hash: &str) -> Result<Option<Quote>> {
        let row: Option<QuoteRow> = sqlx::query_as(&format!("SELECT {QUOTE_COLS} FROM quotes WHERE token_hash = $1"))
            .bind(hash)
            .fetch_optional(&mut *conn)
            .await
            .db()?;
        row.map(documents::quote).transpose()
    }

    pub(super) async fn save_quotes_in(
        conn: &mut PgConnection,
        w: &QuoteWrite,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<Quote>> {
        let mut out = Vec::with_capacity(w.changes.len());
        for c in &w.changes {
            let mut q = c.quote.clone();
            if q.deal_id != w.deal {
                return Err(Error::Storage(format!("quote of deal {} written with deal {}", q.deal_id, w.deal)));
            }
            let (content, state) = quote_parts(&q)?;
            match c.read_version {
                None => {
                    let (id,): (i64,) = sqlx::query_as(
                        "INSERT INTO quotes (deal_id, number, status, content, state, token_hash, version) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                    )
                    .bind(q.deal_id.0)
                    .bind(q.number)
                    .bind(q.status.as_str())
                    .bind(&content)
                    .bind(&state)
                    .bind(&c.token_hash)
                    .bind(q.version)
                    .fetch_one(&mut *conn)
                    .await
                    .db()?;
                    q.id = QuoteId(id);
                }
                Some(read) => {
                    let done = sqlx::query(
                        "UPDATE quotes SET status = $1, content = $2, state = $3, \
                         token_hash = COALESCE($4, token_hash), version = $5 WHERE id = $6 AND version = $7",
                    )
                    .bind(q.status.as_str())
                    .bind(&content)
                    .bind(&state)
                    .bind(&c.token_hash)
                    .bind(q.version)
                    .bind(q.id.0)
                    .bind(read)
                    .execute(&mut *conn)
                    .await
                    .db()?;
                    if done.rows_affected() == 0 {
                        return Err(conflict("quote", q.id.0));
                    }
                }
            }
            out.push(q);
        }
        Self::note_deal_in(conn, w.deal, &w.notes, actor, now).await?;
        Ok(out)
    }

    pub(super) async fn contracts_in(conn: &mut PgConnection, deal: DealId) -> Result<Vec<Contract>> {
        let rows: Vec<(i64, String, i64)> =
            sqlx::query_as("SELECT id, body, version FROM contracts WHERE deal_id = $1 ORDER BY id")
                .bind(deal.0)
                .fetch_all(&mut *conn)
                .await
                .db()?;
        rows.into_iter()
            .map(|(id, body, version)| {
                let mut c: Contract = from_json("contract", &body)?;
                c.id = ContractId(id);
                c.version = version;
                Ok(c)
            })
            .collect()
    }

    pub(super) async fn save_contract_in(
        conn: &mut PgConnection,
        contract: &Contract,
        read_version: Option<i64>,
        notes: &[DealNote],
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Contract> {
        let mut c = contract.clone();
        match read_version {
            None => {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO contracts (deal_id, quote_id, number, status, body, version) \
                     VALUES ($1, $2, $3, $4, '{}', $5) RETURNING id",
                )
                .bind(c.deal_id.0)
                .bind(c.quote_id.0)
                .bind(&c.number)
                .bind(c.status.as_str())
                .bind(c.version)
                .fetch_one(&mut *conn)
                .await
                .db()?;
                c.id = ContractId(id);
                sqlx::query("UPDATE contracts SET body = $1 WHERE id = $2")
                    .bind(to_json(&c)?)
                    .bind(id)
                    .execute(&mut *conn)
                    .await
                    .db()?;
            }
            Some(read) => {
                let done = sqlx::query(
                    "UPDATE contracts SET status = $1, body = $2, version = $3 WHERE id = $4 AND version = $5",
                )
                .bind(c.status.as_str())
                .bind(to_json(&c)?)
                .bind(c.version)
                .bind(c.id.0)
                .bind(read)
                .execute(&mut *conn)
                .await
                .db()?;
                if done.rows_affected() == 0 {
                    return Err(conflict("contract", c.id.0));
                }
            }
        }
        Self::note_deal_in(conn, c.deal_id, notes, actor, now).await?;
        Ok(c)
    }

    pub(super) async fn objections_in(conn: &mut PgConnection, deal: DealId) -> Result<Vec<Objection>> {
        let rows: Vec<(i64, String, i64)> =
            sqlx::query_as("SELECT id, body, version FROM objections WHERE deal_id = $1 ORDER BY id")
                .bind(deal.0)
                .fetch_all(&mut *conn)
                .await
                .db()?;
        rows.into_iter()
            .map(|(id, body, version)| {
                let mut o: Objection = from_json("objection", &body)?;
                o.id = id;
                o.version = version;
                Ok(o)
            })
            .collect()
    }

    pub(super) async fn save_objection_in(
        conn: &mut PgConnection,
        objection: &Objection,
        read_version: Option<i64>,
        note: &DealNote,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Objection> {
        let mut o = objection.clone();
        match read_version {
            None => {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO objections (deal_id, body, version) VALUES ($1, '{}', $2) RETURNING id",
                )
                .bind(o.deal_id.0)
                .bind(o.version)
                .fetch_one(&mut *conn)
                .await
                .db()?;
                o.id = id;
                sqlx::query("UPDATE objections SET body = $1 WHERE id = $2")
                    .bind(to_json(&o)?)
                    .bind(id)
                    .execute(&mut *conn)
                    .await
                    .db()?;
            }
            Some(read) => {
                let done = sqlx::query("UPDATE objections SET body = $1, version = $2 WHERE id = $3 AND version = $4")
                    .bind(to_json(&o)?)
                    .bind(o.version)
                    .bind(o.id)
                    .bind(read)
                    .execute(&mut *conn)
                    .await
                    .db()?;
                if done.rows_affected() == 0 {
                    return Err(conflict("objection", o.id));
                }
            }
        }
        let mut note = note.clone();
        note.details["objection"] = serde_json::json!(o.id);
        Self::note_deal_in(conn, o.deal_id, &[note], actor, now).await?;
        Ok(o)
    }

    pub(super) async fn playbook_in(
        conn: &mut PgConnection,
        process: ProcessId,
        stage: &str,
    ) -> Result<Option<Playbook>> {
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT body, version FROM playbooks WHERE process_id = $1 AND stage = $2")
                .bind(process.0)
                .bind(stage)
                .fetch_optional(&mut *conn)
                .await
                .db()?;
        row.map(|(body, version)| {
            let mut p: Playbook = from_json("playbook", &body)?;
            p.version = version;
            Ok(p)
        })
        .transpose()
    }

    pub(super) async fn save_playbook_in(
        conn: &mut PgConnection,
        p: &Playbook,
        read_version: Option<i64>,
    ) -> Result<Playbook> {
        let done = match read_version {
            None => sqlx::query(
                "INSERT INTO playbooks (process_id, stage, body, version) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (process_id, stage) DO NOTHING",
            )
            .bind(p.process_id.0)
            .bind(&p.stage)
            .bind(to_json(p)?)
            .bind(p.version)
            .execute(&mut *conn)
            .await
            .db()?,
            Some(read) => sqlx::query(
                "UPDATE playbooks SET body = $1, version = $2 WHERE process_id = $3 AND stage = $4 AND version = $5",
            )
            .bind(to_json(p)?)
            .bind(p.version)
            .bind(p.process_id.0)
            .bind(&p.stage)
            .bind(read)
            .execute(&mut *conn)
            .await
            .db()?,
        };
        if done.rows_affected() == 0 {
            return Err(Error::Conflict(format!(
                "the playbook of stage `{}` was changed by someone else since you read it; reload and try again",
                p.stage
            )));
        }
        Ok(p.clone())
    }
}
