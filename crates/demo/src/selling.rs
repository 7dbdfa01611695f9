//! The selling showcase of the demo: a product catalog (a CRM suite in three tiers, services and
//! a bundle, each side of the demo in its own currency), dealer price books, the playbooks of
//! the quoting stages, and a plan for a handful of open deals of the seed processes — a needs
//! analysis, quotes built from the recommendations (drafts, sent, a discount approved, one
//! rejected, one accepted and turned into a contract) and the objections raised on the way.
//!
//! Pure, like the rest of the crate: the binary writes the plan through the guarded store, as
//! the deals' owners, so the events, the audit log and the access rules stay as they would be.

use chrono::{Days, NaiveDate};

use salesflow_domain::currency::{Currency, Money};
use salesflow_domain::ids::DealId;
use salesflow_domain::selling::catalog::{
    BundleItem, NewProduct, PriceBook, PriceBookEntry, Product, ProductFact, Tier,
};
use salesflow_domain::selling::contract::{MilestoneKind, NewContract, NewMilestone};
use salesflow_domain::selling::needs::{Authority, NeedsInput};
use salesflow_domain::selling::objection::{NewObjection, ObjectionKind, PlaybookEntry};
use salesflow_domain::selling::quote::{QuoteContent, product_line, product_option, unit_price};
use salesflow_domain::selling::recommend::rank;

use crate::Lang;

/// The currency of a side of the demo: the Chinese deals are in CNY, the English ones in USD.
pub fn currency(lang: Lang) -> Currency {
    match lang {
        Lang::Zh => Currency::CNY,
        Lang::En => Currency::USD,
    }
}

// ---------------------------------------------------------------------------------------------
// The catalog.

struct Spec {
    sku: &'static str,
    /// zh-CN, English.
    name: [&'static str; 2],
    description: [&'static str; 2],
    unit: &'static str,
    /// Major units of the side's currency.
    price: i64,
    tax_bp: i64,
    category: &'static str,
    tags: &'static [&'static str],
    tier: Option<Tier>,
    bundle: &'static [(&'static str, i64)],
    /// Label, value, source.
    facts: &'static [(&'static str, &'static str, &'static str)],
}

const TAGS_BASIC_ZH: &[&str] = &["客户管理", "销售漏斗", "移动端"];
const TAGS_STANDARD_ZH: &[&str] = &["客户管理", "销售漏斗", "移动端", "报表", "报价合同", "审批流"];
const TAGS_PRO_ZH: &[&str] =
    &["客户管理", "销售漏斗", "移动端", "报表", "报价合同", "审批流", "API", "单点登录", "数据权限", "私有化部署"];
const TAGS_BASIC_EN: &[&str] = &["customer management", "pipeline", "mobile"];
const TAGS_STANDARD_EN: &[&str] =
    &["customer management", "pipeline", "mobile", "reporting", "quotes and contracts", "approvals"];
const TAGS_PRO_EN: &[&str] = &[
    "customer management",
    "pipeline",
    "mobile",
    "reporting",
    "quotes and contracts",
    "approvals",
    "API",
    "SSO",
    "data permissions",
    "on-premises",
];

/// Software at 13 % VAT, services at 6 % (China); the USD side is invoiced without VAT.
const ZH: &[Spec] = &[
    Spec {
        sku: "SF-CRM-BAS-CN",
        name: ["星云 CRM 基础版", "Nebula CRM Basic"],
        description: [
            "10 个用户，客户与联系人管理、销售漏斗、移动端 App，一年订阅。",
            "10 users: customers and contacts, pipeline, mobile app; one-year subscription.",
        ],
        unit: "套/年",
        price: 36_000,
        tax_bp: 1_300,
        category: "CRM 软件",
        tags: TAGS_BASIC_ZH,
        tier: Some(Tier::Basic),
        bundle: &[],
        facts: &[
            ("上线周期", "7 天", "2025 年交付报告"),
            ("客户案例", "杭州某连锁门店：线索跟进率提升 31%", "客户案例集 2025"),
        ],
    },
    Spec {
        sku: "SF-CRM-STD-CN",
        name: ["星云 CRM 标准版", "Nebula CRM Standard"],
        description: [
            "30 个用户，基础版全部功能，加报表、报价与合同、审批流，一年订阅。",
            "30 users: everything in Basic plus reports, quotes and contracts, approvals; one-year subscription.",
        ],
        unit: "套/年",
        price: 68_000,
        tax_bp: 1_300,
        category: "CRM 软件",
        tags: TAGS_STANDARD_ZH,
        tier: Some(Tier::Standard),
        bundle: &[],
        facts: &[
            ("上线周期", "14 天", "2025 年交付报告"),
            ("客户案例", "苏州某精密制造企业：报价周期从 5 天缩短到 1 天", "客户案例集 2025"),
            ("续费率", "92%", "2025 年客户成功年报"),
        ],
    },
    Spec {
        sku: "SF-CRM-PRO-CN",
        name: ["星云 CRM 专业版", "Nebula CRM Professional"],
        description: [
            "100 个用户，标准版全部功能，加开放 API、单点登录、数据权限，可私有化部署，一年订阅。",
            "100 users: everything in Standard plus open API, single sign-on, data permissions, on-premises option; one-year subscription.",
        ],
        unit: "套/年",
        price: 128_000,
        tax_bp: 1_300,
        category: "CRM 软件",
        tags: TAGS_PRO_ZH,
        tier: Some(Tier::Professional),
        bundle: &[],
        facts: &[
            ("上线周期", "30 天", "2025 年交付报告"),
            ("客户案例", "上海某医疗器械集团：1,200 名用户单点登录，季度预测偏差降至 8%", "客户案例集 2025"),
            ("开放接口", "240 个 API，可用性 99.9%", "产品白皮书 v3.2"),
        ],
    },
    Spec {
        sku: "SF-SVC-IMPL-CN",
        name: ["实施服务", "Implementation"],
        description: [
            "需求调研、流程配置、历史数据迁移与上线验收，顾问驻场或远程。",
            "Requirements workshop, process set-up, data migration and go-live acceptance, on site or remote.",
        ],
        unit: "项",
        price: 30_000,
        tax_bp: 600,
        category: "服务",
        tags: &["实施", "数据迁移"],
        tier: None,
        bundle: &[],
        facts: &[("平均投入", "18 人天", "2025 年交付报告"), ("一次验收通过率", "96%", "2025 年交付报告")],
    },
    Spec {
        sku: "SF-SVC-TRAIN-CN",
        name: ["培训", "Training"],
        description: [
            "一天的现场培训，面向销售与管理者，最多 30 人，含课件与录像。",
            "One day on site for reps and managers, up to 30 people, slides and recording included.",
        ],
        unit: "场",
        price: 8_000,
        tax_bp: 600,
        category: "服务",
        tags: &["培训"],
        tier: None,
        bundle: &[],
        facts: &[("学员满意度", "4.8 / 5", "2025 年培训回访")],
    },
    Spec {
        sku: "SF-SVC-CARE-CN",
        name: ["年度支持", "Annual support"],
        description: [
            "专属客户成功经理，工作日 4 小时响应，季度业务复盘。",
            "A named customer success manager, 4-hour response on business days, quarterly reviews.",
        ],
        unit: "年",
        price: 15_000,
        tax_bp: 600,
        category: "服务",
        tags: &["售后支持"],
        tier: None,
        bundle: &[],
        facts: &[("首次响应", "工作日 4 小时内", "服务等级协议 2026")],
    },
    Spec {
        sku: "SF-PKG-STD-CN",
        name: ["标准版上线套餐", "Standard go-live bundle"],
        description: [
            "标准版一年订阅 + 实施服务 + 两场培训，比单买节省 16,000 元。",
            "Standard for one year, implementation and two training days; 16,000 yuan less than bought apart.",
        ],
        unit: "套",
        price: 98_000,
        tax_bp: 1_300,
        category: "套餐",
        tags: &["客户管理", "销售漏斗", "移动端", "报表", "报价合同", "审批流", "实施", "培训"],
        tier: None,
        bundle: &[("SF-CRM-STD-CN", 1), ("SF-SVC-IMPL-CN", 1), ("SF-SVC-TRAIN-CN", 2)],
        facts: &[("套餐客户上线周期", "平均 12 天", "2025 年交付报告")],
    },
];

const EN: &[Spec] = &[
    Spec {
        sku: "SF-CRM-BAS-US",
        name: ["星云 CRM 基础版（国际）", "Nebula CRM Basic"],
        description: [
            "10 个用户，客户与联系人管理、销售漏斗、移动端 App，一年订阅，美元计价。",
            "10 users: customers and contacts, pipeline, mobile app; one-year subscription.",
        ],
        unit: "subscription/year",
        price: 4_800,
        tax_bp: 0,
        category: "CRM software",
        tags: TAGS_BASIC_EN,
        tier: Some(Tier::Basic),
        bundle: &[],
        facts: &[
            ("Live within", "7 days", "Delivery report 2025"),
            ("Customer case", "A Melbourne retail chain: lead follow-up up 31%", "Customer stories 2025"),
        ],
    },
    Spec {
        sku: "SF-CRM-STD-US",
        name: ["星云 CRM 标准版（国际）", "Nebula CRM Standard"],
        description: [
            "30 个用户，基础版全部功能，加报表、报价与合同、审批流，一年订阅，美元计价。",
            "30 users: everything in Basic plus reports, quotes and contracts, approvals; one-year subscription.",
        ],
        unit: "subscription/year",
        price: 9_600,
        tax_bp: 0,
        category: "CRM software",
        tags: TAGS_STANDARD_EN,
        tier: Some(Tier::Standard),
        bundle: &[],
        facts: &[
            ("Live within", "14 days", "Delivery report 2025"),
            ("Customer case", "A Texas machine builder: quotes out in 1 day instead of 5", "Customer stories 2025"),
            ("Renewal rate", "92%", "Customer success report 2025"),
        ],
    },
    Spec {
        sku: "SF-CRM-PRO-US",
        name: ["星云 CRM 专业版（国际）", "Nebula CRM Professional"],
        description: [
            "100 个用户，标准版全部功能，加开放 API、单点登录、数据权限，可私有化部署，一年订阅，美元计价。",
            "100 users: everything in Standard plus open API, single sign-on, data permissions, on-premises option; one-year subscription.",
        ],
        unit: "subscription/year",
        price: 18_000,
        tax_bp: 0,
        category: "CRM software",
        tags: TAGS_PRO_EN,
        tier: Some(Tier::Professional),
        bundle: &[],
        facts: &[
            ("Live within", "30 days", "Delivery report 2025"),
            (
                "Customer case",
                "A medical devices group: 1,200 users on SSO, forecast error down to 8%",
                "Customer stories 2025",
            ),
            ("Open API", "240 endpoints, 99.9% availability", "Product white paper v3.2"),
        ],
    },
    Spec {
        sku: "SF-SVC-IMPL-US",
        name: ["实施服务（国际）", "Implementation"],
        description: [
            "需求调研、流程配置、历史数据迁移与上线验收，远程交付，美元计价。",
            "Requirements workshop, process set-up, data migration and go-live acceptance, delivered remotely.",
        ],
        unit: "project",
        price: 4_500,
        tax_bp: 0,
        category: "Services",
        tags: &["implementation", "data migration"],
        tier: None,
        bundle: &[],
        facts: &[
            ("Typical effort", "18 consultant days", "Delivery report 2025"),
            ("Accepted at first review", "96%", "Delivery report 2025"),
        ],
    },
    Spec {
        sku: "SF-SVC-TRAIN-US",
        name: ["培训（国际）", "Training"],
        description: [
            "一天的远程培训，面向销售与管理者，最多 30 人，美元计价。",
            "One live online day for reps and managers, up to 30 people, recording included.",
        ],
        unit: "session",
        price: 1_200,
        tax_bp: 0,
        category: "Services",
        tags: &["training"],
        tier: None,
        bundle: &[],
        facts: &[("Attendee rating", "4.8 / 5", "Training survey 2025")],
    },
    Spec {
        sku: "SF-SVC-CARE-US",
        name: ["年度支持（国际）", "Annual support"],
        description: [
            "专属客户成功经理，工作日 4 小时响应，季度业务复盘，美元计价。",
            "A named customer success manager, 4-hour response on business days, quarterly reviews.",
        ],
        unit: "year",
        price: 2_400,
        tax_bp: 0,
        category: "Services",
        tags: &["support"],
        tier: None,
        bundle: &[],
        facts: &[("First response", "within 4 business hours", "Service level agreement 2026")],
    },
    Spec {
        sku: "SF-PKG-STD-US",
        name: ["标准版上线套餐（国际）", "Standard go-live bundle"],
        description: [
            "标准版一年订阅 + 实施服务 + 两场培训，比单买节省 2,600 美元。",
            "Standard for one year, implementation and two training sessions; $2,600 less than bought apart.",
        ],
        unit: "bundle",
        price: 13_900,
        tax_bp: 0,
        category: "Bundles",
        tags: &[
            "customer management",
            "pipeline",
            "mobile",
            "reporting",
            "quotes and contracts",
            "approvals",
            "implementation",
            "training",
        ],
        tier: None,
        bundle: &[("SF-CRM-STD-US", 1), ("SF-SVC-IMPL-US", 1), ("SF-SVC-TRAIN-US", 2)],
        facts: &[("Bundle customers live within", "12 days on average", "Delivery report 2025")],
    },
];

fn product(spec: &Spec, currency: Currency) -> NewProduct {
    NewProduct {
        sku: spec.sku.into(),
        name_zh: spec.name[0].into(),
        name_en: spec.name[1].into(),
        description_zh: spec.description[0].into(),
        description_en: spec.description[1].into(),
        unit: spec.unit.into(),
        list_price: Money { minor: spec.price * 100, currency },
        tax_rate_bp: spec.tax_bp,
        category: spec.category.into(),
        tags: spec.tags.iter().map(|t| t.to_string()).collect(),
        tier: spec.tier,
        bundle: spec
            .bundle
            .iter()
            .map(|(sku, quantity)| BundleItem { sku: sku.to_string(), quantity: *quantity })
            .collect(),
        facts: spec
            .facts
            .iter()
            .map(|(label, value, source)| ProductFact {
                label: label.to_string(),
                value: value.to_string(),
                source: source.to_string(),
            })
            .collect(),
    }
}

/// The catalog: the Chinese side in CNY, then the English side in USD; names and descriptions
/// in both languages on every product, tags and facts in the side's language.
pub fn catalog() -> Vec<NewProduct> {
    let zh = ZH.iter().map(|s| product(s, Currency::CNY));
    zh.chain(EN.iter().map(|s| product(s, Currency::USD))).collect()
}

/// The dealer books: 经销商价 for the accounts in the group 经销商 (CNY) and `Dealer prices`
/// for the group `dealer` (USD), roughly 15 % below list.
pub fn price_books() -> Vec<PriceBook> {
    let book = |name: &str, group: &str, currency, prices: &[(&str, i64)]| PriceBook {
        name: name.into(),
        currency,
        customer_group: group.into(),
        prices: prices
            .iter()
            .map(|(sku, major)| PriceBookEntry { sku: sku.to_string(), unit_price_minor: major * 100 })
            .collect(),
        version: None,
    };
    vec![
        book(
            "经销商价",
            "经销商",
            Currency::CNY,
            &[
                ("SF-CRM-BAS-CN", 30_600),
                ("SF-CRM-STD-CN", 57_800),
                ("SF-CRM-PRO-CN", 108_800),
                ("SF-SVC-IMPL-CN", 27_000),
                ("SF-SVC-TRAIN-CN", 7_200),
                ("SF-SVC-CARE-CN", 13_500),
                ("SF-PKG-STD-CN", 84_000),
            ],
        ),
        book(
            "Dealer prices",
            "dealer",
            Currency::USD,
            &[
                ("SF-CRM-BAS-US", 4_080),
                ("SF-CRM-STD-US", 8_160),
                ("SF-CRM-PRO-US", 15_300),
                ("SF-SVC-IMPL-US", 4_050),
                ("SF-SVC-TRAIN-US", 1_080),
                ("SF-SVC-CARE-US", 2_160),
                ("SF-PKG-STD-US", 11_800),
            ],
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// Playbooks.

fn entry(kind: ObjectionKind, objection: &str, answer: &str, evidence: &str) -> PlaybookEntry {
    PlaybookEntry { kind, objection: objection.into(), answer: answer.into(), evidence: evidence.into() }
}

/// The playbooks of a seed process's quoting stages (`negotiation`, `tiered_package`), in the
/// process's language.
pub fn playbooks(lang: Lang) -> Vec<(&'static str, Vec<PlaybookEntry>)> {
    use ObjectionKind::{Competitor, Price, Timing};
    match lang {
        Lang::Zh => vec![
            (
                "negotiation",
                vec![
                    entry(
                        Price,
                        "价格太高，超出预算",
                        "先对齐三年总拥有成本：订阅含升级与运维，不用自建服务器；可按年付费，或先上标准版、用到再升级。",
                        "2025 年交付报告：标准版平均 14 天上线；客户案例集 2025：苏州某精密制造企业报价周期从 5 天缩短到 1 天",
                    ),
                    entry(
                        Competitor,
                        "别家报价更便宜",
                        "请客户列出必需的功能逐项对比：单点登录、开放 API、数据权限在专业版内含，不另收费；再比上线周期与续费率。",
                        "产品白皮书 v3.2：240 个 API，可用性 99.9%；2025 年客户成功年报：续费率 92%",
                    ),
                    entry(
                        Timing,
                        "现在不急，明年再说",
                        "问清推迟的真实原因；按上线周期倒推：想在旺季前用上，本月就要签约；可以先签合同、分期付款。",
                        "2025 年交付报告：标准版平均 14 天上线，专业版 30 天",
                    ),
                ],
            ),
            (
                "tiered_package",
                vec![entry(
                    Price,
                    "专业版超出今年预算",
                    "先上标准版覆盖核心需求，一年内升级专业版，已付订阅费全额抵扣差价。",
                    "2026 年价目表：升级政策；2025 年客户成功年报：四成标准版客户在第二年升级",
                )],
            ),
        ],
        Lang::En => vec![
            (
                "negotiation",
                vec![
                    entry(
                        Price,
                        "Too expensive, over budget",
                        "Compare the three-year cost: the subscription includes upgrades and hosting. Offer annual billing, or start with Standard and upgrade when needed.",
                        "Delivery report 2025: Standard live in 14 days on average; Customer stories 2025: a Texas machine builder quotes in 1 day instead of 5",
                    ),
                    entry(
                        Competitor,
                        "Another vendor is cheaper",
                        "Ask for the must-have features and compare them one by one: SSO, open API and data permissions come with Professional at no extra cost; then compare time to go live and renewal rates.",
                        "Product white paper v3.2: 240 API endpoints, 99.9% availability; Customer success report 2025: 92% renewal rate",
                    ),
                    entry(
                        Timing,
                        "Not now, maybe next year",
                        "Find the real reason for waiting; count back from the go-live date they need. Sign now with a payment schedule if cash is the issue.",
                        "Delivery report 2025: Standard live in 14 days, Professional in 30",
                    ),
                ],
            ),
            (
                "tiered_package",
                vec![entry(
                    Price,
                    "Professional is over this year's budget",
                    "Start on Standard for the core needs; upgrade to Professional within a year and the subscription paid counts in full.",
                    "Price list 2026: upgrade policy; Customer success report 2025: 4 in 10 Standard customers upgrade in year two",
                )],
            ),
        ],
    }
}

// ---------------------------------------------------------------------------------------------
// The deals.

/// An open deal of a seed process the showcase may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub deal: DealId,
    pub lang: Lang,
    /// The deal's current stage.
    pub stage: String,
}

/// A discount on the recommended option, asked for by the rep and approved by the manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discount {
    pub bp: i64,
    pub request: String,
    pub decision: String,
}

/// How far the quote goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Draft,
    Sent,
    /// Sent, then rejected by the customer for this reason (the lower tier waits as a draft).
    Rejected(String),
    /// Sent, accepted by the customer (the recommended option), then a signed contract.
    Accepted,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotePlan {
    pub discount: Option<Discount>,
    pub outcome: Outcome,
}

/// An objection raised; resolved afterwards when `resolved`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectionPlan {
    pub new: NewObjection,
    pub resolved: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DealPlan {
    pub deal: DealId,
    pub lang: Lang,
    pub needs: NeedsInput,
    pub quote: Option<QuotePlan>,
    pub objections: Vec<ObjectionPlan>,
}

/// What the customer needs, by the tier that fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fit {
    Basic,
    Standard,
    StandardB,
    Professional,
    ProfessionalB,
    /// Only pain points, requirements and intent known so far.
    Partial,
}

fn needs(fit: Fit, lang: Lang, today: NaiveDate) -> NeedsInput {
    let money = |major: i64| Some(Money { minor: major * 100, currency: currency(lang) });
    let days = |n: u64| today.checked_add_days(Days::new(n));
    let s = |items: &[&str]| items.iter().map(|i| i.to_string()).collect::<Vec<_>>();
    let zh = lang == Lang::Zh;
    let n =
        |pain: &[&str], req: &[&str], budget, who: &str, authority, timeline, intent, rivals: &[&str], notes: &str| {
            NeedsInput {
                version: None,
                pain_points: s(pain),
                requirements: s(req),
                budget,
                decision_maker: who.into(),
                authority,
                timeline,
                purchase_intent: intent,
                competitors: s(rivals),
                notes: notes.into(),
            }
        };
    match (fit, zh) {
        (Fit::Basic, true) => n(
            &["销售 8 人，客户资料还记在名片和个人微信里", "人员离职时客户跟着流失"],
            &["客户管理", "移动端"],
            money(40_000),
            "老板本人",
            Some(Authority::Decides),
            days(30),
            Some(5),
            &[],
            "希望下月初全员用起来",
        ),
        (Fit::Basic, false) => n(
            &["Eight reps keep their customers in notebooks and phones", "Accounts walk out with people who leave"],
            &["customer management", "mobile"],
            money(5_500),
            "The owner",
            Some(Authority::Decides),
            days(30),
            Some(5),
            &[],
            "Wants the whole team on it next month",
        ),
        (Fit::Standard, true) => n(
            &["线索散落在 Excel 和微信里，跟进全靠记忆", "月底销售报表要手工汇总两天"],
            &["客户管理", "报表", "移动端"],
            money(80_000),
            "周总（销售副总裁）",
            Some(Authority::Decides),
            days(45),
            Some(4),
            &["国内 SaaS 厂商 B"],
            "希望下季度前上线",
        ),
        (Fit::Standard, false) => n(
            &["Leads live in spreadsheets and inboxes", "Month-end reports take two days by hand"],
            &["customer management", "reporting", "mobile"],
            money(12_000),
            "Karen Lee, VP Sales",
            Some(Authority::Decides),
            days(45),
            Some(4),
            &["Vendor B (SaaS CRM)"],
            "Live before next quarter",
        ),
        (Fit::StandardB, true) => n(
            &["报价单格式五花八门，折扣没人审批", "管理层看不到各区域的漏斗"],
            &["报价合同", "审批流", "报表"],
            money(90_000),
            "孙经理（销售运营）",
            Some(Authority::Influences),
            days(60),
            Some(3),
            &["国际 CRM 厂商 A"],
            "财务总监最后签字",
        ),
        (Fit::StandardB, false) => n(
            &[
                "Every rep sends quotes in a different format; discounts go unchecked",
                "Management cannot see the regional pipelines",
            ],
            &["quotes and contracts", "approvals", "reporting"],
            money(13_000),
            "Tom Becker, Sales Operations",
            Some(Authority::Influences),
            days(60),
            Some(3),
            &["Vendor A (global CRM)"],
            "The CFO signs in the end",
        ),
        (Fit::Professional, true) => n(
            &["三个事业部各用各的系统，数据对不上", "IT 要求统一登录和数据权限"],
            &["客户管理", "API", "单点登录"],
            money(150_000),
            "陈总监（信息部）",
            Some(Authority::Influences),
            days(75),
            Some(3),
            &["国际 CRM 厂商 A", "自建系统"],
            "需通过信息安全评审",
        ),
        (Fit::Professional, false) => n(
            &[
                "Three business units on three systems; the numbers never match",
                "IT requires single sign-on and data permissions",
            ],
            &["customer management", "API", "SSO"],
            money(20_000),
            "Priya Nair, Head of IT",
            Some(Authority::Influences),
            days(75),
            Some(3),
            &["Vendor A (global CRM)", "In-house build"],
            "Needs a security review",
        ),
        (Fit::ProfessionalB, true) => n(
            &["ERP 与 CRM 之间靠人工导数", "总部要按区域控制谁能看哪些客户"],
            &["API", "数据权限", "报表"],
            money(140_000),
            "刘总（首席信息官）",
            Some(Authority::Decides),
            days(50),
            Some(4),
            &["自建系统"],
            "要求与现有 ERP 对接",
        ),
        (Fit::ProfessionalB, false) => n(
            &["Orders are keyed twice, into the ERP and the CRM", "Head office must control who sees which accounts"],
            &["API", "data permissions", "reporting"],
            money(19_500),
            "Mark Olsen, CIO",
            Some(Authority::Decides),
            days(50),
            Some(4),
            &["In-house build"],
            "Must connect to the existing ERP",
        ),
        (Fit::Partial, true) => n(
            &["新客户开发慢，不知道卡在哪一步"],
            &["销售漏斗", "报表"],
            None,
            "",
            Some(Authority::Unknown),
            None,
            Some(2),
            &[],
            "预算和决策人下次拜访再确认",
        ),
        (Fit::Partial, false) => n(
            &["New business is slow and nobody knows where deals stall"],
            &["pipeline", "reporting"],
            None,
            "",
            Some(Authority::Unknown),
            None,
            Some(2),
            &[],
            "Budget and decision maker to confirm at the next meeting",
        ),
    }
}

fn objection(kind: ObjectionKind, text: &str, answer: &str, resolved: bool) -> ObjectionPlan {
    ObjectionPlan { new: NewObjection { kind, text: text.into(), answer: answer.into(), resolved: false }, resolved }
}

/// The part a deal plays: its stage, how many such deals, and what each gets.
struct Part {
    /// The stages to take the deal from, the first with a deal left.
    stages: &'static [&'static str],
    fit: Fit,
    quote: Option<QuotePlan>,
    objections: fn(Lang) -> Vec<ObjectionPlan>,
}

fn none(_: Lang) -> Vec<ObjectionPlan> {
    Vec::new()
}

fn price_open(lang: Lang) -> Vec<ObjectionPlan> {
    vec![match lang {
        Lang::Zh => objection(ObjectionKind::Price, "报价比预算高出一截，希望再让一些", "", false),
        Lang::En => objection(ObjectionKind::Price, "The quote is above the budget; can you do better?", "", false),
    }]
}

fn competitor_answered(lang: Lang) -> Vec<ObjectionPlan> {
    vec![match lang {
        Lang::Zh => objection(
            ObjectionKind::Competitor,
            "另一家厂商的报价低 20%",
            "逐项对比了单点登录和开放 API：对方要另购模块，三年总价反而高",
            false,
        ),
        Lang::En => objection(
            ObjectionKind::Competitor,
            "Another vendor is 20% cheaper",
            "Compared SSO and API one by one: they sell both as add-ons, so three years cost more",
            false,
        ),
    }]
}

fn price_resolved(lang: Lang) -> Vec<ObjectionPlan> {
    vec![match lang {
        Lang::Zh => objection(
            ObjectionKind::Price,
            "专业版超出今年预算",
            "先上标准版，一年内升级专业版已付费用全额抵扣；客户同意",
            true,
        ),
        Lang::En => objection(
            ObjectionKind::Price,
            "Professional is over this year's budget",
            "Standard first, upgrade within a year with the subscription paid counting in full; the customer agreed",
            true,
        ),
    }]
}

fn terms_resolved_timing_answered(lang: Lang) -> Vec<ObjectionPlan> {
    let terms = match lang {
        Lang::Zh => objection(
            ObjectionKind::Price,
            "希望首付比例降到 30%",
            "首付维持 50%，尾款账期延长到验收后 30 天；客户接受",
            true,
        ),
        Lang::En => objection(
            ObjectionKind::Price,
            "Could the first installment be 30%?",
            "Kept 50% up front, gave 30 days after acceptance for the rest; the customer agreed",
            true,
        ),
    };
    let timing = match lang {
        Lang::Zh => objection(
            ObjectionKind::Timing,
            "法务审合同还要两周",
            "已提供标准合同条款说明，约好下周三与法务通电话",
            false,
        ),
        Lang::En => objection(
            ObjectionKind::Timing,
            "Legal needs two more weeks for the contract",
            "Sent our standard terms with notes; a call with their counsel is set for next Wednesday",
            false,
        ),
    };
    vec![terms, timing]
}

/// A draft may also be made in needs analysis; a quote sent in recommendation. Customers
/// answer only in stages the answer does not move the deal from.
const RECOMMENDATION: &[&str] = &["recommendation", "needs_analysis"];
const NEGOTIATION: &[&str] = &["negotiation", "recommendation"];

fn parts(lang: Lang) -> Vec<Part> {
    let sent = |discount| Some(QuotePlan { discount, outcome: Outcome::Sent });
    let discount = match lang {
        Lang::Zh => Discount {
            bp: 1_200,
            request: "三年合作意向，首年让利 12%".into(),
            decision: "同意，合同须写明三年续约".into(),
        },
        Lang::En => Discount {
            bp: 1_200,
            request: "Three-year intent; 12% off the first year".into(),
            decision: "Approved if the contract names the three-year renewal".into(),
        },
    };
    let reason = match lang {
        Lang::Zh => "专业版超出今年预算，先看看标准版",
        Lang::En => "Professional is over this year's budget; show us Standard",
    };
    vec![
        Part { stages: &["needs_analysis"], fit: Fit::Basic, quote: None, objections: none },
        Part { stages: &["needs_analysis"], fit: Fit::Partial, quote: None, objections: none },
        Part {
            stages: RECOMMENDATION,
            fit: Fit::Standard,
            quote: Some(QuotePlan { discount: None, outcome: Outcome::Draft }),
            objections: none,
        },
        Part {
            stages: RECOMMENDATION,
            fit: Fit::Professional,
            quote: Some(QuotePlan { discount: None, outcome: Outcome::Draft }),
            objections: none,
        },
        Part { stages: NEGOTIATION, fit: Fit::StandardB, quote: sent(None), objections: price_open },
        Part {
            stages: NEGOTIATION,
            fit: Fit::ProfessionalB,
            quote: sent(Some(discount)),
            objections: competitor_answered,
        },
        Part {
            stages: &["tiered_package"],
            fit: Fit::Professional,
            quote: Some(QuotePlan { discount: None, outcome: Outcome::Rejected(reason.into()) }),
            objections: price_resolved,
        },
        Part {
            stages: &["signing"],
            fit: Fit::Standard,
            quote: Some(QuotePlan { discount: None, outcome: Outcome::Accepted }),
            objections: terms_resolved_timing_answered,
        },
    ]
}

/// The showcase deals, per language: the lowest-id open deals of the seed process at each
/// stage — two in needs analysis (one only half known), two in recommendation (a draft each),
/// two in negotiation (sent; one after a 12 % discount approved), one in the tiered package
/// (its quote rejected, the lower tier drafted) and one in signing (accepted, a signed
/// contract). A part without a deal in its stages is left out.
pub fn plan(candidates: &[Candidate], today: NaiveDate) -> Vec<DealPlan> {
    let mut out = Vec::new();
    for lang in [Lang::Zh, Lang::En] {
        let mut used: Vec<DealId> = Vec::new();
        for part in parts(lang) {
            let next = part.stages.iter().find_map(|stage| {
                candidates
                    .iter()
                    .filter(|c| c.lang == lang && c.stage == *stage && !used.contains(&c.deal))
                    .map(|c| c.deal)
                    .min()
            });
            let Some(deal) = next else { continue };
            used.push(deal);
            out.push(DealPlan {
                deal,
                lang,
                needs: needs(part.fit, lang, today),
                quote: part.quote,
                objections: (part.objections)(lang),
            });
        }
    }
    out
}

/// The first quote of a deal: the best-ranked tier for its needs (in the side's currency) and
/// the tier below it (or above, for Basic), each with the implementation service; the best
/// one recommended, `discount_bp` off it. Priced from `book` when it is in the side's currency,
/// else at list price. `None` when the catalog lacks the products.
pub fn quote_content(
    needs: &NeedsInput,
    products: &[Product],
    book: Option<&PriceBook>,
    lang: Lang,
    discount_bp: i64,
    today: NaiveDate,
) -> Option<QuoteContent> {
    let currency = currency(lang);
    let book = book.filter(|b| b.currency == currency);
    let side: Vec<Product> = products.iter().filter(|p| p.spec.list_price.currency == currency).cloned().collect();
    let best = rank(needs, &side).into_iter().find(|r| r.tier.is_some())?;
    let tier_product = |tier: Tier| side.iter().find(|p| p.active && p.spec.tier == Some(tier));
    let top = side.iter().find(|p| p.id == best.product_id)?;
    let other = match top.spec.tier? {
        Tier::Basic => tier_product(Tier::Standard),
        Tier::Standard => tier_product(Tier::Basic),
        Tier::Professional => tier_product(Tier::Standard),
    };
    let implementation = side.iter().find(|p| p.spec.sku.starts_with("SF-SVC-IMPL"))?;
    let zh = lang == Lang::Zh;
    let mut tiers: Vec<&Product> = other.into_iter().chain([top]).collect();
    tiers.sort_by_key(|p| p.spec.tier.map(Tier::rank));
    let mut options = Vec::new();
    for p in tiers {
        let mut option = product_option(p, 1, unit_price(book, &p.spec)?, zh);
        option.lines.push(product_line(implementation, 1, unit_price(book, &implementation.spec)?, zh));
        if p.id == top.id {
            option.discount_bp = discount_bp;
        }
        options.push(option);
    }
    let (payment, after_sales, notes) = if zh {
        (
            "签约后 10 个工作日内支付 50%，上线验收后支付 50%",
            "一年免费远程支持，工作日 4 小时内响应",
            "报价含实施服务；培训可另购",
        )
    } else {
        (
            "50% within 10 business days of signing, 50% on go-live acceptance",
            "One year of remote support, response within 4 business hours",
            "Implementation included; training available separately",
        )
    };
    Some(QuoteContent {
        currency,
        options,
        recommended: Some(top.spec.sku.to_lowercase()),
        payment_terms: payment.into(),
        after_sales_terms: after_sales.into(),
        valid_until: today.checked_add_days(Days::new(30))?,
        language: if zh { "zh-CN" } else { "en" }.into(),
        notes: notes.into(),
    })
}

/// Our company, as it signs.
pub fn seller(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "上海星云软件有限公司",
        Lang::En => "Nebula Software Ltd.",
    }
}

/// The contract of an accepted quote version: a year from next week, half paid on signing,
/// go-live acceptance, the other half after it.
pub fn contract(lang: Lang, quote_number: i32, buyer: &str, total: Money, today: NaiveDate) -> NewContract {
    let day = |n: u64| today.checked_add_days(Days::new(n)).unwrap_or(today);
    let first = Money { minor: total.minor / 2, currency: total.currency };
    let second = Money { minor: total.minor - first.minor, currency: total.currency };
    let zh = lang == Lang::Zh;
    let m = |kind, zh_title: &str, en_title: &str, due, amount| NewMilestone {
        kind,
        title: if zh { zh_title } else { en_title }.into(),
        due_date: due,
        amount,
    };
    NewContract {
        quote_number,
        seller: seller(lang).into(),
        buyer: buyer.into(),
        start_date: Some(day(7)),
        end_date: Some(day(7 + 364)),
        milestones: vec![
            m(MilestoneKind::Payment, "首付款 50%", "First installment, 50%", day(10), Some(first)),
            m(MilestoneKind::Deliverable, "系统上线验收", "Go-live acceptance", day(35), None),
            m(MilestoneKind::Payment, "尾款 50%", "Final installment, 50%", day(45), Some(second)),
        ],
    }
}

/// The deal's needs summary in the history's own form ("痛点:…;需求:…;购买意向:…。"), written
/// from the needs analysis so that the two say the same on the deal page.
pub fn needs_summary(needs: &NeedsInput, lang: Lang) -> String {
    let intent = needs.purchase_intent.map(|i| format!("{i}/5")).unwrap_or_default();
    match lang {
        Lang::Zh => {
            format!("痛点:{};需求:{};购买意向:{intent}。", needs.pain_points.join("，"), needs.requirements.join("、"))
        }
        Lang::En => format!(
            "Pain points: {}; needs: {}; purchase intent: {intent}.",
            needs.pain_points.join("; "),
            needs.requirements.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use chrono::{TimeZone, Utc};
    use salesflow_domain::ids::ProductId;
    use salesflow_domain::selling::catalog::tag_key;
    use salesflow_domain::selling::objection::PlaybookInput;
    use salesflow_domain::selling::recommend::ReasonKind;

    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()
    }

    #[test]
    fn the_needs_summary_says_what_the_analysis_says() {
        let needs = NeedsInput {
            pain_points: vec!["报表靠手工".into()],
            requirements: vec!["报表".into(), "API".into()],
            purchase_intent: Some(4),
            ..Default::default()
        };
        assert_eq!(needs_summary(&needs, Lang::Zh), "痛点:报表靠手工;需求:报表、API;购买意向:4/5。");
        assert!(needs_summary(&needs, Lang::En).contains("needs: 报表, API; purchase intent: 4/5"));
    }

    fn stored() -> Vec<Product> {
        let at = Utc.with_ymd_and_hms(2026, 11, 27, 4, 0, 0).unwrap();
        catalog()
            .into_iter()
            .enumerate()
            .map(|(i, spec)| Product {
                id: ProductId(i as i64 + 1),
                spec,
                active: true,
                created_at: at,
                updated_at: at,
            })
            .collect()
    }

    fn candidates() -> Vec<Candidate> {
        let stages =
            ["lead_identification", "needs_analysis", "recommendation", "negotiation", "tiered_package", "signing"];
        let mut out = Vec::new();
        for (l, lang) in [Lang::Zh, Lang::En].into_iter().enumerate() {
            for (s, stage) in stages.iter().enumerate() {
                for k in 0..3 {
                    // Higher ids first, so the plan has to pick the lowest.
                    let id = 1_000 * (l as i64 + 1) + 100 * s as i64 + 10 - k;
                    out.push(Candidate { deal: DealId(id), lang, stage: stage.to_string() });
                }
            }
        }
        out
    }

    #[test]
    fn the_catalog_and_price_books_are_valid_in_both_languages() {
        let products = catalog();
        let skus: HashSet<&str> = products.iter().map(|p| p.sku.as_str()).collect();
        assert_eq!(skus.len(), products.len(), "SKUs are unique");
        for p in &products {
            p.validate().unwrap_or_else(|e| panic!("{}: {e}", p.sku));
            assert!(!p.name_zh.is_empty() && !p.name_en.is_empty() && !p.description_zh.is_empty());
            assert!(!p.description_en.is_empty() && !p.unit.is_empty() && !p.tags.is_empty(), "{}", p.sku);
            assert!(
                !p.facts.is_empty() && p.facts.iter().all(|f| !f.source.is_empty()),
                "{}: facts with sources",
                p.sku
            );
            assert!(p.sku.starts_with("SF-"), "clear of the browser tests' BR- products");
            for b in &p.bundle {
                let item = products.iter().find(|x| x.sku == b.sku).expect("bundled SKUs are in the catalog");
                assert_eq!(item.list_price.currency, p.list_price.currency);
            }
        }
        for (currency, software, services) in [(Currency::CNY, 1_300, 600), (Currency::USD, 0, 0)] {
            let side: Vec<_> = products.iter().filter(|p| p.list_price.currency == currency).collect();
            let tiers: Vec<_> = side.iter().filter_map(|p| p.tier).collect();
            assert_eq!(tiers, [Tier::Basic, Tier::Standard, Tier::Professional]);
            assert!(side.iter().filter(|p| p.tier.is_some()).all(|p| p.tax_rate_bp == software));
            assert!(side.iter().filter(|p| p.category.contains("服务") || p.category == "Services").count() == 3);
            assert!(side.iter().filter(|p| p.sku.contains("-SVC-")).all(|p| p.tax_rate_bp == services));
            assert_eq!(side.iter().filter(|p| !p.bundle.is_empty()).count(), 1);
        }
        let books = price_books();
        assert_eq!(books.iter().map(|b| b.customer_group.as_str()).collect::<Vec<_>>(), ["经销商", "dealer"]);
        for b in &books {
            b.validate().unwrap();
            for e in &b.prices {
                let p = products.iter().find(|p| p.sku == e.sku).expect("a book prices catalog SKUs");
                assert_eq!(p.list_price.currency, b.currency);
                assert!(e.unit_price_minor < p.list_price.minor, "{}: dealers pay less", e.sku);
            }
        }
        for lang in [Lang::Zh, Lang::En] {
            for (stage, entries) in playbooks(lang) {
                assert!(["negotiation", "tiered_package"].contains(&stage));
                PlaybookInput { version: None, entries }.validate().unwrap();
            }
        }
    }

    #[test]
    fn every_planned_need_ranks_a_tier_of_its_side_first() {
        let products = stored();
        let plans = plan(&candidates(), today());
        assert_eq!(plans.len(), 16, "eight deals per language");
        for p in &plans {
            p.needs.validate().unwrap();
            let currency = currency(p.lang);
            let side: Vec<Product> =
                products.iter().filter(|x| x.spec.list_price.currency == currency).cloned().collect();
            let tags: HashSet<String> = side.iter().flat_map(|x| x.spec.tags.iter().map(|t| tag_key(t))).collect();
            for r in &p.needs.requirements {
                assert!(tags.contains(&tag_key(r)), "{r}: a tag of the {currency} side");
            }
            let ranked = rank(&p.needs, &products);
            let first = &ranked[0];
            assert!(first.tier.is_some(), "deal {}: {} first", p.deal, first.sku);
            assert_eq!(first.list_price.currency, currency, "deal {}: its side's product first", p.deal);
            assert!(first.reasons.iter().all(|r| r.kind != ReasonKind::Misses), "deal {}: {first:?}", p.deal);
            if p.needs.budget.is_some() {
                assert!(first.reasons.iter().any(|r| r.kind == ReasonKind::WithinBudget), "deal {}", p.deal);
            }
            if p.quote.is_some() {
                let content = quote_content(&p.needs, &products, None, p.lang, 0, today()).expect("a quote");
                let totals = content.validate().unwrap();
                assert_eq!(content.currency, currency);
                assert_eq!(content.recommended.as_deref(), Some(first.sku.to_lowercase().as_str()));
                assert_eq!(content.recommended_index(), 1, "the best option last, a lower tier below");
                assert_eq!(content.options.len(), 2);
                assert!(content.options.iter().all(|o| o.lines.len() == 2), "each with implementation");
                assert!(totals[0].total < totals[1].total);
                assert_eq!(content.language, if p.lang == Lang::Zh { "zh-CN" } else { "en" });
            }
        }
        assert!(plans.iter().any(|p| p.lang == Lang::Zh) && plans.iter().any(|p| p.lang == Lang::En));
    }

    #[test]
    fn the_plan_takes_the_lowest_ids_and_never_answers_where_a_deal_would_move() {
        let cs = candidates();
        let plans = plan(&cs, today());
        let stage = |id: DealId| cs.iter().find(|c| c.deal == id).unwrap().stage.as_str();
        assert_eq!(plans[0].deal, DealId(1_108), "the lowest id in needs analysis");
        assert_eq!(plans[1].deal, DealId(1_109));
        for p in &plans {
            let Some(q) = &p.quote else { continue };
            match &q.outcome {
                Outcome::Rejected(_) => assert_eq!(stage(p.deal), "tiered_package"),
                Outcome::Accepted => assert_eq!(stage(p.deal), "signing"),
                Outcome::Sent => assert!(NEGOTIATION.contains(&stage(p.deal))),
                Outcome::Draft => assert!(RECOMMENDATION.contains(&stage(p.deal))),
            }
        }
        let resolved = plans.iter().flat_map(|p| &p.objections).filter(|o| o.resolved).count();
        let open = plans.iter().flat_map(|p| &p.objections).filter(|o| !o.resolved).count();
        assert!(resolved >= 2 && open >= 2, "{resolved} resolved, {open} open");
        // Without recommendation or negotiation deals, drafts come from needs analysis and
        // nothing is sent outside the allowed stages.
        let few: Vec<Candidate> =
            cs.iter().filter(|c| !["recommendation", "negotiation"].contains(&c.stage.as_str())).cloned().collect();
        let plans = plan(&few, today());
        let drafts = plans.iter().filter(|p| p.quote.as_ref().is_some_and(|q| q.outcome == Outcome::Draft)).count();
        let sent = plans.iter().filter(|p| p.quote.as_ref().is_some_and(|q| q.outcome == Outcome::Sent)).count();
        assert_eq!((drafts, sent), (2, 0), "one needs-analysis deal left per language for a draft");
        assert!(plan(&[], today()).is_empty());
    }

    #[test]
    fn dealer_prices_and_the_contract_add_up() {
        let products = stored();
        let books = price_books();
        let p = plan(&candidates(), today()).into_iter().find(|p| p.quote.is_some()).unwrap();
        let list = quote_content(&p.needs, &products, None, p.lang, 0, today()).unwrap().validate().unwrap();
        let dealer = quote_content(&p.needs, &products, Some(&books[0]), p.lang, 1_200, today()).unwrap();
        let dealer_totals = dealer.validate().unwrap();
        assert!(dealer_totals[1].total < list[1].total);
        assert_eq!(dealer.options[1].discount_bp, 1_200);
        // A book in the other currency is not used: list prices.
        let usd = quote_content(&p.needs, &products, Some(&books[1]), p.lang, 0, today()).unwrap();
        assert_eq!(usd.validate().unwrap(), list);
        let total = Money { minor: 7_684_001, currency: Currency::CNY };
        let c = contract(Lang::Zh, 1, "客户", total, today());
        let paid: i64 = c.milestones.iter().filter_map(|m| m.amount).map(|m| m.minor).sum();
        assert_eq!(paid, total.minor);
        assert!(c.start_date < c.end_date);
    }
}
