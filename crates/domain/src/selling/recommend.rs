//! Recommendations (产品推荐): catalog products ranked against a deal's needs, each with the
//! reasons and the facts that back it ("言之有物，以事实和数据为支持").
//!
//! Score, highest first: requirement coverage (0–1 000, the share of the deal's requirements
//! the product's tags meet), plus 500 when the list price is within the budget, or minus the
//! overshoot in tenths of a percent (capped at 1 000) when it is not; among equals the higher
//! tier (more capability for the same fit), then the SKU.

use serde::Serialize;

use super::catalog::{Product, ProductFact, Tier, tag_key};
use super::needs::NeedsInput;
use crate::currency::Money;
use crate::ids::ProductId;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReasonKind {
    /// Meets requirements the customer named.
    Covers,
    /// Leaves requirements uncovered.
    Misses,
    WithinBudget,
    OverBudget,
    /// The budget is unknown or in another currency.
    BudgetUnknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Reason {
    pub kind: ReasonKind,
    /// The requirements concerned, for `covers` and `misses`.
    pub requirements: Vec<String>,
    /// The money concerned (headroom below, or overshoot above, the budget).
    pub amount: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Recommendation {
    pub product_id: ProductId,
    pub sku: String,
    pub name_zh: String,
    pub name_en: String,
    pub tier: Option<Tier>,
    pub list_price: Money,
    pub score: i64,
    pub reasons: Vec<Reason>,
    /// The numbers and cases the team keeps for this product.
    pub facts: Vec<ProductFact>,
}

/// Active products ranked against `needs`, best first.
/// The currency a deal is offered products in: its budget's, else its amount's.
pub fn deal_currency(needs: &NeedsInput, amount: Option<Money>) -> Option<crate::currency::Currency> {
    needs.budget.map(|b| b.currency).or(amount.map(|a| a.currency))
}

/// The products listed in `currency`, when it is known and the catalog has any; else all (a
/// deal in dollars is not offered yuan products, nor the other way round).
pub fn in_currency(products: Vec<Product>, currency: Option<crate::currency::Currency>) -> Vec<Product> {
    match currency {
        Some(c) if products.iter().any(|p| p.spec.list_price.currency == c) => {
            products.into_iter().filter(|p| p.spec.list_price.currency == c).collect()
        }
        _ => products,
    }
}

pub fn rank(needs: &NeedsInput, products: &[Product]) -> Vec<Recommendation> {
    // Matched by key (trimmed, any case); named in the customer's own words.
    let wanted: Vec<(String, String)> = needs
        .requirements
        .iter()
        .map(|r| (tag_key(r), r.trim().to_string()))
        .filter(|(key, _)| !key.is_empty())
        .collect();
    let mut out: Vec<Recommendation> = products.iter().filter(|p| p.active).map(|p| score(needs, &wanted, p)).collect();
    out.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then_with(|| b.tier.map(Tier::rank).cmp(&a.tier.map(Tier::rank)))
            .then_with(|| a.sku.cmp(&b.sku))
    });
    out
}

fn score(needs: &NeedsInput, wanted: &[(String, String)], p: &Product) -> Recommendation {
    let tags: Vec<String> = p.spec.tags.iter().map(|t| tag_key(t)).collect();
    let (covered, missed): (Vec<_>, Vec<_>) = wanted.iter().partition(|(key, _)| tags.contains(key));
    let mut score = if wanted.is_empty() { 0 } else { covered.len() as i64 * 1_000 / wanted.len() as i64 };
    let mut reasons = Vec::new();
    let list = |v: Vec<&(String, String)>| v.into_iter().map(|(_, words)| words.clone()).collect::<Vec<_>>();
    if !covered.is_empty() {
        reasons.push(Reason { kind: ReasonKind::Covers, requirements: list(covered), amount: None });
    }
    if !missed.is_empty() {
        reasons.push(Reason { kind: ReasonKind::Misses, requirements: list(missed), amount: None });
    }
    let price = p.spec.list_price;
    match needs.budget.filter(|b| b.currency == price.currency && b.minor > 0) {
        Some(budget) if price.minor <= budget.minor => {
            score += 500;
            let headroom = Money { minor: budget.minor - price.minor, currency: price.currency };
            reasons.push(Reason { kind: ReasonKind::WithinBudget, requirements: vec![], amount: Some(headroom) });
        }
        Some(budget) => {
            let over = price.minor - budget.minor;
            score -= (over as i128 * 1_000 / budget.minor as i128).min(1_000) as i64;
            let amount = Some(Money { minor: over, currency: price.currency });
            reasons.push(Reason { kind: ReasonKind::OverBudget, requirements: vec![], amount });
        }
        None => reasons.push(Reason { kind: ReasonKind::BudgetUnknown, requirements: vec![], amount: None }),
    }
    Recommendation {
        product_id: p.id,
        sku: p.spec.sku.clone(),
        name_zh: p.spec.name_zh.clone(),
        name_en: p.spec.name_en.clone(),
        tier: p.spec.tier,
        list_price: price,
        score,
        reasons,
        facts: p.spec.facts.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::currency::Currency;
    use crate::selling::catalog::NewProduct;

    #[test]
    fn a_deal_is_offered_products_in_its_currency_when_there_are_any() {
        let mut usd = product(9, Tier::Basic, 500_000, &["reports"]);
        usd.spec.list_price.currency = Currency::USD;
        let all = vec![product(1, Tier::Basic, 3_000_000, &[]), usd];
        let ids = |v: Vec<Product>| v.into_iter().map(|p| p.id.0).collect::<Vec<_>>();
        assert_eq!(ids(in_currency(all.clone(), Some(Currency::USD))), [9]);
        assert_eq!(ids(in_currency(all.clone(), Some(Currency::CNY))), [1]);
        assert_eq!(ids(in_currency(all.clone(), None)), [1, 9], "currency unknown: all");
        assert_eq!(ids(in_currency(all, Some(Currency::parse("EUR").unwrap()))), [1, 9], "none in that currency: all");
    }

    fn product(id: i64, tier: Tier, price: i64, tags: &[&str]) -> Product {
        let at = "2026-01-01T00:00:00Z".parse().unwrap();
        Product {
            id: ProductId(id),
            spec: NewProduct {
                sku: format!("CRM-{}", tier.name(false).to_uppercase()),
                name_zh: tier.name(true).into(),
                name_en: tier.name(false).into(),
                description_zh: String::new(),
                description_en: String::new(),
                unit: "套".into(),
                list_price: Money { minor: price, currency: Currency::CNY },
                tax_rate_bp: 600,
                category: "CRM".into(),
                tags: tags.iter().map(|t| t.to_string()).collect(),
                tier: Some(tier),
                bundle: vec![],
                facts: vec![ProductFact {
                    label: "上线周期".into(), value: "14 天".into(), source: String::new()
                }],
            },
            active: true,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn the_tier_that_covers_the_needs_within_budget_comes_first() {
        let catalog = [
            product(1, Tier::Basic, 3_000_000, &["客户管理"]),
            product(2, Tier::Standard, 8_000_000, &["客户管理", "报表", "API"]),
            product(3, Tier::Professional, 15_000_000, &["客户管理", "报表", "api", "单点登录"]),
        ];
        let needs = NeedsInput {
            requirements: vec!["客户管理".into(), "报表".into(), " Api ".into()],
            budget: Some(Money { minor: 10_000_000, currency: Currency::CNY }),
            ..Default::default()
        };
        let ranked = rank(&needs, &catalog);
        let order: Vec<_> = ranked.iter().map(|r| r.tier.unwrap()).collect();
        assert_eq!(order, [Tier::Standard, Tier::Basic, Tier::Professional]);
        assert_eq!(ranked[0].score, 1_500);
        assert_eq!(ranked[0].reasons[0].requirements, ["客户管理", "报表", "Api"], "in the customer's words");
        assert_eq!(ranked[0].reasons[1].amount.unwrap().minor, 2_000_000, "headroom");
        assert_eq!(ranked[1].score, 333 + 500, "one requirement of three, within budget");
        assert_eq!(ranked[2].reasons[1].kind, ReasonKind::OverBudget);
        assert_eq!(ranked[2].score, 1_000 - 500, "everything, but 50 % over budget");
        assert_eq!(ranked[0].facts[0].value, "14 天");
        // Without needs: no coverage, budget unknown; the higher tier first.
        let plain = rank(&NeedsInput::default(), &catalog);
        assert_eq!(plain[0].tier, Some(Tier::Professional));
        assert_eq!(plain[0].reasons[0].kind, ReasonKind::BudgetUnknown);
    }
}
