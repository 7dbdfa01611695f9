//! Quotes (报价): numbered versions per deal, each with alternative options (good / better /
//! best), terms and a validity date. A version is edited while it is a draft; once sent it
//! never changes again — a new version supersedes it. A discount above the threshold needs a
//! manager's approval before the version can be sent.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::catalog::{NewProduct, PriceBook, Product, Tier};
use super::pricing::{QuoteLine, Totals, price};
use crate::currency::{Currency, Money};
use crate::error::{Error, FieldError};
use crate::ids::{DealId, QuoteId, UserId};
use crate::records::{EventKind, NAME_MAX, Problems, TEXT_MAX};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuoteStatus {
    Draft,
    Sent,
    Accepted,
    Rejected,
    /// A newer version was sent.
    Superseded,
    /// Its validity date passed before the customer decided.
    Expired,
}

impl QuoteStatus {
    pub const ALL: [QuoteStatus; 6] = [
        QuoteStatus::Draft,
        QuoteStatus::Sent,
        QuoteStatus::Accepted,
        QuoteStatus::Rejected,
        QuoteStatus::Superseded,
        QuoteStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            QuoteStatus::Draft => "draft",
            QuoteStatus::Sent => "sent",
            QuoteStatus::Accepted => "accepted",
            QuoteStatus::Rejected => "rejected",
            QuoteStatus::Superseded => "superseded",
            QuoteStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One alternative package of a quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteOption {
    /// Unique within the quote: `good`, `better`, `best`, `standard` …
    pub key: String,
    pub name: String,
    pub tier: Option<Tier>,
    pub lines: Vec<QuoteLine>,
    /// Discount on the option's subtotal, in basis points.
    #[serde(default)]
    pub discount_bp: i64,
}

/// What a version offers: everything the customer sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteContent {
    pub currency: Currency,
    /// Cheapest first.
    pub options: Vec<QuoteOption>,
    /// The option the rep proposes; the highest when absent.
    pub recommended: Option<String>,
    /// 付款方式.
    #[serde(default)]
    pub payment_terms: String,
    /// 售后服务.
    #[serde(default)]
    pub after_sales_terms: String,
    /// The last day the customer can accept.
    pub valid_until: NaiveDate,
    /// The customer's language: `zh-CN` or `en`.
    #[serde(default = "default_language")]
    pub language: String,
    #[serde(default)]
    pub notes: String,
}

fn default_language() -> String {
    "zh-CN".into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    Requested,
    Approved,
    Rejected,
}

/// A manager's approval of a discount above the threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DiscountApproval {
    pub status: ApprovalStatus,
    /// The largest discount of the version when asked, in basis points of gross.
    pub discount_bp: i64,
    pub requested_by: UserId,
    pub requested_at: DateTime<Utc>,
    pub request_comment: String,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_comment: String,
}

/// The customer's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QuoteDecision {
    pub accepted: bool,
    /// The option accepted.
    pub option: Option<String>,
    /// Why it was rejected.
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Quote {
    pub id: QuoteId,
    pub deal_id: DealId,
    /// 1, 2, 3 … within the deal.
    pub number: i32,
    pub status: QuoteStatus,
    pub content: QuoteContent,
    /// Per option, in the order of `content.options`.
    pub totals: Vec<Totals>,
    pub approval: Option<DiscountApproval>,
    pub sent_at: Option<DateTime<Utc>>,
    pub sent_by: Option<UserId>,
    pub decision: Option<QuoteDecision>,
    /// The price book the version was drafted from: lines added to it later are priced from
    /// the same book. Kept for the team; the customer never sees it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_book: Option<String>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// A note for the deal's event log: what happened to a quote or contract.
#[derive(Debug, Clone, PartialEq)]
pub struct DealNote {
    pub kind: EventKind,
    pub details: serde_json::Value,
}

impl QuoteContent {
    /// Every problem at once; the totals of each option when there is none.
    pub fn validate(&self) -> Result<Vec<Totals>, Error> {
        let mut p = Problems::default();
        if self.options.is_empty() {
            p.push("options", "a quote needs at least one option");
        }
        let mut totals = Vec::new();
        for (i, o) in self.options.iter().enumerate() {
            p.text(&format!("options[{i}].key"), &o.key, true, 32);
            p.text(&format!("options[{i}].name"), &o.name, true, NAME_MAX);
            if self.options[..i].iter().any(|x| x.key == o.key) {
                p.push(&format!("options[{i}].key"), format!("`{}` is used by another option", o.key));
            }
            match price(self.currency, &o.lines, o.discount_bp, &format!("options[{i}]")) {
                Ok(t) => totals.push(t),
                Err(errs) => p.0.extend(errs),
            }
        }
        if let Some(r) = &self.recommended
            && !self.options.iter().any(|o| &o.key == r)
        {
            p.push("recommended", format!("`{r}` is not one of the options"));
        }
        p.text("payment_terms", &self.payment_terms, false, TEXT_MAX);
        p.text("after_sales_terms", &self.after_sales_terms, false, TEXT_MAX);
        p.text("notes", &self.notes, false, TEXT_MAX);
        if !crate::records::LOCALES.contains(&self.language.as_str()) {
            p.push("language", "must be `zh-CN` or `en`");
        }
        p.finish()?;
        Ok(totals)
    }

    /// The recommended option's index: the named one, else the last (highest).
    pub fn recommended_index(&self) -> usize {
        self.recommended
            .as_ref()
            .and_then(|r| self.options.iter().position(|o| &o.key == r))
            .unwrap_or(self.options.len().saturating_sub(1))
    }

    /// The next proposal after a rejection: the options below the recommended one, the highest
    /// of them recommended (the next lower tier). With nothing below, the same options.
    pub fn next_lower_tier(&self) -> QuoteContent {
        let mut next = self.clone();
        let at = self.recommended_index();
        if at > 0 {
            next.options.truncate(at);
            next.recommended = next.options.last().map(|o| o.key.clone());
        }
        next
    }
}

/// How chosen products become a draft's options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OptionLayout {
    /// One option per product, cheapest first.
    #[default]
    Each,
    /// One option holding every product as a line.
    One,
}

/// A catalog product and how many of it.
#[derive(Debug, Clone, Copy)]
pub struct ProductPick<'a> {
    pub product: &'a Product,
    pub quantity: i64,
}

/// The unit price of `product`: the book's (never converted), else the list price.
/// `None` when the book has no price for it and the list price is in another currency.
pub fn unit_price(book: Option<&PriceBook>, product: &NewProduct) -> Option<Money> {
    match book {
        None => Some(product.list_price),
        Some(b) => b.price(product),
    }
}

/// A quote line for `product` at `price`, named in the quote's language.
pub fn product_line(product: &Product, quantity: i64, price: Money, zh: bool) -> QuoteLine {
    QuoteLine {
        product_id: Some(product.id),
        sku: product.spec.sku.clone(),
        name: product.name(zh).to_string(),
        unit: product.spec.unit.clone(),
        quantity,
        unit_price: price,
        discount_bp: 0,
        tax_rate_bp: product.spec.tax_rate_bp,
    }
}

/// An option of one product line, keyed by its SKU (lower-cased).
pub fn product_option(product: &Product, quantity: i64, price: Money, zh: bool) -> QuoteOption {
    QuoteOption {
        key: product.spec.sku.to_lowercase(),
        name: product.name(zh).to_string(),
        tier: product.spec.tier,
        lines: vec![product_line(product, quantity, price, zh)],
        discount_bp: 0,
    }
}

/// A draft's content from catalog products, priced from `book` when one is given (a product
/// the book has no price for is refused, naming its SKU, under `price_book`), else at list
/// price. `Each`: one option per product, cheapest first; `One`: one option with every line.
/// Names follow `language` (`zh-CN` or `en`); valid until `valid_until`, terms left empty.
pub fn content_from_products(
    picks: &[ProductPick<'_>],
    book: Option<&PriceBook>,
    layout: OptionLayout,
    language: &str,
    valid_until: NaiveDate,
) -> Result<QuoteContent, Error> {
    if picks.is_empty() {
        return Err(Error::invalid("items", "choose at least one product"));
    }
    let mut problems = Vec::new();
    let mut priced = Vec::with_capacity(picks.len());
    for pick in picks {
        match unit_price(book, &pick.product.spec) {
            Some(price) => priced.push((pick, price)),
            None => problems.push(FieldError::new(
                "price_book",
                format!(
                    "the price book `{}` has no price for {} and its list price is in another currency",
                    book.map(|b| b.name.as_str()).unwrap_or(""),
                    pick.product.spec.sku
                ),
            )),
        }
    }
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    let zh = language != "en";
    let options = match layout {
        OptionLayout::Each => {
            priced.sort_by_key(|(pick, price)| {
                (price.minor.saturating_mul(pick.quantity), pick.product.spec.sku.clone())
            });
            priced.iter().map(|(pick, price)| product_option(pick.product, pick.quantity, *price, zh)).collect()
        }
        OptionLayout::One => vec![QuoteOption {
            key: "package".into(),
            name: if zh { "组合方案" } else { "Package" }.into(),
            tier: priced.iter().filter_map(|(pick, _)| pick.product.spec.tier).max(),
            lines: priced.iter().map(|(pick, price)| product_line(pick.product, pick.quantity, *price, zh)).collect(),
            discount_bp: 0,
        }],
    };
    Ok(QuoteContent {
        currency: priced[0].1.currency,
        options,
        recommended: None,
        payment_terms: String::new(),
        after_sales_terms: String::new(),
        valid_until,
        language: language.to_string(),
        notes: String::new(),
    })
}

/// Refusal of a change to a version that is no longer a draft.
fn not_draft(q: &Quote) -> Error {
    Error::Conflict(format!(
        "quote version {} is {} and can no longer change; create a new version instead",
        q.number,
        q.status.as_str()
    ))
}

impl Quote {
    /// A new draft version `number` of a deal's quote.
    pub fn draft(
        deal: DealId,
        number: i32,
        content: QuoteContent,
        by: UserId,
        now: DateTime<Utc>,
    ) -> Result<(Quote, DealNote), Error> {
        let totals = content.validate()?;
        let q = Quote {
            id: QuoteId(0),
            deal_id: deal,
            number,
            status: QuoteStatus::Draft,
            content,
            totals,
            approval: None,
            sent_at: None,
            sent_by: None,
            decision: None,
            price_book: None,
            created_by: by,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let note = q.note(EventKind::QuoteCreated, json!({}));
        Ok((q, note))
    }

    fn note(&self, kind: EventKind, mut details: serde_json::Value) -> DealNote {
        details["quote"] = json!(self.number);
        DealNote { kind, details }
    }

    fn check_version(&self, version: i64) -> Result<(), Error> {
        if version != self.version {
            return Err(Error::Conflict(format!(
                "quote version {} changed since it was read (version {version}, now {})",
                self.number, self.version
            )));
        }
        Ok(())
    }

    /// The option totals by key.
    pub fn option(&self, key: &str) -> Option<(&QuoteOption, &Totals)> {
        let i = self.content.options.iter().position(|o| o.key == key)?;
        Some((&self.content.options[i], &self.totals[i]))
    }

    /// The largest discount among the options, in basis points of gross.
    pub fn max_discount_bp(&self) -> i64 {
        self.totals.iter().map(Totals::discount_bp).max().unwrap_or(0)
    }

    /// Whether some option gives more than `threshold_bp`.
    pub fn needs_approval(&self, threshold_bp: i64) -> bool {
        self.totals.iter().any(|t| t.discount_above(threshold_bp))
    }

    /// Replaces a draft's content; a discount approval does not carry over to new content.
    pub fn edit(&mut self, version: i64, content: QuoteContent, now: DateTime<Utc>) -> Result<DealNote, Error> {
        if self.status != QuoteStatus::Draft {
            return Err(not_draft(self));
        }
        self.check_version(version)?;
        self.totals = content.validate()?;
        self.content = content;
        self.approval = None;
        self.updated_at = now;
        self.version += 1;
        Ok(self.note(EventKind::QuoteUpdated, json!({})))
    }

    pub fn request_discount(
        &mut self,
        version: i64,
        comment: &str,
        by: UserId,
        threshold_bp: i64,
        now: DateTime<Utc>,
    ) -> Result<DealNote, Error> {
        if self.status != QuoteStatus::Draft {
            return Err(not_draft(self));
        }
        self.check_version(version)?;
        if !self.needs_approval(threshold_bp) {
            return Err(Error::invalid(
                "discount",
                format!("no option gives more than {} % off; nothing needs approval", threshold_bp as f64 / 100.0),
            ));
        }
        if comment.chars().count() > TEXT_MAX {
            return Err(Error::invalid("comment", format!("is longer than {TEXT_MAX} characters")));
        }
        let discount_bp = self.max_discount_bp();
        self.approval = Some(DiscountApproval {
            status: ApprovalStatus::Requested,
            discount_bp,
            requested_by: by,
            requested_at: now,
            request_comment: comment.trim().to_string(),
            decided_by: None,
            decided_at: None,
            decision_comment: String::new(),
        });
        self.updated_at = now;
        self.version += 1;
        Ok(self.note(EventKind::DiscountRequested, json!({ "discount_bp": discount_bp, "comment": comment.trim() })))
    }

    /// A manager approves or rejects the requested discount, with a comment.
    pub fn decide_discount(
        &mut self,
        version: i64,
        approve: bool,
        comment: &str,
        by: UserId,
        now: DateTime<Utc>,
    ) -> Result<DealNote, Error> {
        if self.status != QuoteStatus::Draft {
            return Err(not_draft(self));
        }
        self.check_version(version)?;
        let Some(a) = self.approval.as_mut().filter(|a| a.status == ApprovalStatus::Requested) else {
            return Err(Error::Conflict(format!("quote version {} has no discount request to decide", self.number)));
        };
        if !approve && comment.trim().is_empty() {
            return Err(Error::invalid("comment", "say why the discount is rejected"));
        }
        a.status = if approve { ApprovalStatus::Approved } else { ApprovalStatus::Rejected };
        a.decided_by = Some(by);
        a.decided_at = Some(now);
        a.decision_comment = comment.trim().to_string();
        let details = json!({ "approved": approve, "discount_bp": a.discount_bp, "comment": comment.trim() });
        self.updated_at = now;
        self.version += 1;
        Ok(self.note(EventKind::DiscountDecided, details))
    }

    /// Sends a draft: from now on it is immutable. Refused while a discount above the
    /// threshold lacks approval, or when the validity date has passed.
    pub fn send(
        &mut self,
        version: i64,
        threshold_bp: i64,
        by: UserId,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<DealNote, Error> {
        if self.status != QuoteStatus::Draft {
            return Err(not_draft(self));
        }
        self.check_version(version)?;
        let mut problems = Vec::new();
        if self.needs_approval(threshold_bp)
            && !self.approval.as_ref().is_some_and(|a| a.status == ApprovalStatus::Approved)
        {
            problems.push(FieldError::new(
                "discount",
                format!(
                    "a discount above {} % needs a manager's approval before the quote is sent",
                    threshold_bp as f64 / 100.0
                ),
            ));
        }
        if self.content.valid_until < today {
            problems.push(FieldError::new("content.valid_until", "the validity date has already passed"));
        }
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        self.status = QuoteStatus::Sent;
        self.sent_at = Some(now);
        self.sent_by = Some(by);
        self.updated_at = now;
        self.version += 1;
        let totals: Vec<_> = self
            .content
            .options
            .iter()
            .zip(&self.totals)
            .map(|(o, t)| json!({ "option": o.key, "total": t.total }))
            .collect();
        Ok(self.note(EventKind::QuoteSent, json!({ "currency": self.content.currency, "options": totals })))
    }

    /// The status the customer sees today: a sent version past its date is expired.
    pub fn status_on(&self, today: NaiveDate) -> QuoteStatus {
        if self.status == QuoteStatus::Sent && self.content.valid_until < today {
            QuoteStatus::Expired
        } else {
            self.status
        }
    }

    /// The customer may still answer: refused for anything but a sent, unexpired version.
    fn check_open(&self, today: NaiveDate) -> Result<(), Error> {
        match self.status_on(today) {
            QuoteStatus::Sent => Ok(()),
            QuoteStatus::Expired => {
                Err(Error::Conflict(format!("this quote expired on {}; ask for a new one", self.content.valid_until)))
            }
            QuoteStatus::Superseded => Err(Error::Conflict("this quote was replaced by a newer version".into())),
            QuoteStatus::Accepted | QuoteStatus::Rejected => {
                Err(Error::Conflict(format!("this quote was already {}", self.status.as_str())))
            }
            QuoteStatus::Draft => Err(Error::Conflict("this quote has not been sent".into())),
        }
    }

    pub fn accept(&mut self, option: &str, today: NaiveDate, now: DateTime<Utc>) -> Result<DealNote, Error> {
        self.check_open(today)?;
        let Some((_, totals)) = self.option(option) else {
            return Err(Error::invalid("option", format!("`{option}` is not an option of this quote")));
        };
        let total = totals.total;
        self.status = QuoteStatus::Accepted;
        self.decision = Some(QuoteDecision { accepted: true, option: Some(option.into()), reason: None, at: now });
        self.updated_at = now;
        self.version += 1;
        let details = json!({ "option": option, "total": total, "currency": self.content.currency, "by": "customer" });
        Ok(self.note(EventKind::QuoteAccepted, details))
    }

    pub fn reject(&mut self, reason: &str, today: NaiveDate, now: DateTime<Utc>) -> Result<DealNote, Error> {
        self.check_open(today)?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(Error::invalid("reason", "say why the quote does not work for you"));
        }
        if reason.chars().count() > TEXT_MAX {
            return Err(Error::invalid("reason", format!("is longer than {TEXT_MAX} characters")));
        }
        self.status = QuoteStatus::Rejected;
        self.decision = Some(QuoteDecision { accepted: false, option: None, reason: Some(reason.into()), at: now });
        self.updated_at = now;
        self.version += 1;
        Ok(self.note(EventKind::QuoteRejected, json!({ "reason": reason, "by": "customer" })))
    }

    /// A sent version replaced by a newer one.
    pub fn supersede(&mut self, by_number: i32, now: DateTime<Utc>) -> Option<DealNote> {
        if self.status != QuoteStatus::Sent {
            return None;
        }
        self.status = QuoteStatus::Superseded;
        self.updated_at = now;
        self.version += 1;
        Some(self.note(EventKind::QuoteUpdated, json!({ "superseded_by": by_number })))
    }
}

/// What changed between two versions, option by option.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct QuoteComparison {
    pub from: i32,
    pub to: i32,
    pub options: Vec<OptionChange>,
    /// Names of the terms that differ (`payment_terms`, `valid_until` …).
    pub terms_changed: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OptionChange {
    pub key: String,
    /// `added`, `removed`, `changed` or `same`.
    pub change: String,
    pub total_from: Option<i64>,
    pub total_to: Option<i64>,
    pub discount_bp_from: Option<i64>,
    pub discount_bp_to: Option<i64>,
    /// In a `changed` option: the lines added, removed or changed (matched by SKU, else name).
    pub lines: Vec<LineChange>,
}

/// One line of an option in two versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LineChange {
    pub sku: String,
    pub name: String,
    /// `added`, `removed` or `changed`.
    pub change: String,
    pub quantity_from: Option<i64>,
    pub quantity_to: Option<i64>,
    /// Minor units of the quote's currency.
    pub unit_price_from: Option<i64>,
    pub unit_price_to: Option<i64>,
    pub discount_bp_from: Option<i64>,
    pub discount_bp_to: Option<i64>,
    pub tax_rate_bp_from: Option<i64>,
    pub tax_rate_bp_to: Option<i64>,
}

fn line_key(l: &QuoteLine) -> &str {
    if l.sku.is_empty() { &l.name } else { &l.sku }
}

fn line_change(x: Option<&QuoteLine>, y: Option<&QuoteLine>) -> LineChange {
    let l = y.or(x).expect("a line on one side");
    LineChange {
        sku: l.sku.clone(),
        name: l.name.clone(),
        change: match (x, y) {
            (None, _) => "added",
            (_, None) => "removed",
            _ => "changed",
        }
        .into(),
        quantity_from: x.map(|l| l.quantity),
        quantity_to: y.map(|l| l.quantity),
        unit_price_from: x.map(|l| l.unit_price.minor),
        unit_price_to: y.map(|l| l.unit_price.minor),
        discount_bp_from: x.map(|l| l.discount_bp),
        discount_bp_to: y.map(|l| l.discount_bp),
        tax_rate_bp_from: x.map(|l| l.tax_rate_bp),
        tax_rate_bp_to: y.map(|l| l.tax_rate_bp),
    }
}

/// The lines of one option that differ between two versions: removed or changed in the
/// order of `a`, then the ones added. A line matches the first unmatched line of the other
/// version with the same SKU (or name, when it has none).
fn compare_lines(a: &[QuoteLine], b: &[QuoteLine]) -> Vec<LineChange> {
    let mut used = vec![false; b.len()];
    let mut out = Vec::new();
    for x in a {
        match (0..b.len()).find(|&j| !used[j] && line_key(&b[j]) == line_key(x)) {
            Some(j) => {
                used[j] = true;
                if x != &b[j] {
                    out.push(line_change(Some(x), Some(&b[j])));
                }
            }
            None => out.push(line_change(Some(x), None)),
        }
    }
    out.extend(b.iter().zip(&used).filter(|(_, u)| !**u).map(|(y, _)| line_change(None, Some(y))));
    out
}

pub fn compare(a: &Quote, b: &Quote) -> QuoteComparison {
    let mut keys: Vec<&str> = a.content.options.iter().map(|o| o.key.as_str()).collect();
    for o in &b.content.options {
        if !keys.contains(&o.key.as_str()) {
            keys.push(&o.key);
        }
    }
    let options = keys
        .into_iter()
        .map(|k| {
            let (x, y) = (a.option(k), b.option(k));
            let change = match (x, y) {
                (None, Some(_)) => "added",
                (Some(_), None) => "removed",
                (Some(x), Some(y)) if x == y => "same",
                _ => "changed",
            };
            OptionChange {
                key: k.into(),
                change: change.into(),
                total_from: x.map(|x| x.1.total),
                total_to: y.map(|y| y.1.total),
                discount_bp_from: x.map(|x| x.1.discount_bp()),
                discount_bp_to: y.map(|y| y.1.discount_bp()),
                lines: match (x, y) {
                    (Some(x), Some(y)) => compare_lines(&x.0.lines, &y.0.lines),
                    _ => Vec::new(),
                },
            }
        })
        .collect();
    let (c, d) = (&a.content, &b.content);
    let terms_changed = [
        ("currency", c.currency != d.currency),
        ("recommended", c.recommended != d.recommended),
        ("payment_terms", c.payment_terms != d.payment_terms),
        ("after_sales_terms", c.after_sales_terms != d.after_sales_terms),
        ("valid_until", c.valid_until != d.valid_until),
        ("notes", c.notes != d.notes),
    ]
    .into_iter()
    .filter(|(_, changed)| *changed)
    .map(|(n, _)| n.to_string())
    .collect();
    QuoteComparison { from: a.number, to: b.number, options, terms_changed }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::currency::Money;

    pub fn option(key: &str, tier: Tier, price: i64) -> QuoteOption {
        QuoteOption {
            key: key.into(),
            name: tier.name(true).into(),
            tier: Some(tier),
            lines: vec![QuoteLine {
                product_id: None,
                sku: key.to_uppercase(),
                name: tier.name(true).into(),
                unit: "套".into(),
                quantity: 1,
                unit_price: Money { minor: price, currency: Currency::CNY },
                discount_bp: 0,
                tax_rate_bp: 600,
            }],
            discount_bp: 0,
        }
    }

    pub fn content() -> QuoteContent {
        QuoteContent {
            currency: Currency::CNY,
            options: vec![
                option("basic", Tier::Basic, 3_000_000),
                option("standard", Tier::Standard, 8_000_000),
                option("professional", Tier::Professional, 15_000_000),
            ],
            recommended: None,
            payment_terms: "签约后 30 天内付清".into(),
            after_sales_terms: "一年免费维护".into(),
            valid_until: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
            language: "zh-CN".into(),
            notes: String::new(),
        }
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    fn now() -> DateTime<Utc> {
        "2026-12-01T08:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_sent_version_is_frozen_and_answered_once() {
        let (mut q, note) = Quote::draft(DealId(1), 1, content(), UserId(7), now()).unwrap();
        assert_eq!(note.kind, EventKind::QuoteCreated);
        q.send(1, 1_000, UserId(7), day(1), now()).unwrap();
        assert_eq!(q.status, QuoteStatus::Sent);
        assert!(matches!(q.edit(q.version, content(), now()), Err(Error::Conflict(_))), "sent is immutable");
        let mut twice = q.clone();
        let note = q.accept("standard", day(2), now()).unwrap();
        assert_eq!(note.details["total"], 8_480_000, "8 000 000 + 6 % tax");
        assert!(matches!(q.accept("standard", day(2), now()), Err(Error::Conflict(m)) if m.contains("already")));
        // The same link after the validity date: expired, nothing changes.
        assert_eq!(twice.status_on(day(31)), QuoteStatus::Sent);
        let late = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        assert_eq!(twice.status_on(late), QuoteStatus::Expired);
        assert!(matches!(twice.accept("standard", late, now()), Err(Error::Conflict(m)) if m.contains("expired")));
        assert!(matches!(twice.accept("gold", day(2), now()), Err(Error::Invalid(_))));
        twice.supersede(2, now()).unwrap();
        assert!(matches!(twice.reject("太贵", day(2), now()), Err(Error::Conflict(m)) if m.contains("replaced")));
    }

    #[test]
    fn rejection_proposes_the_next_lower_tier() {
        let c = content();
        let next = c.next_lower_tier();
        assert_eq!(next.options.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(), ["basic", "standard"]);
        assert_eq!(next.recommended.as_deref(), Some("standard"));
        let last = next.next_lower_tier().next_lower_tier();
        assert_eq!(last.options.len(), 1, "basic stays when nothing is lower");
    }

    #[test]
    fn a_large_discount_waits_for_approval() {
        let mut c = content();
        c.options[1].discount_bp = 1_200;
        let (mut q, _) = Quote::draft(DealId(1), 2, c, UserId(7), now()).unwrap();
        assert!(q.needs_approval(1_000));
        let Err(Error::Invalid(errs)) = q.send(1, 1_000, UserId(7), day(1), now()) else { panic!("refused") };
        assert_eq!(errs[0].field, "discount");
        q.request_discount(1, "竞品报价更低", UserId(7), 1_000, now()).unwrap();
        assert!(matches!(q.decide_discount(2, false, "", UserId(9), now()), Err(Error::Invalid(_))));
        let note = q.decide_discount(2, true, "同意，年底冲量", UserId(9), now()).unwrap();
        assert_eq!(note.details["discount_bp"], 1_200);
        q.send(3, 1_000, UserId(7), day(1), now()).unwrap();
        assert_eq!(q.status, QuoteStatus::Sent);
    }

    #[test]
    fn comparing_versions_names_what_changed() {
        let (a, _) = Quote::draft(DealId(1), 1, content(), UserId(7), now()).unwrap();
        let mut c = content().next_lower_tier();
        c.options[1].discount_bp = 1_200;
        let (b, _) = Quote::draft(DealId(1), 2, c, UserId(7), now()).unwrap();
        let diff = compare(&a, &b);
        let changes: Vec<_> = diff.options.iter().map(|o| (o.key.as_str(), o.change.as_str())).collect();
        assert_eq!(changes, [("basic", "same"), ("standard", "changed"), ("professional", "removed")]);
        assert_eq!(diff.options[1].discount_bp_to, Some(1_200));
        assert_eq!(diff.terms_changed, ["recommended"]);
    }

    fn catalog_product(id: i64, sku: &str, tier: Tier, price: i64) -> Product {
        Product {
            id: crate::ids::ProductId(id),
            spec: crate::selling::catalog::tests::product(sku, tier, price, &[]),
            active: true,
            created_at: now(),
            updated_at: now(),
        }
    }

    #[test]
    fn drafts_from_products_each_or_as_one_option() {
        let pro = catalog_product(1, "PRO", Tier::Professional, 15_000_000);
        let bas = catalog_product(2, "BAS", Tier::Basic, 3_000_000);
        let picks = [ProductPick { product: &pro, quantity: 1 }, ProductPick { product: &bas, quantity: 2 }];
        let each = content_from_products(&picks, None, OptionLayout::Each, "zh-CN", day(31)).unwrap();
        let keys: Vec<_> = each.options.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(keys, ["bas", "pro"], "cheapest first");
        assert_eq!((each.options[0].lines[0].quantity, each.options[0].name.as_str()), (2, "基础版"));
        let one = content_from_products(&picks, None, OptionLayout::One, "en", day(31)).unwrap();
        assert_eq!(one.options.len(), 1);
        assert_eq!(one.options[0].lines.len(), 2);
        assert_eq!(
            (one.options[0].tier, one.options[0].lines[0].name.as_str()),
            (Some(Tier::Professional), "Professional")
        );
        one.validate().unwrap();
        let book = PriceBook {
            name: "USD".into(),
            currency: Currency::USD,
            customer_group: String::new(),
            prices: vec![crate::selling::catalog::PriceBookEntry { sku: "PRO".into(), unit_price_minor: 2_000_000 }],
            version: None,
        };
        let Err(Error::Invalid(errs)) = content_from_products(&picks, Some(&book), OptionLayout::Each, "en", day(31))
        else {
            panic!("BAS has no USD price")
        };
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "price_book");
        assert!(errs[0].message.contains("BAS"), "{}", errs[0].message);
        let only_pro = content_from_products(&picks[..1], Some(&book), OptionLayout::Each, "en", day(31)).unwrap();
        assert_eq!(only_pro.options[0].lines[0].unit_price, Money { minor: 2_000_000, currency: Currency::USD });
        assert!(matches!(
            content_from_products(&[], None, OptionLayout::Each, "en", day(31)),
            Err(Error::Invalid(e)) if e[0].field == "items"
        ));
    }

    #[test]
    fn comparing_versions_names_the_lines_that_changed() {
        let (a, _) = Quote::draft(DealId(1), 1, content(), UserId(7), now()).unwrap();
        let mut c = content();
        c.options[0].lines[0].quantity = 3;
        c.options[0].lines[0].unit_price.minor = 2_500_000;
        let mut extra = c.options[2].lines[0].clone();
        extra.sku = "SSO".into();
        extra.name = "单点登录".into();
        c.options[1].lines.push(extra);
        c.options[2].lines[0].tax_rate_bp = 1_300;
        let (b, _) = Quote::draft(DealId(1), 2, c, UserId(7), now()).unwrap();
        let diff = compare(&a, &b);
        let lines: Vec<Vec<(&str, &str)>> = diff
            .options
            .iter()
            .map(|o| o.lines.iter().map(|l| (l.sku.as_str(), l.change.as_str())).collect())
            .collect();
        assert_eq!(lines, [vec![("BASIC", "changed")], vec![("SSO", "added")], vec![("PROFESSIONAL", "changed")]]);
        let basic = &diff.options[0].lines[0];
        assert_eq!((basic.quantity_from, basic.quantity_to), (Some(1), Some(3)));
        assert_eq!((basic.unit_price_from, basic.unit_price_to), (Some(3_000_000), Some(2_500_000)));
        assert_eq!(diff.options[2].lines[0].tax_rate_bp_to, Some(1_300));
    }
}
