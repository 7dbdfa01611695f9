//! The selling tools of stages 2 to 5: the needs analysis (需求分析), the product catalog
//! with tiers, recommendations from needs (产品推荐), quotes with options, discounts and their
//! approval (报价与谈判), objections and the stage playbook (异议), and contracts with milestones (签约与合同执行). Pure rules; the store
//! keeps the records and the deal's event log records every step.

pub mod catalog;
pub mod contract;
pub mod needs;
pub mod objection;
pub mod pricing;
pub mod quote;
pub mod recommend;

/// A discount above this many basis points of gross needs a manager's approval, unless the
/// deployment sets another threshold.
pub const DEFAULT_APPROVAL_THRESHOLD_BP: i64 = 1_000;
