//! Quotes (报价): numbered versions per deal, each with alternative options (good / better /
//! best), terms and a validity date. A version is edited while it is a draft; once sent it
//! never changes again — a new version supersedes it. A discount above the threshold needs a
//! manager's approval before the version can be sent.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::catalog::Tier;
use super::pricing::{QuoteLine, Totals, price};
use crate::currency::Currency;
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
}
