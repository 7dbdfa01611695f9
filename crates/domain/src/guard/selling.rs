//! The selling tools as one caller may use them: a deal's needs, quotes and contracts are read
//! and changed under the deal's own access rules; the catalog is read by everyone and kept by
//! managers; a discount is decided by a manager who reaches the deal. [`CustomerDesk`] is the
//! customer's side: a quote reached by its link token alone, no user at all.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Guarded, Origin, json};
use crate::error::FieldError;
use crate::error::{Error, Result};
use crate::ids::{ContractId, DealId, ProcessId, ProductId};
use crate::records::{Actor, AuditAction, DealStatus, MoveRequest, NewAuditEntry, RecordKind, Role};
use crate::selling::catalog::{NewProduct, PriceBook, Product};
use crate::selling::contract::{Contract, ContractPatch, NewContract};
use crate::selling::needs::{NeedsAnalysis, NeedsInput};
use crate::selling::objection::{NewObjection, Objection, ObjectionPatch, Playbook, PlaybookInput};
use crate::selling::pricing::{MAX_QUANTITY, Totals};
use crate::selling::quote::{
    DealNote, OptionLayout, ProductPick, Quote, QuoteComparison, QuoteContent, QuoteDecision, QuoteStatus, compare,
    content_from_products,
};
use crate::selling::recommend::{Recommendation, rank};
use crate::store::{QuoteChange, QuoteWrite, Store};

/// Replace a draft's content.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteEdit {
    /// The quote version's `version` read.
    pub version: i64,
    pub content: QuoteContent,
}

/// A new draft from catalog products: the chosen price book's prices (never converted), else
/// the list prices.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteFromProducts {
    pub items: Vec<ProductQuantity>,
    /// A price book's name; absent: list prices.
    #[serde(default)]
    pub price_book: Option<String>,
    /// `each`: one option per product, cheapest first (the default); `one`: one option with
    /// every product as a line.
    #[serde(default)]
    pub options: OptionLayout,
    /// The quote's language, which the product names follow: `zh-CN` (the default) or `en`.
    #[serde(default)]
    pub language: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductQuantity {
    pub product_id: ProductId,
    /// Whole units; 1 when absent.
    #[serde(default = "one")]
    pub quantity: i64,
}

fn one() -> i64 {
    1
}

/// Ask a manager to approve the draft's discount, or (as a manager) decide it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscountAction {
    pub version: i64,
    /// For a decision: approve (true) or reject (false).
    pub approve: Option<bool>,
    #[serde(default)]
    pub comment: String,
}

/// How a draft is sent: the approval threshold in force and the hash of the customer's link
/// token (the token itself goes to the customer only).
#[derive(Debug, Clone)]
pub struct Sending {
    pub version: i64,
    pub threshold_bp: i64,
    pub token_hash: String,
}

/// The edge a process draws for "the quote went out" (报价 → 报价是否接受?), and the step of
/// the quoting stage that sending it completes.
pub const QUOTE_SENT_EDGE: &str = "quote_sent";
pub const SEND_QUOTE_STEP: &str = "send_quote";

/// Where sending a quote took the deal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SendMove {
    /// The node the deal moved to along the stage's `quote_sent` edge.
    pub deal_moved_to: Option<String>,
    /// Why it stayed: the hard exit criteria still missing (their labels).
    pub deal_not_moved: Vec<String>,
}

fn quote_of(quotes: &[Quote], number: i32) -> Result<Quote> {
    quotes.iter().find(|q| q.number == number).cloned().ok_or_else(|| Error::not_found("quote", number))
}

impl Guarded<'_> {
    /// The deal, checked for writing; its owner's actor for the log.
    async fn writable_deal(&self, deal: DealId, now: DateTime<Utc>) -> Result<()> {
        let d = self.store.deal(deal).await?;
        self.check_write(RecordKind::Deal, deal.0, d.owner_id, now).await
    }

    pub async fn needs(&self, deal: DealId, now: DateTime<Utc>) -> Result<Option<NeedsAnalysis>> {
        self.deal(deal, now).await?;
        self.store.needs(deal).await
    }

    pub async fn save_needs(&self, deal: DealId, input: &NeedsInput, now: DateTime<Utc>) -> Result<NeedsAnalysis> {
        self.writable_deal(deal, now).await?;
        let old = self.store.needs(deal).await?;
        let new = self.store.save_needs(deal, input, &self.actor(), now).await?;
        self.audit(AuditAction::Update, ("deal_needs", Some(deal.0)), "", json(&old), json(&new), now).await?;
        Ok(new)
    }

    pub async fn products(&self) -> Result<Vec<Product>> {
        self.store.list_products().await
    }

    /// Refuses (and audits) a caller who may not change the catalog.
    pub async fn check_catalog_editor(&self, now: DateTime<Utc>) -> Result<()> {
        self.editor("product", now).await
    }

    pub async fn create_product(&self, new: &NewProduct, now: DateTime<Utc>) -> Result<Product> {
        self.editor("product", now).await?;
        let p = self.store.create_product(new, now).await?;
        self.audit(AuditAction::Create, ("product", Some(p.id.0)), p.spec.sku.clone(), None, json(&p), now).await?;
        Ok(p)
    }

    pub async fn price_books(&self) -> Result<Vec<PriceBook>> {
        self.store.price_books().await
    }

    /// Managers and admins add a price book or replace one at the version read.
    pub async fn save_price_book(&self, book: &PriceBook, now: DateTime<Utc>) -> Result<PriceBook> {
        self.editor("price_book", now).await?;
        book.validate()?;
        // Every SKU priced must be in the catalog.
        let skus: std::collections::HashSet<String> =
            self.store.list_products().await?.into_iter().map(|p| p.spec.sku).collect();
        let unknown: Vec<FieldError> = book
            .prices
            .iter()
            .enumerate()
            .filter(|(_, e)| !skus.contains(&e.sku))
            .map(|(i, e)| FieldError::new(format!("prices[{i}].sku"), format!("`{}` is not in the catalog", e.sku)))
            .collect();
        if !unknown.is_empty() {
            return Err(Error::Invalid(unknown));
        }
        let old = self.store.price_books().await?.into_iter().find(|b| b.name == book.name);
        let saved = self.store.save_price_book(book).await?;
        let action = if old.is_some() { AuditAction::Update } else { AuditAction::Create };
        self.audit(action, ("price_book", None), saved.name.clone(), json(&old), json(&saved), now).await?;
        Ok(saved)
    }

    /// Catalog products ranked against the deal's needs (none captured: ranked on price alone),
    /// only those priced in the deal's currency (the budget's, else the deal amount's) when
    /// the catalog has any.
    pub async fn recommendations(&self, deal: DealId, now: DateTime<Utc>) -> Result<Vec<Recommendation>> {
        let d = self.deal(deal, now).await?;
        let needs = self.store.needs(deal).await?.map(|n| n.input).unwrap_or_default();
        let currency = crate::selling::recommend::deal_currency(&needs, d.amount);
        Ok(rank(&needs, &crate::selling::recommend::in_currency(self.store.list_products().await?, currency)))
    }

    pub async fn quotes(&self, deal: DealId, now: DateTime<Utc>) -> Result<Vec<Quote>> {
        self.deal(deal, now).await?;
        self.store.quotes(deal).await
    }

    pub async fn compare_quotes(
        &self,
        deal: DealId,
        from: i32,
        to: i32,
        now: DateTime<Utc>,
    ) -> Result<QuoteComparison> {
        let quotes = self.quotes(deal, now).await?;
        Ok(compare(&quote_of(&quotes, from)?, &quote_of(&quotes, to)?))
    }

    async fn save(&self, quote: Quote, read: Option<i64>, notes: Vec<DealNote>, now: DateTime<Utc>) -> Result<Quote> {
        let write = QuoteWrite {
            deal: quote.deal_id,
            changes: vec![QuoteChange { quote, read_version: read, token_hash: None }],
            notes,
            tick_step: None,
        };
        let saved = self.store.save_quotes(&write, &self.actor(), now).await?.remove(0);
        let detail = format!("quote version {} {}", saved.number, saved.status.as_str());
        self.audit(AuditAction::Update, ("quote", Some(saved.id.0)), detail, None, json(&saved), now).await?;
        Ok(saved)
    }

    /// A new draft version, numbered after the deal's last one.
    pub async fn create_quote(&self, deal: DealId, content: QuoteContent, now: DateTime<Utc>) -> Result<Quote> {
        self.new_quote_draft(deal, content, None, now).await
    }

    async fn new_quote_draft(
        &self,
        deal: DealId,
        content: QuoteContent,
        price_book: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Quote> {
        self.writable_deal(deal, now).await?;
        let number = self.store.quotes(deal).await?.iter().map(|q| q.number).max().unwrap_or(0) + 1;
        let (mut quote, note) = Quote::draft(deal, number, content, self.scope.user, now)?;
        quote.price_book = price_book;
        self.save(quote, None, vec![note], now).await
    }

    /// A new draft version from catalog products (see [`QuoteFromProducts`]), valid for 30 days.
    pub async fn draft_from_products(
        &self,
        deal: DealId,
        req: &QuoteFromProducts,
        now: DateTime<Utc>,
    ) -> Result<Quote> {
        self.writable_deal(deal, now).await?;
        let products = self.store.list_products().await?;
        let mut problems = Vec::new();
        let mut picks = Vec::with_capacity(req.items.len());
        for (i, item) in req.items.iter().enumerate() {
            if req.items[..i].iter().any(|o| o.product_id == item.product_id) {
                problems.push(FieldError::new(format!("items[{i}].product_id"), "is listed twice"));
            }
            if !(1..=MAX_QUANTITY).contains(&item.quantity) {
                problems.push(FieldError::new(format!("items[{i}].quantity"), format!("must be 1 to {MAX_QUANTITY}")));
            }
            match products.iter().find(|p| p.id == item.product_id && p.active) {
                Some(product) => picks.push(ProductPick { product, quantity: item.quantity }),
                None => problems.push(FieldError::new(
                    format!("items[{i}].product_id"),
                    format!("no product {} in the catalog", item.product_id),
                )),
            }
        }
        let book = match req.price_book.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            None => None,
            Some(name) => {
                let found = self.store.price_books().await?.into_iter().find(|b| b.name == name);
                if found.is_none() {
                    problems.push(FieldError::new("price_book", format!("no price book named `{name}`")));
                }
                found
            }
        };
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        let language = req.language.as_deref().unwrap_or("zh-CN");
        if !crate::records::LOCALES.contains(&language) {
            return Err(Error::invalid("language", "must be `zh-CN` or `en`"));
        }
        let valid_until = now.date_naive() + chrono::Days::new(30);
        let content = content_from_products(&picks, book.as_ref(), req.options, language, valid_until)?;
        self.new_quote_draft(deal, content, book.map(|b| b.name), now).await
    }

    async fn writable_quote(&self, deal: DealId, number: i32, now: DateTime<Utc>) -> Result<Quote> {
        self.writable_deal(deal, now).await?;
        quote_of(&self.store.quotes(deal).await?, number)
    }

    pub async fn edit_quote(&self, deal: DealId, number: i32, edit: QuoteEdit, now: DateTime<Utc>) -> Result<Quote> {
        let mut q = self.writable_quote(deal, number, now).await?;
        let read = q.version;
        let note = q.edit(edit.version, edit.content, now)?;
        self.save(q, Some(read), vec![note], now).await
    }

    pub async fn request_discount(
        &self,
        deal: DealId,
        number: i32,
        req: &DiscountAction,
        threshold_bp: i64,
        now: DateTime<Utc>,
    ) -> Result<Quote> {
        let mut q = self.writable_quote(deal, number, now).await?;
        let read = q.version;
        let note = q.request_discount(req.version, &req.comment, self.scope.user, threshold_bp, now)?;
        self.save(q, Some(read), vec![note], now).await
    }

    /// A manager (of the deal's owner) or an admin approves or rejects a requested discount.
    pub async fn decide_discount(
        &self,
        deal: DealId,
        number: i32,
        req: &DiscountAction,
        now: DateTime<Utc>,
    ) -> Result<Quote> {
        let mut q = self.writable_quote(deal, number, now).await?;
        if !matches!(self.scope.role, Role::Admin | Role::Manager) {
            let e = Error::Forbidden("only a manager or an admin decides a discount".into());
            return self.denied("quote", Some(q.id.0), e, now).await;
        }
        let Some(approve) = req.approve else {
            return Err(Error::invalid("approve", "is required: true to approve, false to reject"));
        };
        let read = q.version;
        let note = q.decide_discount(req.version, approve, &req.comment, self.scope.user, now)?;
        self.save(q, Some(read), vec![note], now).await
    }

    /// Sends a draft; a version sent before it is superseded in the same write.
    pub async fn send_quote(&self, deal: DealId, number: i32, sending: &Sending, now: DateTime<Utc>) -> Result<Quote> {
        let d = self.store.deal(deal).await?;
        self.check_write(RecordKind::Deal, deal.0, d.owner_id, now).await?;
        // The stage's `send_quote` step is ticked with the sending, in one transaction.
        let process = self.store.process_version(d.process_id, d.process_version).await?;
        let stage = process.definition.stage(&d.current_node);
        let has_step = stage.is_some_and(|s| s.steps.iter().any(|st| st.id == SEND_QUOTE_STEP));
        let tick_step = (d.status == DealStatus::Open && has_step).then(|| SEND_QUOTE_STEP.to_string());
        let quotes = self.store.quotes(deal).await?;
        let mut q = quote_of(&quotes, number)?;
        let read = q.version;
        let mut notes = vec![q.send(sending.version, sending.threshold_bp, self.scope.user, now.date_naive(), now)?];
        let mut changes = Vec::new();
        for mut older in quotes.into_iter().filter(|o| o.number != number && o.status == QuoteStatus::Sent) {
            let read = older.version;
            if let Some(note) = older.supersede(number, now) {
                notes.push(note);
                changes.push(QuoteChange { quote: older, read_version: Some(read), token_hash: None });
            }
        }
        changes.insert(
            0,
            QuoteChange { quote: q, read_version: Some(read), token_hash: Some(sending.token_hash.clone()) },
        );
        let write = QuoteWrite { deal, changes, notes, tick_step };
        let saved = self.store.save_quotes(&write, &self.actor(), now).await?.remove(0);
        let detail = format!("quote version {} sent", saved.number);
        self.audit(AuditAction::Transition, ("quote", Some(saved.id.0)), detail, None, json(&saved), now).await?;
        Ok(saved)
    }

    /// After a quote is sent (which ticked the stage's `send_quote` step): moves the deal along
    /// a `quote_sent` edge from its stage straight to another stage. When that edge
    /// enters a decision node (the seed's 报价是否接受?), the deal waits in its stage and the
    /// customer's answer moves it along `accepted` or `rejected`. A hard exit criterion still missing
    /// leaves the deal where it is (the quote stays sent) and is reported; soft ones are passed
    /// with the sending as the reason.
    pub async fn advance_after_send(&self, deal: DealId, number: i32, now: DateTime<Utc>) -> Result<SendMove> {
        self.writable_deal(deal, now).await?;
        let d = self.store.deal(deal).await?;
        if d.status != DealStatus::Open {
            return Ok(SendMove::default());
        }
        let process = self.store.process_version(d.process_id, d.process_version).await?;
        let def = &process.definition;
        let Some(route) = def
            .routes_from(&d.current_node)
            .into_iter()
            // Through a decision node the customer's answer picks the way on (see `follow`).
            .find(|r| r.edges.len() == 1 && r.edges[0] == QUOTE_SENT_EDGE)
        else {
            return Ok(SendMove::default());
        };
        let req = MoveRequest {
            to: route.to,
            edge: Some(QUOTE_SENT_EDGE.into()),
            version: d.version,
            occurred_at: None,
            override_reason: Some(format!("quote version {number} sent")),
            lost_reason: None,
        };
        match self.move_deal(deal, &req, now).await {
            Ok((moved, _)) => Ok(SendMove { deal_moved_to: Some(moved.current_node), deal_not_moved: Vec::new() }),
            Err(Error::GateBlocked(report)) => Ok(SendMove {
                deal_moved_to: None,
                deal_not_moved: report.missing.into_iter().map(|m| m.label).collect(),
            }),
            Err(e) => Err(e),
        }
    }

    pub async fn contracts(&self, deal: DealId, now: DateTime<Utc>) -> Result<Vec<Contract>> {
        self.deal(deal, now).await?;
        self.store.contracts(deal).await
    }

    /// A contract from the deal's accepted quote version, its amounts carried over exactly.
    pub async fn create_contract(&self, deal: DealId, new: &NewContract, now: DateTime<Utc>) -> Result<Contract> {
        let quote = self.writable_quote(deal, new.quote_number, now).await.map_err(|e| match e {
            Error::NotFound { entity: "quote", .. } => {
                Error::invalid("quote_number", format!("the deal has no quote version {}", new.quote_number))
            }
            e => e,
        })?;
        let (contract, note) = Contract::from_quote(&quote, new, self.scope.user, now)?;
        let c = self.store.save_contract(&contract, None, &[note], &self.actor(), now).await?;
        self.audit(AuditAction::Create, ("contract", Some(c.id.0)), c.number.clone(), None, json(&c), now).await?;
        Ok(c)
    }

    pub async fn update_contract(
        &self,
        deal: DealId,
        id: ContractId,
        patch: &ContractPatch,
        now: DateTime<Utc>,
    ) -> Result<Contract> {
        self.writable_deal(deal, now).await?;
        let contracts = self.store.contracts(deal).await?;
        let old = contracts.into_iter().find(|c| c.id == id).ok_or_else(|| Error::not_found("contract", id))?;
        let mut c = old.clone();
        let notes = c.apply(patch, now)?;
        let c = self.store.save_contract(&c, Some(old.version), &notes, &self.actor(), now).await?;
        self.audit(AuditAction::Update, ("contract", Some(c.id.0)), c.number.clone(), json(&old), json(&c), now)
            .await?;
        Ok(c)
    }
}

impl Guarded<'_> {
    pub async fn objections(&self, deal: DealId, now: DateTime<Utc>) -> Result<Vec<Objection>> {
        self.deal(deal, now).await?;
        self.store.objections(deal).await
    }

    /// Logs an objection at the deal's current stage.
    pub async fn raise_objection(&self, deal: DealId, new: NewObjection, now: DateTime<Utc>) -> Result<Objection> {
        let d = self.store.deal(deal).await?;
        self.check_write(RecordKind::Deal, deal.0, d.owner_id, now).await?;
        let (o, note) = Objection::raise(deal, &d.current_node, new, self.scope.user, now)?;
        let o = self.store.save_objection(&o, None, &note, &self.actor(), now).await?;
        self.audit(AuditAction::Create, ("objection", Some(o.id)), "", None, json(&o), now).await?;
        Ok(o)
    }

    pub async fn update_objection(
        &self,
        deal: DealId,
        id: i64,
        patch: &ObjectionPatch,
        now: DateTime<Utc>,
    ) -> Result<Objection> {
        self.writable_deal(deal, now).await?;
        let old = self
            .store
            .objections(deal)
            .await?
            .into_iter()
            .find(|o| o.id == id)
            .ok_or_else(|| Error::not_found("objection", id))?;
        let mut o = old.clone();
        let note = o.apply(patch, now)?;
        let o = self.store.save_objection(&o, Some(old.version), &note, &self.actor(), now).await?;
        self.audit(AuditAction::Update, ("objection", Some(o.id)), "", json(&old), json(&o), now).await?;
        Ok(o)
    }

    /// A stage's playbook; everyone reads it.
    pub async fn playbook(&self, process: ProcessId, stage: &str) -> Result<Option<Playbook>> {
        self.store.playbook(process, stage).await
    }

    /// Managers and admins keep the playbooks; the stage must exist in the process.
    pub async fn save_playbook(
        &self,
        process: ProcessId,
        stage: &str,
        input: &PlaybookInput,
        now: DateTime<Utc>,
    ) -> Result<Playbook> {
        self.editor("playbook", now).await?;
        input.validate()?;
        let latest = self.store.process_versions(process).await?;
        if !latest.iter().any(|v| v.definition.stage(stage).is_some()) {
            return Err(Error::not_found("stage", stage));
        }
        let p = Playbook {
            process_id: process,
            stage: stage.into(),
            entries: input.entries.clone(),
            updated_by: self.scope.user,
            updated_at: now,
            version: input.version.map_or(1, |v| v + 1),
        };
        let saved = self.store.save_playbook(&p, input.version).await?;
        let detail = format!("playbook of stage {stage}");
        self.audit(AuditAction::Update, ("process", Some(process.0)), detail, None, json(&saved), now).await?;
        Ok(saved)
    }
}

/// A quote as its customer sees it: the offer and its state, nothing internal (no approval
/// comments, no people).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CustomerQuote {
    pub number: i32,
    /// As of today: a sent version past its date reads `expired`.
    pub status: QuoteStatus,
    pub content: QuoteContent,
    pub totals: Vec<Totals>,
    pub decision: Option<QuoteDecision>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// The customer's answer and where the deal went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CustomerAnswer {
    pub quote: CustomerQuote,
    /// The stage the deal moved to; absent when the process has no such edge from the deal's
    /// stage or its exit criteria are not met (the rep moves it then).
    pub deal_moved_to: Option<String>,
}

impl CustomerQuote {
    /// The customer's view of `q` as of `now`.
    pub fn of(q: &Quote, now: DateTime<Utc>) -> Self {
        CustomerQuote {
            number: q.number,
            status: q.status_on(now.date_naive()),
            content: q.content.clone(),
            totals: q.totals.clone(),
            decision: q.decision.clone(),
            sent_at: q.sent_at,
        }
    }
}

/// The customer's side of a quote, reached by the hash of its link token and nothing else.
/// What the customer does is recorded in the deal's log in the name of the rep who sent the
/// quote (`details.by = "customer"`) and in the audit log without a user.
pub struct CustomerDesk<'a> {
    store: &'a dyn Store,
    origin: &'a Origin,
}

impl<'a> CustomerDesk<'a> {
    pub fn new(store: &'a dyn Store, origin: &'a Origin) -> Self {
        Self { store, origin }
    }

    async fn quote(&self, token_hash: &str) -> Result<(Quote, Actor)> {
        let q = self.store.quote_by_token(token_hash).await?.ok_or_else(|| Error::not_found("quote", "link"))?;
        let sender = q.sent_by.ok_or_else(|| Error::Storage(format!("quote {} has a link but no sender", q.id)))?;
        Ok((q, Actor { user: sender, role: Role::Rep }))
    }

    async fn audit(&self, q: &Quote, detail: String, now: DateTime<Utc>) -> Result<()> {
        self.store
            .append_audit(&NewAuditEntry {
                at: now,
                actor_id: None,
                action: AuditAction::Transition,
                subject_kind: "quote".into(),
                subject_id: Some(q.id.0),
                address: self.origin.address.clone(),
                detail,
                old_value: None,
                new_value: None,
            })
            .await
    }

    /// The quote; the visit goes into the deal's log (the customer's behaviour trail).
    pub async fn view(&self, token_hash: &str, now: DateTime<Utc>) -> Result<CustomerQuote> {
        let (q, sender) = self.quote(token_hash).await?;
        let note = DealNote {
            kind: crate::records::EventKind::QuoteViewed,
            details: serde_json::json!({ "quote": q.number, "status": q.status_on(now.date_naive()), "by": "customer" }),
        };
        self.store.note_deal(q.deal_id, &[note], &sender, now).await?;
        Ok(CustomerQuote::of(&q, now))
    }

    pub async fn accept(&self, token_hash: &str, option: &str, now: DateTime<Utc>) -> Result<CustomerAnswer> {
        let (mut q, sender) = self.quote(token_hash).await?;
        let read = q.version;
        let note = q.accept(option, now.date_naive(), now)?;
        let write = QuoteWrite {
            deal: q.deal_id,
            changes: vec![QuoteChange { quote: q.clone(), read_version: Some(read), token_hash: None }],
            notes: vec![note],
            tick_step: None,
        };
        self.store.save_quotes(&write, &sender, now).await?;
        self.audit(&q, format!("customer accepted quote version {} ({option})", q.number), now).await?;
        let reason = format!("quote version {} accepted by the customer", q.number);
        let moved = self.follow(&q, "accepted", &sender, reason, now).await?;
        Ok(CustomerAnswer { quote: CustomerQuote::of(&q, now), deal_moved_to: moved })
    }

    /// Records the rejection and its reason, drafts the next lower tier as a new version for
    /// the rep, and moves the deal along its `rejected` edge.
    pub async fn reject(&self, token_hash: &str, reason: &str, now: DateTime<Utc>) -> Result<CustomerAnswer> {
        let (mut q, sender) = self.quote(token_hash).await?;
        let read = q.version;
        let rejected = q.reject(reason, now.date_naive(), now)?;
        let number = self.store.quotes(q.deal_id).await?.iter().map(|x| x.number).max().unwrap_or(0) + 1;
        let (mut proposal, mut drafted) =
            Quote::draft(q.deal_id, number, q.content.next_lower_tier(), sender.user, now)?;
        proposal.price_book = q.price_book.clone();
        drafted.details["after_rejection_of"] = serde_json::json!(q.number);
        let write = QuoteWrite {
            deal: q.deal_id,
            changes: vec![
                QuoteChange { quote: q.clone(), read_version: Some(read), token_hash: None },
                QuoteChange { quote: proposal, read_version: None, token_hash: None },
            ],
            notes: vec![rejected, drafted],
            tick_step: None,
        };
        self.store.save_quotes(&write, &sender, now).await?;
        self.audit(&q, format!("customer rejected quote version {}", q.number), now).await?;
        let why = format!("quote version {} rejected by the customer", q.number);
        let moved = self.follow(&q, "rejected", &sender, why, now).await?;
        Ok(CustomerAnswer { quote: CustomerQuote::of(&q, now), deal_moved_to: moved })
    }

    /// Moves the open deal along the route whose last edge is `edge`, if its stage has one and
    /// its hard exit criteria are met (soft ones are passed with `reason`).
    async fn follow(
        &self,
        q: &Quote,
        edge: &str,
        actor: &Actor,
        reason: String,
        now: DateTime<Utc>,
    ) -> Result<Option<String>> {
        let deal = self.store.deal(q.deal_id).await?;
        if deal.status != DealStatus::Open {
            return Ok(None);
        }
        let process = self.store.process_version(deal.process_id, deal.process_version).await?;
        let Some(route) = process
            .definition
            .routes_from(&deal.current_node)
            .into_iter()
            .find(|r| r.edges.last().map(String::as_str) == Some(edge))
        else {
            return Ok(None);
        };
        let req = MoveRequest {
            to: route.to,
            edge: Some(edge.into()),
            version: deal.version,
            occurred_at: None,
            override_reason: Some(reason),
            lost_reason: None,
        };
        match self.store.move_deal(deal.id, &req, actor, now).await {
            Ok((moved, _)) => Ok(Some(moved.current_node)),
            Err(Error::GateBlocked(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
