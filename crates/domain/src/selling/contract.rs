//! Contracts (签约与合同执行): made from an accepted quote with its items, amounts and terms
//! carried over exactly, then signed and executed through milestones (deliverables and
//! payment installments).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::pricing::{LineTotals, QuoteLine, Totals};
use super::quote::{DealNote, Quote, QuoteStatus};
use crate::currency::Money;
use crate::error::{Error, FieldError};
use crate::ids::{ContractId, DealId, QuoteId, UserId};
use crate::records::{EventKind, NAME_MAX, Problems, TEXT_MAX};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContractStatus {
    Draft,
    Sent,
    Signed,
    Executing,
    Completed,
    Terminated,
}

impl ContractStatus {
    pub const ALL: [ContractStatus; 6] = [
        ContractStatus::Draft,
        ContractStatus::Sent,
        ContractStatus::Signed,
        ContractStatus::Executing,
        ContractStatus::Completed,
        ContractStatus::Terminated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ContractStatus::Draft => "draft",
            ContractStatus::Sent => "sent",
            ContractStatus::Signed => "signed",
            ContractStatus::Executing => "executing",
            ContractStatus::Completed => "completed",
            ContractStatus::Terminated => "terminated",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// draft → sent → signed → executing → completed; anything unfinished may be terminated.
    fn may_become(self, next: ContractStatus) -> bool {
        use ContractStatus::*;
        matches!(
            (self, next),
            (Draft, Sent)
                | (Sent, Signed)
                | (Signed, Executing)
                | (Executing, Completed)
                | (Draft | Sent | Signed | Executing, Terminated)
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MilestoneKind {
    Deliverable,
    Payment,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMilestone {
    pub kind: MilestoneKind,
    pub title: String,
    pub due_date: NaiveDate,
    /// For a payment installment.
    pub amount: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Milestone {
    /// 1, 2, 3 … within the contract.
    pub id: u32,
    #[serde(flatten)]
    pub spec: NewMilestone,
    /// Delivered or paid.
    pub done_at: Option<DateTime<Utc>>,
}

/// One contract item: the quote line and its amounts, as accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ContractItem {
    #[serde(flatten)]
    pub line: QuoteLine,
    pub amounts: LineTotals,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContract {
    /// The accepted quote version of the deal.
    pub quote_number: i32,
    /// Our company, as it signs.
    pub seller: String,
    /// The customer, as it signs.
    pub buyer: String,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    #[serde(default)]
    pub milestones: Vec<NewMilestone>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Contract {
    pub id: ContractId,
    pub deal_id: DealId,
    pub quote_id: QuoteId,
    pub quote_number: i32,
    /// The option accepted.
    pub option: String,
    /// `HT-<deal>-<quote version>`.
    pub number: String,
    pub status: ContractStatus,
    pub seller: String,
    pub buyer: String,
    pub items: Vec<ContractItem>,
    /// The accepted option's totals, unchanged.
    pub totals: Totals,
    pub payment_terms: String,
    pub after_sales_terms: String,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub signed_date: Option<NaiveDate>,
    pub signatories: Vec<String>,
    pub milestones: Vec<Milestone>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// A change to a contract: a status step, signing details, new milestones, milestones done.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractPatch {
    /// The version read.
    pub version: i64,
    pub status: Option<ContractStatus>,
    /// Required when signing.
    pub signed_date: Option<NaiveDate>,
    /// Required when signing: who signed, for both sides.
    pub signatories: Option<Vec<String>>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    #[serde(default)]
    pub add_milestones: Vec<NewMilestone>,
    /// Ids of milestones delivered or paid.
    #[serde(default)]
    pub complete_milestones: Vec<u32>,
}

fn check_milestone(p: &mut Problems, field: &str, m: &NewMilestone, currency: crate::currency::Currency) {
    p.text(&format!("{field}.title"), &m.title, true, NAME_MAX);
    if let Some(a) = m.amount {
        if let Err(Error::Invalid(errs)) = a.checked(&format!("{field}.amount")) {
            p.0.extend(errs);
        }
        if a.currency != currency {
            p.push(&format!("{field}.amount.currency"), format!("the contract is in {currency}"));
        }
    }
}

fn check_dates(p: &mut Problems, start: Option<NaiveDate>, end: Option<NaiveDate>) {
    if let (Some(s), Some(e)) = (start, end)
        && e < s
    {
        p.push("end_date", "cannot be before the start date");
    }
}

impl Contract {
    /// A draft contract from `quote`, which must be the deal's accepted version.
    pub fn from_quote(
        quote: &Quote,
        new: &NewContract,
        by: UserId,
        now: DateTime<Utc>,
    ) -> Result<(Contract, DealNote), Error> {
        if quote.status != QuoteStatus::Accepted {
            return Err(Error::invalid(
                "quote_number",
                format!(
                    "a contract is made from an accepted quote; version {} is {}",
                    quote.number,
                    quote.status.as_str()
                ),
            ));
        }
        let option = quote.decision.as_ref().and_then(|d| d.option.clone()).unwrap_or_default();
        let Some((chosen, totals)) = quote.option(&option) else {
            return Err(Error::Storage(format!("accepted quote {} names no option", quote.id)));
        };
        let mut p = Problems::default();
        p.text("seller", &new.seller, true, NAME_MAX);
        p.text("buyer", &new.buyer, true, NAME_MAX);
        check_dates(&mut p, new.start_date, new.end_date);
        for (i, m) in new.milestones.iter().enumerate() {
            check_milestone(&mut p, &format!("milestones[{i}]"), m, quote.content.currency);
        }
        p.finish()?;
        let items = chosen
            .lines
            .iter()
            .zip(&totals.lines)
            .map(|(line, amounts)| ContractItem { line: line.clone(), amounts: *amounts })
            .collect();
        let contract = Contract {
            id: ContractId(0),
            deal_id: quote.deal_id,
            quote_id: quote.id,
            quote_number: quote.number,
            option,
            number: format!("HT-{}-{}", quote.deal_id, quote.number),
            status: ContractStatus::Draft,
            seller: new.seller.trim().into(),
            buyer: new.buyer.trim().into(),
            items,
            totals: totals.clone(),
            payment_terms: quote.content.payment_terms.clone(),
            after_sales_terms: quote.content.after_sales_terms.clone(),
            start_date: new.start_date,
            end_date: new.end_date,
            signed_date: None,
            signatories: vec![],
            milestones: new
                .milestones
                .iter()
                .enumerate()
                .map(|(i, m)| Milestone { id: i as u32 + 1, spec: m.clone(), done_at: None })
                .collect(),
            created_by: by,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let note = DealNote {
            kind: EventKind::ContractCreated,
            details: json!({
                "contract": contract.number, "quote": quote.number, "option": contract.option,
                "total": contract.totals.total, "currency": contract.totals.currency,
            }),
        };
        Ok((contract, note))
    }

    /// Applies a patch; one note per status step and per milestone done.
    pub fn apply(&mut self, patch: &ContractPatch, now: DateTime<Utc>) -> Result<Vec<DealNote>, Error> {
        if patch.version != self.version {
            return Err(Error::Conflict(format!(
                "contract {} changed since it was read (version {}, now {})",
                self.number, patch.version, self.version
            )));
        }
        if matches!(self.status, ContractStatus::Completed | ContractStatus::Terminated) {
            return Err(Error::Conflict(format!("contract {} is {}", self.number, self.status.as_str())));
        }
        let mut p = Problems::default();
        let currency = self.totals.currency;
        for (i, m) in patch.add_milestones.iter().enumerate() {
            check_milestone(&mut p, &format!("add_milestones[{i}]"), m, currency);
        }
        for (i, id) in patch.complete_milestones.iter().enumerate() {
            if !self.milestones.iter().any(|m| m.id == *id) {
                p.push(&format!("complete_milestones[{i}]"), format!("milestone {id} does not exist"));
            }
        }
        if let Some(names) = &patch.signatories {
            for (i, n) in names.iter().enumerate() {
                p.text(&format!("signatories[{i}]"), n, true, NAME_MAX);
            }
        }
        check_dates(&mut p, patch.start_date.or(self.start_date), patch.end_date.or(self.end_date));
        p.finish()?;
        let mut notes = Vec::new();
        let next_id = self.milestones.iter().map(|m| m.id).max().unwrap_or(0);
        for (i, m) in patch.add_milestones.iter().enumerate() {
            self.milestones.push(Milestone { id: next_id + i as u32 + 1, spec: m.clone(), done_at: None });
        }
        for id in &patch.complete_milestones {
            let m = self.milestones.iter_mut().find(|m| m.id == *id).expect("checked above");
            if m.done_at.is_none() {
                m.done_at = Some(now);
                notes.push(DealNote {
                    kind: EventKind::MilestoneDone,
                    details: json!({ "contract": self.number, "milestone": m.id, "title": m.spec.title,
                        "kind": m.spec.kind, "amount": m.spec.amount }),
                });
            }
        }
        if let Some(d) = patch.start_date {
            self.start_date = Some(d);
        }
        if let Some(d) = patch.end_date {
            self.end_date = Some(d);
        }
        if let Some(names) = &patch.signatories {
            self.signatories = names.iter().map(|n| n.trim().to_string()).collect();
        }
        if let Some(d) = patch.signed_date {
            self.signed_date = Some(d);
        }
        if let Some(next) = patch.status.filter(|s| *s != self.status) {
            self.step_to(next)?;
            notes.push(DealNote {
                kind: EventKind::ContractStatusChanged,
                details: json!({ "contract": self.number, "from": self.status, "to": next }),
            });
            self.status = next;
        }
        if self.signatories.iter().any(|s| s.chars().count() > TEXT_MAX) {
            return Err(Error::invalid("signatories", "too long"));
        }
        self.updated_at = now;
        self.version += 1;
        Ok(notes)
    }

    fn step_to(&self, next: ContractStatus) -> Result<(), Error> {
        if !self.status.may_become(next) {
            return Err(Error::invalid(
                "status",
                format!("a {} contract cannot become {}", self.status.as_str(), next.as_str()),
            ));
        }
        let mut problems = Vec::new();
        if next == ContractStatus::Signed {
            if self.signed_date.is_none() {
                problems.push(FieldError::new("signed_date", "is required to sign"));
            }
            if self.signatories.is_empty() {
                problems.push(FieldError::new("signatories", "name who signed"));
            }
        }
        if next == ContractStatus::Completed {
            let open: Vec<String> =
                self.milestones.iter().filter(|m| m.done_at.is_none()).map(|m| m.spec.title.clone()).collect();
            if !open.is_empty() {
                problems.push(FieldError::new("status", format!("milestones still open: {}", open.join(", "))));
            }
        }
        if problems.is_empty() { Ok(()) } else { Err(Error::Invalid(problems)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::selling::quote::tests::content;

    fn now() -> DateTime<Utc> {
        "2026-12-01T08:00:00Z".parse().unwrap()
    }

    fn accepted() -> Quote {
        let (mut q, _) = Quote::draft(DealId(4), 2, content(), UserId(7), now()).unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        q.send(1, 10_000, UserId(7), today, now()).unwrap();
        q.accept("standard", today, now()).unwrap();
        q
    }

    fn new_contract() -> NewContract {
        NewContract {
            quote_number: 2,
            seller: "星云软件有限公司".into(),
            buyer: "华东制造集团".into(),
            start_date: NaiveDate::from_ymd_opt(2027, 1, 1),
            end_date: NaiveDate::from_ymd_opt(2027, 12, 31),
            milestones: vec![NewMilestone {
                kind: MilestoneKind::Payment,
                title: "首付款".into(),
                due_date: NaiveDate::from_ymd_opt(2027, 1, 15).unwrap(),
                amount: Some(Money { minor: 4_240_000, currency: crate::currency::Currency::CNY }),
            }],
        }
    }

    #[test]
    fn amounts_carry_over_and_completion_waits_for_milestones() {
        let q = accepted();
        let (mut c, note) = Contract::from_quote(&q, &new_contract(), UserId(7), now()).unwrap();
        assert_eq!(c.totals, q.option("standard").unwrap().1.clone());
        assert_eq!(c.number, "HT-4-2");
        assert_eq!(note.details["total"], 8_480_000);
        let signed = ContractPatch { version: 1, status: Some(ContractStatus::Sent), ..Default::default() };
        c.apply(&signed, now()).unwrap();
        let Err(Error::Invalid(errs)) =
            c.apply(&ContractPatch { version: 2, status: Some(ContractStatus::Signed), ..Default::default() }, now())
        else {
            panic!("signing needs a date and names")
        };
        assert_eq!(errs.len(), 2);
        let mut c2 = c.clone();
        let sign = ContractPatch {
            version: 2,
            status: Some(ContractStatus::Signed),
            signed_date: NaiveDate::from_ymd_opt(2026, 12, 2),
            signatories: Some(vec!["王总".into(), "李经理".into()]),
            ..Default::default()
        };
        c2.apply(&sign, now()).unwrap();
        c2.apply(&ContractPatch { version: 3, status: Some(ContractStatus::Executing), ..Default::default() }, now())
            .unwrap();
        let done = ContractPatch { version: 4, status: Some(ContractStatus::Completed), ..Default::default() };
        assert!(c2.clone().apply(&done, now()).is_err(), "a milestone is open");
        let notes = c2
            .apply(
                &ContractPatch {
                    version: 4,
                    status: Some(ContractStatus::Completed),
                    complete_milestones: vec![1],
                    ..Default::default()
                },
                now(),
            )
            .unwrap();
        let kinds: Vec<_> = notes.iter().map(|n| n.kind).collect();
        assert_eq!(kinds, [EventKind::MilestoneDone, EventKind::ContractStatusChanged]);
        assert_eq!(c2.status, ContractStatus::Completed);
    }

    #[test]
    fn no_contract_from_a_rejected_quote() {
        let (mut q, _) = Quote::draft(DealId(4), 1, content(), UserId(7), now()).unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        q.send(1, 10_000, UserId(7), today, now()).unwrap();
        q.reject("价格太高", today, now()).unwrap();
        let Err(Error::Invalid(errs)) = Contract::from_quote(&q, &new_contract(), UserId(7), now()) else {
            panic!("refused")
        };
        assert_eq!(errs[0].field, "quote_number");
        assert!(errs[0].message.contains("rejected"));
    }
}
