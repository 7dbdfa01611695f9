//! The product catalog: products and services with their tier, tags and the facts a rep cites.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::currency::{Currency, Money};
use crate::error::Error;
use crate::ids::ProductId;
use crate::records::{NAME_MAX, Problems, TEXT_MAX};

/// A package level: 基础版 / 标准版 / 专业版.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Basic,
    Standard,
    Professional,
}

impl Tier {
    pub fn rank(self) -> u8 {
        match self {
            Tier::Basic => 1,
            Tier::Standard => 2,
            Tier::Professional => 3,
        }
    }

    pub fn name(self, zh: bool) -> &'static str {
        match (self, zh) {
            (Tier::Basic, true) => "基础版",
            (Tier::Standard, true) => "标准版",
            (Tier::Professional, true) => "专业版",
            (Tier::Basic, false) => "Basic",
            (Tier::Standard, false) => "Standard",
            (Tier::Professional, false) => "Professional",
        }
    }
}

/// A number or case the team keeps about a product ("言之有物"): what a recommendation cites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductFact {
    /// "Customers live within", "客户案例".
    pub label: String,
    /// "14 days", "华东某制造集团：库存周转提升 23%".
    pub value: String,
    /// Where the number comes from (a case study, a report).
    #[serde(default)]
    pub source: String,
}

/// A product inside a bundle, by SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BundleItem {
    pub sku: String,
    pub quantity: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    pub sku: String,
    pub name_zh: String,
    pub name_en: String,
    #[serde(default)]
    pub description_zh: String,
    #[serde(default)]
    pub description_en: String,
    /// 套, 年, user/year …
    #[serde(default)]
    pub unit: String,
    pub list_price: Money,
    /// Basis points: 1 300 is 13 % VAT.
    #[serde(default)]
    pub tax_rate_bp: i64,
    #[serde(default)]
    pub category: String,
    /// Features, matched against a deal's requirements.
    #[serde(default)]
    pub tags: Vec<String>,
    pub tier: Option<Tier>,
    /// For a bundle: the products it contains.
    #[serde(default)]
    pub bundle: Vec<BundleItem>,
    #[serde(default)]
    pub facts: Vec<ProductFact>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Product {
    pub id: ProductId,
    #[serde(flatten)]
    pub spec: NewProduct,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Product {
    pub fn name(&self, zh: bool) -> &str {
        if zh { &self.spec.name_zh } else { &self.spec.name_en }
    }
}

/// Lower-cased, trimmed: how tags and requirements compare.
pub fn tag_key(tag: &str) -> String {
    tag.trim().to_lowercase()
}

impl NewProduct {
    pub fn validate(&self) -> Result<(), Error> {
        let mut p = Problems::default();
        p.text("sku", &self.sku, true, 64);
        if self.sku.chars().any(char::is_whitespace) {
            p.push("sku", "cannot contain spaces");
        }
        p.text("name_zh", &self.name_zh, true, NAME_MAX);
        p.text("name_en", &self.name_en, true, NAME_MAX);
        p.text("description_zh", &self.description_zh, false, TEXT_MAX);
        p.text("description_en", &self.description_en, false, TEXT_MAX);
        p.text("unit", &self.unit, false, 32);
        p.text("category", &self.category, false, NAME_MAX);
        if let Err(Error::Invalid(errs)) = self.list_price.checked("list_price") {
            p.0.extend(errs);
        }
        if !(0..=crate::selling::pricing::BP).contains(&self.tax_rate_bp) {
            p.push("tax_rate_bp", "must be between 0 and 10000 basis points");
        }
        for (i, t) in self.tags.iter().enumerate() {
            p.text(&format!("tags[{i}]"), t, true, 64);
        }
        for (i, b) in self.bundle.iter().enumerate() {
            p.text(&format!("bundle[{i}].sku"), &b.sku, true, 64);
            if b.quantity < 1 {
                p.push(&format!("bundle[{i}].quantity"), "must be at least 1");
            }
        }
        for (i, f) in self.facts.iter().enumerate() {
            p.text(&format!("facts[{i}].label"), &f.label, true, NAME_MAX);
            p.text(&format!("facts[{i}].value"), &f.value, true, TEXT_MAX);
        }
        p.finish()
    }
}

/// Prices of a currency or customer group, by SKU; products without an entry keep their list price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceBook {
    pub name: String,
    pub currency: Currency,
    /// "经销商", "education" — empty for everyone.
    #[serde(default)]
    pub customer_group: String,
    pub prices: Vec<PriceBookEntry>,
    /// The version read when replacing a book; absent for a new one. Stored books carry theirs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceBookEntry {
    pub sku: String,
    pub unit_price_minor: i64,
}

impl PriceBook {
    /// Every problem at once: a name, SKUs once each, prices not negative.
    pub fn validate(&self) -> Result<(), Error> {
        let mut p = Problems::default();
        p.text("name", &self.name, true, NAME_MAX);
        p.text("customer_group", &self.customer_group, false, NAME_MAX);
        for (i, e) in self.prices.iter().enumerate() {
            p.text(&format!("prices[{i}].sku"), &e.sku, true, NAME_MAX);
            if e.unit_price_minor < 0 {
                p.push(&format!("prices[{i}].unit_price_minor"), "cannot be negative");
            }
            if self.prices[..i].iter().any(|o| o.sku == e.sku) {
                p.push(&format!("prices[{i}].sku"), format!("`{}` is priced twice", e.sku));
            }
        }
        p.finish()
    }

    /// The book's price of `product`; `None` when the book has none and the list price is in
    /// another currency (a price is never converted).
    pub fn price(&self, product: &NewProduct) -> Option<Money> {
        match self.prices.iter().find(|e| e.sku == product.sku) {
            Some(e) => Some(Money { minor: e.unit_price_minor, currency: self.currency }),
            None => (product.list_price.currency == self.currency).then_some(product.list_price),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn product(sku: &str, tier: Tier, price: i64, tags: &[&str]) -> NewProduct {
        NewProduct {
            sku: sku.into(),
            name_zh: tier.name(true).to_string(),
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
            facts: vec![],
        }
    }

    #[test]
    fn a_product_reports_every_bad_field() {
        let mut p = product("CRM STD", Tier::Standard, -1, &[""]);
        p.tax_rate_bp = 10_001;
        p.name_en = String::new();
        let Err(Error::Invalid(errs)) = p.validate() else { panic!("invalid") };
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["sku", "name_en", "list_price.minor", "tax_rate_bp", "tags[0]"]);
    }

    #[test]
    fn a_price_book_overrides_by_sku_and_never_converts() {
        let book = PriceBook {
            name: "经销商".into(),
            currency: Currency::CNY,
            customer_group: "dealer".into(),
            prices: vec![PriceBookEntry { sku: "A".into(), unit_price_minor: 90 }],
            version: None,
        };
        assert_eq!(book.price(&product("A", Tier::Basic, 100, &[])).unwrap().minor, 90);
        assert_eq!(book.price(&product("B", Tier::Basic, 100, &[])).unwrap().minor, 100);
        let mut usd = product("C", Tier::Basic, 100, &[]);
        usd.list_price.currency = Currency::USD;
        assert_eq!(book.price(&usd), None);
    }
}
