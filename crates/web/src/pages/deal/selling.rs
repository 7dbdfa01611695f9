//! The deal page's selling panels: needs analysis, recommended products, quote versions and
//! contracts, read from the same guarded store as the API.

use salesflow_domain::currency::Money;
use salesflow_domain::selling::contract::{Contract, ContractStatus};
use salesflow_domain::selling::needs::NeedsAnalysis;
use salesflow_domain::selling::objection::{Objection, ObjectionKind, Playbook};
use salesflow_domain::selling::quote::{ApprovalStatus, Quote, QuoteStatus};
use salesflow_domain::selling::recommend::{Reason, ReasonKind, Recommendation};

use crate::i18n::Locale;
use crate::i18n::deal::{DealTexts, fill};
use crate::pages::format;

/// What the store holds for the deal's selling.
#[derive(Debug, Default)]
pub struct SellingData {
    pub needs: Option<NeedsAnalysis>,
    pub recommendations: Vec<Recommendation>,
    pub quotes: Vec<Quote>,
    pub contracts: Vec<Contract>,
    pub objections: Vec<Objection>,
    /// The playbook of the deal's current stage.
    pub playbook: Option<Playbook>,
}

pub struct QuoteRow {
    pub number: i32,
    pub title: String,
    pub status: &'static str,
    pub status_label: &'static str,
    /// Option name and total, cheapest first.
    pub options: Vec<(String, String)>,
    pub approval: Option<String>,
    pub decision: Option<String>,
}

pub struct ContractRow {
    pub id: i64,
    pub number: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub total: String,
    pub milestones: String,
}

#[derive(Default)]
pub struct SellingPanel {
    /// (label, value) rows of the needs analysis; empty before it is captured.
    pub needs: Vec<(&'static str, String)>,
    /// The top recommendations: name, tier, why.
    pub recommendations: Vec<(String, String)>,
    pub quotes: Vec<QuoteRow>,
    pub contracts: Vec<ContractRow>,
    /// Kind, what was said, the answer, resolved.
    pub objections: Vec<(&'static str, String, String, bool)>,
    /// Kind, objection, answer, evidence.
    pub playbook: Vec<(&'static str, String, String, String)>,
}

fn kind(k: ObjectionKind, t: &'static DealTexts) -> &'static str {
    match k {
        ObjectionKind::Price => t.objection_price,
        ObjectionKind::Timing => t.objection_timing,
        ObjectionKind::Competitor => t.objection_competitor,
        ObjectionKind::Features => t.objection_features,
        ObjectionKind::Trust => t.objection_trust,
        ObjectionKind::Other => t.objection_other,
    }
}

fn percent(bp: i64) -> String {
    format!("{}.{:02}%", bp / 100, bp % 100)
}

fn list(items: &[String], locale: Locale) -> String {
    items.join(if locale == Locale::ZhCn { "、" } else { ", " })
}

impl SellingPanel {
    pub fn new(data: &SellingData, t: &'static DealTexts, locale: Locale, today: chrono::NaiveDate) -> Self {
        let zh = locale == Locale::ZhCn;
        let money = |m: &Money| format::money(m, locale);
        let mut needs = Vec::new();
        if let Some(n) = &data.needs {
            let i = &n.input;
            let rows: [(&'static str, String); 7] = [
                (t.needs_pain, list(&i.pain_points, locale)),
                (t.needs_requirements, list(&i.requirements, locale)),
                (t.needs_budget, i.budget.as_ref().map(money).unwrap_or_default()),
                (t.needs_decision, i.decision_maker.clone()),
                (t.needs_timeline, i.timeline.map(|d| format::date(d, locale)).unwrap_or_default()),
                (t.needs_intent, i.purchase_intent.map(|v| format!("{v} / 5")).unwrap_or_default()),
                (t.needs_competitors, list(&i.competitors, locale)),
            ];
            needs = rows.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        }
        let why = |reasons: &[Reason]| {
            reasons
                .iter()
                .filter_map(|r| match r.kind {
                    ReasonKind::Covers => Some(fill(t.recs_fit, &[("covered", &list(&r.requirements, locale))])),
                    ReasonKind::WithinBudget => Some(t.recs_within.to_string()),
                    ReasonKind::OverBudget => {
                        Some(fill(t.recs_over, &[("amount", &r.amount.as_ref().map(money).unwrap_or_default())]))
                    }
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join(" · ")
        };
        let recommendations = data
            .recommendations
            .iter()
            .take(3)
            .map(|r| {
                let name = if zh { &r.name_zh } else { &r.name_en };
                (format!("{name} · {}", money(&r.list_price)), why(&r.reasons))
            })
            .collect();
        let quotes = data.quotes.iter().rev().map(|q| quote_row(q, t, locale, today)).collect();
        let contracts = data
            .contracts
            .iter()
            .map(|c| ContractRow {
                id: c.id.0,
                number: c.number.clone(),
                status: c.status.as_str(),
                status_label: contract_status(c.status, t),
                total: money(&Money { minor: c.totals.total, currency: c.totals.currency }),
                milestones: fill(
                    t.milestones,
                    &[
                        ("done", &c.milestones.iter().filter(|m| m.done_at.is_some()).count().to_string()),
                        ("all", &c.milestones.len().to_string()),
                    ],
                ),
            })
            .collect();
        let objections = data
            .objections
            .iter()
            .map(|o| (kind(o.spec.kind, t), o.spec.text.clone(), o.spec.answer.clone(), o.spec.resolved))
            .collect();
        let playbook = data
            .playbook
            .iter()
            .flat_map(|p| &p.entries)
            .map(|e| (kind(e.kind, t), e.objection.clone(), e.answer.clone(), e.evidence.clone()))
            .collect();
        SellingPanel { needs, recommendations, quotes, contracts, objections, playbook }
    }
}

fn quote_row(q: &Quote, t: &'static DealTexts, locale: Locale, today: chrono::NaiveDate) -> QuoteRow {
    let currency = q.content.currency;
    let options = q
        .content
        .options
        .iter()
        .zip(&q.totals)
        .map(|(o, total)| (o.name.clone(), format::money(&Money { minor: total.total, currency }, locale)))
        .collect();
    let approval = q.approval.as_ref().map(|a| {
        let template = match a.status {
            ApprovalStatus::Requested => t.approval_requested,
            ApprovalStatus::Approved => t.approval_approved,
            ApprovalStatus::Rejected => t.approval_rejected,
        };
        fill(template, &[("discount", &percent(a.discount_bp))])
    });
    let decision = q.decision.as_ref().and_then(|d| d.reason.clone().or_else(|| d.option.clone()));
    let status = q.status_on(today);
    QuoteRow {
        number: q.number,
        title: fill(t.quote_version, &[("number", &q.number.to_string())]),
        status: status.as_str(),
        status_label: match status {
            QuoteStatus::Draft => t.quote_draft,
            QuoteStatus::Sent => t.quote_sent,
            QuoteStatus::Accepted => t.quote_accepted,
            QuoteStatus::Rejected => t.quote_rejected,
            QuoteStatus::Superseded => t.quote_superseded,
            QuoteStatus::Expired => t.quote_expired,
        },
        options,
        approval,
        decision,
    }
}

fn contract_status(s: ContractStatus, t: &'static DealTexts) -> &'static str {
    match s {
        ContractStatus::Draft => t.contract_draft,
        ContractStatus::Sent => t.contract_sent,
        ContractStatus::Signed => t.contract_signed,
        ContractStatus::Executing => t.contract_executing,
        ContractStatus::Completed => t.contract_completed,
        ContractStatus::Terminated => t.contract_terminated,
    }
}
