//! The deal page's selling panels: needs analysis, recommended products, quote versions and
//! contracts, read from the same guarded store as the API.

use std::collections::HashMap;

use salesflow_domain::currency::{Currency, Money};
use salesflow_domain::selling::catalog::{PriceBook, Product};
use salesflow_domain::selling::contract::{Contract, ContractStatus, MilestoneKind};
use salesflow_domain::selling::needs::{Authority, NeedsAnalysis};
use salesflow_domain::selling::objection::{Objection, ObjectionKind, Playbook};
use salesflow_domain::selling::quote::{ApprovalStatus, Quote, QuoteStatus, compare};
use salesflow_domain::selling::recommend::{Reason, ReasonKind, Recommendation};

use crate::i18n::Locale;
use crate::i18n::deal::{DealTexts, fill};
use crate::i18n::deal_forms::{self, SellingForms};
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
    /// The names of the price books a draft can be priced from.
    pub price_books: Vec<String>,
    /// The catalog a draft and its lines are taken from.
    pub products: Vec<Product>,
    /// The book the draft form preselects ([`default_price_book`]).
    pub default_price_book: Option<String>,
}

/// The price book a new draft for a deal starts from: the book of the account's customer group
/// (one in the deal's currency first, then by name); without a group or such a book, the book
/// for everyone (no group) in the deal's currency; else none — the list prices. The rep can
/// still pick another book or the list prices.
pub fn default_price_book(books: &[PriceBook], group: &str, currency: Option<Currency>) -> Option<String> {
    let group = group.trim();
    let in_currency = |b: &&PriceBook| Some(b.currency) == currency;
    let mut of_group: Vec<&PriceBook> =
        books.iter().filter(|b| !group.is_empty() && b.customer_group.trim() == group).collect();
    of_group.sort_by_key(|b| (!in_currency(b), b.name.clone()));
    let general = || {
        let mut books: Vec<&PriceBook> =
            books.iter().filter(|b| b.customer_group.trim().is_empty()).filter(in_currency).collect();
        books.sort_by_key(|b| b.name.clone());
        books.first().map(|b| b.name.clone())
    };
    of_group.first().map(|b| b.name.clone()).or_else(general)
}

/// A recommended product: name and price, the reasons (requirements covered and missed,
/// budget), and the facts the team keeps for it with their sources.
pub struct RecommendationRow {
    pub name: String,
    pub why: String,
    /// The fact ("上线周期：14 天") and where it comes from.
    pub facts: Vec<(String, String)>,
    pub product: i64,
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
    /// The quote's `version` (for the forms).
    pub version: i64,
    /// The editable content of a draft.
    pub draft: Option<DraftView>,
    /// A discount request waits for a manager.
    pub approval_pending: bool,
    /// No approval asked yet, or the last one was rejected.
    pub can_request: bool,
    /// What changed from the version before (every version but the first).
    pub changes: Option<QuoteChanges>,
}

/// "Changes from v(n-1)": a heading and the changes, each with its details (the lines of a
/// changed option).
pub struct QuoteChanges {
    pub title: String,
    pub items: Vec<(String, Vec<String>)>,
}

/// A line of a draft option: its index and name.
pub type DraftLine = (usize, String);

pub struct DraftView {
    /// Per option: index, name, lines.
    pub options: Vec<(usize, String, Vec<DraftLine>)>,
    /// The quote's currency code, beside the unit prices.
    pub currency: String,
}

/// A catalog product as the forms offer it.
pub struct CatalogItem {
    pub id: i64,
    pub name: String,
    pub sku: String,
    pub tier: &'static str,
    pub price: String,
}

pub struct ContractRow {
    pub id: i64,
    pub number: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub total: String,
    pub milestones: String,
    pub version: i64,
    /// Id, title, due date, delivery or payment, done, amount (empty without one).
    pub items: Vec<(u32, String, String, bool, bool, String)>,
    /// The statuses it can step to: value, label.
    pub next: Vec<(&'static str, &'static str)>,
}

#[derive(Default)]
pub struct SellingPanel {
    /// (label, value) rows of the needs analysis; empty before it is captured.
    pub needs: Vec<(&'static str, String)>,
    /// The top recommendations, best first.
    pub recommendations: Vec<RecommendationRow>,
    pub quotes: Vec<QuoteRow>,
    pub contracts: Vec<ContractRow>,
    /// Kind, what was said, the answer, resolved, id, version.
    pub objections: Vec<(&'static str, String, String, bool, i64, i64)>,
    /// Kind, objection, answer, evidence.
    pub playbook: Vec<(&'static str, String, String, String)>,
    /// The price books a draft can be priced from.
    pub price_books: Vec<String>,
    /// The active catalog by category (tier, then SKU within one).
    pub catalog: Vec<(String, Vec<CatalogItem>)>,
    /// The products ticked in a refused draft form.
    pub picked: Vec<i64>,
    /// Accepted quote versions a contract can be made from.
    pub accepted: Vec<i32>,
    /// The objection kinds: value, label.
    pub kinds: Vec<(&'static str, &'static str)>,
    /// The values the forms show: the stored ones, or what a refused form sent.
    pub values: HashMap<String, String>,
    /// Problems beside form fields, by field name.
    pub problems: Vec<(String, String)>,
    /// Just sent: what was sent, the customer's link (shown this once), what happened to the deal.
    pub sent: Option<(String, String, String)>,
    /// The row numbers of the new-contract form's milestones.
    pub initial_milestones: Vec<usize>,
}

const KINDS: [ObjectionKind; 6] = [
    ObjectionKind::Price,
    ObjectionKind::Timing,
    ObjectionKind::Competitor,
    ObjectionKind::Features,
    ObjectionKind::Trust,
    ObjectionKind::Other,
];

pub fn kind_key(k: ObjectionKind) -> &'static str {
    match k {
        ObjectionKind::Price => "price",
        ObjectionKind::Timing => "timing",
        ObjectionKind::Competitor => "competitor",
        ObjectionKind::Features => "features",
        ObjectionKind::Trust => "trust",
        ObjectionKind::Other => "other",
    }
}

pub fn parse_kind(s: &str) -> Option<ObjectionKind> {
    KINDS.into_iter().find(|k| kind_key(*k) == s)
}

/// Blank milestone rows of the new-contract form.
pub const INITIAL_MILESTONES: usize = 3;

/// A discount in basis points as the form shows it: `12.5`.
pub fn bp_text(bp: i64) -> String {
    if bp % 100 == 0 {
        (bp / 100).to_string()
    } else {
        format!("{}.{:02}", bp / 100, bp % 100).trim_end_matches('0').to_string()
    }
}

impl SellingPanel {
    pub fn v(&self, key: &str) -> &str {
        self.values.get(key).map(String::as_str).unwrap_or("")
    }

    /// The new-contract form was refused: it opens again with its problems.
    pub fn contract_form_refused(&self) -> bool {
        self.problems.iter().any(|(k, _)| k.starts_with("c_"))
    }

    pub fn err(&self, key: &str) -> Option<&str> {
        self.problems.iter().find(|(k, _)| k == key).map(|(_, m)| m.as_str())
    }

    /// The value of `<p><id>_<field>` (`q2_payment`, `k5_status`).
    pub fn at(&self, p: &str, id: impl std::fmt::Display, field: &str) -> &str {
        self.v(&format!("{p}{id}_{field}"))
    }

    pub fn err_at(&self, p: &str, id: impl std::fmt::Display, field: &str) -> Option<&str> {
        self.err(&format!("{p}{id}_{field}"))
    }

    /// Whether a refused draft form had `product` ticked.
    pub fn picked(&self, product: impl std::fmt::Display) -> bool {
        let product = product.to_string();
        self.picked.iter().any(|p| p.to_string() == product)
    }

    /// A refused form: its values over the stored ones, and its problems.
    pub fn keep(&mut self, values: Vec<(String, String)>, problems: Vec<(String, String)>) {
        for (k, v) in values {
            if k == "product" {
                self.picked.extend(v.parse::<i64>().ok());
            } else if k != "_csrf" {
                self.values.insert(k, v);
            }
        }
        self.problems = problems;
    }

    fn fill_values(&mut self, data: &SellingData) {
        let v = &mut self.values;
        if let Some(book) = &data.default_price_book {
            v.insert("price_book".into(), book.clone());
        }
        if let Some(n) = &data.needs {
            let i = &n.input;
            v.insert("needs_version".into(), n.version.to_string());
            v.insert("needs_pain".into(), i.pain_points.join("\n"));
            v.insert("needs_requirements".into(), i.requirements.join("\n"));
            if let Some(b) = &i.budget {
                v.insert("needs_budget".into(), super::amount::plain(b));
                v.insert("needs_currency".into(), b.currency.code().to_string());
            }
            v.insert("needs_decision".into(), i.decision_maker.clone());
            let authority = match i.authority {
                Some(Authority::Decides) => "decides",
                Some(Authority::Influences) => "influences",
                Some(Authority::Unknown) => "unknown",
                None => "",
            };
            v.insert("needs_authority".into(), authority.into());
            v.insert("needs_timeline".into(), i.timeline.map(|d| d.to_string()).unwrap_or_default());
            v.insert("needs_intent".into(), i.purchase_intent.map(|d| d.to_string()).unwrap_or_default());
            v.insert("needs_competitors".into(), i.competitors.join("\n"));
            v.insert("needs_notes".into(), i.notes.clone());
        }
        for q in data.quotes.iter().filter(|q| q.status == QuoteStatus::Draft) {
            let n = q.number;
            for (oi, o) in q.content.options.iter().enumerate() {
                v.insert(format!("q{n}_disc_{oi}"), bp_text(o.discount_bp));
                for (li, l) in o.lines.iter().enumerate() {
                    v.insert(format!("q{n}_qty_{oi}_{li}"), l.quantity.to_string());
                    v.insert(format!("q{n}_ldisc_{oi}_{li}"), bp_text(l.discount_bp));
                    v.insert(format!("q{n}_price_{oi}_{li}"), super::amount::plain(&l.unit_price));
                    v.insert(format!("q{n}_tax_{oi}_{li}"), bp_text(l.tax_rate_bp));
                }
                if q.content.recommended.as_ref() == Some(&o.key) {
                    v.insert(format!("q{n}_rec"), oi.to_string());
                }
            }
            v.insert(format!("q{n}_payment"), q.content.payment_terms.clone());
            v.insert(format!("q{n}_after"), q.content.after_sales_terms.clone());
            v.insert(format!("q{n}_valid"), q.content.valid_until.to_string());
        }
    }
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
                    ReasonKind::Misses => Some(fill(t.recs_misses, &[("missed", &list(&r.requirements, locale))])),
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
            .take(5)
            .map(|r| {
                let name = if zh { &r.name_zh } else { &r.name_en };
                let facts = r
                    .facts
                    .iter()
                    .map(|f| {
                        let colon = if zh { "：" } else { ": " };
                        (format!("{}{colon}{}", f.label, f.value), f.source.clone())
                    })
                    .collect();
                RecommendationRow {
                    name: format!("{name} · {}", money(&r.list_price)),
                    why: why(&r.reasons),
                    facts,
                    product: r.product_id.0,
                }
            })
            .collect();
        let f = deal_forms::of(locale);
        let quotes = data
            .quotes
            .iter()
            .rev()
            .map(|q| {
                let before = data.quotes.iter().find(|p| p.number == q.number - 1);
                let mut row = quote_row(q, t, locale, today);
                row.changes = before.map(|b| changes(b, q, f, locale));
                row
            })
            .collect();
        let catalog = catalog(&data.products, f, zh, locale);
        let contracts = data
            .contracts
            .iter()
            .map(|c| ContractRow {
                id: c.id.0,
                number: c.number.clone(),
                status: c.status.as_str(),
                status_label: contract_status(c.status, t),
                version: c.version,
                items: c
                    .milestones
                    .iter()
                    .map(|m| {
                        let payment = m.spec.kind == MilestoneKind::Payment;
                        (
                            m.id,
                            m.spec.title.clone(),
                            format::date(m.spec.due_date, locale),
                            payment,
                            m.done_at.is_some(),
                            m.spec.amount.as_ref().map(money).unwrap_or_default(),
                        )
                    })
                    .collect(),
                next: next_statuses(c.status).iter().map(|s| (s.as_str(), contract_status(*s, t))).collect(),
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
            .map(|o| {
                (kind(o.spec.kind, t), o.spec.text.clone(), o.spec.answer.clone(), o.spec.resolved, o.id, o.version)
            })
            .collect();
        let playbook = data
            .playbook
            .iter()
            .flat_map(|p| &p.entries)
            .map(|e| (kind(e.kind, t), e.objection.clone(), e.answer.clone(), e.evidence.clone()))
            .collect();
        // An accepted version without its contract yet.
        let accepted = data
            .quotes
            .iter()
            .filter(|q| q.status == QuoteStatus::Accepted)
            .filter(|q| !data.contracts.iter().any(|c| c.quote_number == q.number))
            .map(|q| q.number)
            .collect();
        let kinds = KINDS.iter().map(|k| (kind_key(*k), kind(*k, t))).collect();
        let mut panel = SellingPanel {
            needs,
            recommendations,
            quotes,
            contracts,
            objections,
            playbook,
            accepted,
            kinds,
            price_books: data.price_books.clone(),
            catalog,
            initial_milestones: (0..INITIAL_MILESTONES).collect(),
            ..Default::default()
        };
        panel.fill_values(data);
        panel
    }
}

fn next_statuses(s: ContractStatus) -> &'static [ContractStatus] {
    use ContractStatus::*;
    match s {
        Draft => &[Sent, Terminated],
        Sent => &[Signed, Terminated],
        Signed => &[Executing, Terminated],
        Executing => &[Completed, Terminated],
        Completed | Terminated => &[],
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
        fill(template, &[("discount", &format::percent(a.discount_bp))])
    });
    // The accepted option by its name, not its key.
    let decision = q.decision.as_ref().and_then(|d| {
        d.reason.clone().or_else(|| {
            d.option.as_ref().map(|key| q.option(key).map(|(o, _)| o.name.clone()).unwrap_or_else(|| key.clone()))
        })
    });
    let draft = (q.status == QuoteStatus::Draft).then(|| DraftView {
        options: q
            .content
            .options
            .iter()
            .enumerate()
            .map(|(oi, o)| {
                (oi, o.name.clone(), o.lines.iter().enumerate().map(|(li, l)| (li, l.name.clone())).collect())
            })
            .collect(),
        currency: currency.code().to_string(),
    });
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
        version: q.version,
        draft,
        approval_pending: q.approval.as_ref().is_some_and(|a| a.status == ApprovalStatus::Requested),
        can_request: q.approval.as_ref().is_none_or(|a| a.status == ApprovalStatus::Rejected),
        changes: None,
    }
}

/// The active catalog grouped by category, names in the page's language.
fn catalog(products: &[Product], f: &SellingForms, zh: bool, locale: Locale) -> Vec<(String, Vec<CatalogItem>)> {
    let mut active: Vec<&Product> = products.iter().filter(|p| p.active).collect();
    active.sort_by(|a, b| {
        (a.spec.category.is_empty(), &a.spec.category, a.spec.tier.map(|t| t.rank()), &a.spec.sku).cmp(&(
            b.spec.category.is_empty(),
            &b.spec.category,
            b.spec.tier.map(|t| t.rank()),
            &b.spec.sku,
        ))
    });
    let mut groups: Vec<(String, Vec<CatalogItem>)> = Vec::new();
    for p in active {
        let group = if p.spec.category.is_empty() { f.catalog_other.to_string() } else { p.spec.category.clone() };
        let item = CatalogItem {
            id: p.id.0,
            name: p.name(zh).to_string(),
            sku: p.spec.sku.clone(),
            tier: p.spec.tier.map(|t| t.name(zh)).unwrap_or(""),
            price: format::money(&p.spec.list_price, locale),
        };
        match groups.last_mut() {
            Some((g, items)) if *g == group => items.push(item),
            _ => groups.push((group, vec![item])),
        }
    }
    groups
}

/// What changed from `before` to `q`, in the page's words, through the domain's comparison.
fn changes(before: &Quote, q: &Quote, f: &SellingForms, locale: Locale) -> QuoteChanges {
    let diff = compare(before, q);
    let zh = locale == Locale::ZhCn;
    let (colon, comma) = if zh { ("：", "，") } else { (": ", ", ") };
    let money = |c: Currency, minor: Option<i64>| {
        minor.map(|m| format::money(&Money { minor: m, currency: c }, locale)).unwrap_or_default()
    };
    let (cur_a, cur_b) = (before.content.currency, q.content.currency);
    let pct = |bp: Option<i64>| bp.map(|b| format!("{}%", bp_text(b))).unwrap_or_default();
    let name_of = |key: &str| {
        q.option(key).or_else(|| before.option(key)).map(|(o, _)| o.name.clone()).unwrap_or_else(|| key.to_string())
    };
    let mut items = Vec::new();
    for o in &diff.options {
        let name = name_of(&o.key);
        match o.change.as_str() {
            "added" => items.push((
                fill(f.change_option_added, &[("name", &name), ("total", &money(cur_b, o.total_to))]),
                Vec::new(),
            )),
            "removed" => items.push((
                fill(f.change_option_removed, &[("name", &name), ("total", &money(cur_a, o.total_from))]),
                Vec::new(),
            )),
            "changed" => {
                let mut parts = Vec::new();
                if o.total_from != o.total_to || cur_a != cur_b {
                    let (from, to) = (money(cur_a, o.total_from), money(cur_b, o.total_to));
                    parts.push(fill(f.change_total, &[("from", &from), ("to", &to)]));
                }
                if o.discount_bp_from != o.discount_bp_to {
                    let (from, to) = (pct(o.discount_bp_from), pct(o.discount_bp_to));
                    parts.push(fill(f.change_discount, &[("from", &from), ("to", &to)]));
                }
                let mut head = fill(f.change_option, &[("name", &name)]);
                if !parts.is_empty() {
                    head = format!("{head}{colon}{}", parts.join(comma));
                }
                let lines = o
                    .lines
                    .iter()
                    .map(|l| match l.change.as_str() {
                        "added" => fill(
                            f.change_line_added,
                            &[
                                ("name", &l.name),
                                ("quantity", &l.quantity_to.unwrap_or(0).to_string()),
                                ("price", &money(cur_b, l.unit_price_to)),
                            ],
                        ),
                        "removed" => fill(f.change_line_removed, &[("name", &l.name)]),
                        _ => {
                            let mut parts = Vec::new();
                            let mut step = |template: &str, from: String, to: String| {
                                if from != to {
                                    parts.push(fill(template, &[("from", &from), ("to", &to)]));
                                }
                            };
                            let n = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
                            step(f.change_quantity, n(l.quantity_from), n(l.quantity_to));
                            step(f.change_price, money(cur_a, l.unit_price_from), money(cur_b, l.unit_price_to));
                            step(f.change_discount, pct(l.discount_bp_from), pct(l.discount_bp_to));
                            step(f.change_tax, pct(l.tax_rate_bp_from), pct(l.tax_rate_bp_to));
                            format!("{}{colon}{}", fill(f.change_line, &[("name", &l.name)]), parts.join(comma))
                        }
                    })
                    .collect();
                items.push((head, lines));
            }
            _ => {}
        }
    }
    if !diff.terms_changed.is_empty() {
        let names: Vec<&str> = diff
            .terms_changed
            .iter()
            .map(|term| match term.as_str() {
                "currency" => f.term_currency,
                "recommended" => f.term_recommended,
                "payment_terms" => f.payment_terms,
                "after_sales_terms" => f.after_sales_terms,
                "valid_until" => f.valid_until,
                "notes" => f.notes,
                other => other,
            })
            .collect();
        let list = names.join(if zh { "、" } else { ", " });
        items.push((fill(f.change_terms, &[("terms", &list)]), Vec::new()));
    }
    if items.is_empty() {
        items.push((f.change_none.to_string(), Vec::new()));
    }
    let title = fill(f.changes_from, &[("number", &before.number.to_string())]);
    QuoteChanges { title, items }
}

pub(super) fn contract_status(s: ContractStatus, t: &'static DealTexts) -> &'static str {
    match s {
        ContractStatus::Draft => t.contract_draft,
        ContractStatus::Sent => t.contract_sent,
        ContractStatus::Signed => t.contract_signed,
        ContractStatus::Executing => t.contract_executing,
        ContractStatus::Completed => t.contract_completed,
        ContractStatus::Terminated => t.contract_terminated,
    }
}

#[cfg(test)]
mod tests {
    use salesflow_domain::currency::Currency;
    use salesflow_domain::selling::catalog::PriceBook;

    use super::default_price_book;

    fn book(name: &str, currency: &str, group: &str) -> PriceBook {
        PriceBook {
            name: name.into(),
            currency: Currency::parse(currency).unwrap(),
            customer_group: group.into(),
            prices: vec![],
            version: Some(1),
        }
    }

    #[test]
    fn the_account_group_picks_the_book_else_the_currency_book_for_everyone() {
        let books = [
            book("美元价目表", "USD", ""),
            book("经销商价 USD", "USD", "经销商"),
            book("经销商价", "CNY", "经销商"),
            book("教育价", "CNY", "education"),
        ];
        let cny = Some(Currency::CNY);
        let usd = Some(Currency::parse("USD").unwrap());
        assert_eq!(default_price_book(&books, "经销商", cny).as_deref(), Some("经销商价"), "group and currency");
        assert_eq!(default_price_book(&books, " 经销商 ", usd).as_deref(), Some("经销商价 USD"));
        assert_eq!(default_price_book(&books, "education", usd).as_deref(), Some("教育价"), "group before currency");
        assert_eq!(default_price_book(&books, "", usd).as_deref(), Some("美元价目表"), "no group: currency book");
        assert_eq!(default_price_book(&books, "医院", usd).as_deref(), Some("美元价目表"), "unknown group");
        assert_eq!(default_price_book(&books, "", cny), None, "list prices");
        assert_eq!(default_price_book(&books, "", None), None);
    }
}
