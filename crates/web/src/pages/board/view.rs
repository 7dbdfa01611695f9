//! What the board shows, computed without I/O: columns in process order with their totals,
//! cards with days in stage, the SLA flag and where each deal may go.

use chrono::{DateTime, Utc};
use salesflow_domain::currency::Money;
use salesflow_domain::process::{NodeKind, ProcessDefinition};
use salesflow_domain::records::DealStatus;
use salesflow_domain::store::{DealSummary, DealTotals, ProcessVersion, StageTotals};

use crate::i18n::Locale;
use crate::i18n::board::{Board, fill};
use crate::pages::format::{days_between, money};

/// Cards per lazily loaded page of a column.
pub const PAGE_SIZE: u32 = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Stage,
    Won,
    Lost,
}

impl ColumnKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            ColumnKind::Stage => "stage",
            ColumnKind::Won => "won",
            ColumnKind::Lost => "lost",
        }
    }

    /// The status every deal in such a column has.
    pub fn status(&self) -> DealStatus {
        match self {
            ColumnKind::Stage => DealStatus::Open,
            ColumnKind::Won => DealStatus::Won,
            ColumnKind::Lost => DealStatus::Lost,
        }
    }

    fn of(kind: &NodeKind) -> Option<ColumnKind> {
        match kind {
            NodeKind::Stage(_) => Some(ColumnKind::Stage),
            NodeKind::Won => Some(ColumnKind::Won),
            NodeKind::Lost => Some(ColumnKind::Lost),
            NodeKind::Decision => None,
        }
    }
}

/// Count and sums of a column, as displayed and as machine-readable values
/// (`CNY:1250000 USD:300000`, minor units).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    pub count: u64,
    pub amount: String,
    pub amount_value: String,
    pub weighted: String,
    pub weighted_value: String,
}

impl Stats {
    pub fn of(totals: &DealTotals, locale: Locale) -> Stats {
        let shown = |sums: &[Money]| {
            if sums.is_empty() {
                "—".to_string()
            } else {
                sums.iter().map(|m| money(m, locale)).collect::<Vec<_>>().join(" + ")
            }
        };
        let value = |sums: &[Money]| {
            sums.iter().map(|m| format!("{}:{}", m.currency.code(), m.minor)).collect::<Vec<_>>().join(" ")
        };
        Stats {
            count: totals.count,
            amount: shown(&totals.amount),
            amount_value: value(&totals.amount),
            weighted: shown(&totals.weighted_amount),
            weighted_value: value(&totals.weighted_amount),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub node: String,
    pub name: String,
    pub kind: ColumnKind,
    /// The stage's default win probability and SLA (stages of the current version only).
    pub probability: Option<u8>,
    pub sla_days: Option<u32>,
    /// A node only older versions of the process have, where some deals still are.
    pub older: bool,
    pub stats: Stats,
}

/// The board's columns: the stages of `def` in process order, then the nodes of older versions
/// that still hold deals, then Won and Lost. `totals` are per node (from `stage_totals`);
/// `older` are the process's other versions, newest last, to name nodes `def` lacks.
pub fn columns(
    def: &ProcessDefinition,
    totals: &[StageTotals],
    older: &[ProcessVersion],
    locale: Locale,
) -> Vec<Column> {
    let stats = |node: &str| {
        let t = totals.iter().find(|t| t.node == node).map(|t| &t.totals);
        Stats::of(t.unwrap_or(&DealTotals::default()), locale)
    };
    let mut out: Vec<Column> = def
        .stages_in_order()
        .into_iter()
        .map(|n| {
            let stage = def.stage(&n.id);
            Column {
                node: n.id.clone(),
                name: n.name.clone(),
                kind: ColumnKind::Stage,
                probability: stage.map(|s| s.probability),
                sla_days: stage.map(|s| s.sla_days),
                older: false,
                stats: stats(&n.id),
            }
        })
        .collect();
    // Stages no path reaches in this version (never in a valid one) still get a column.
    for n in &def.nodes {
        if let NodeKind::Stage(s) = &n.kind
            && !out.iter().any(|c| c.node == n.id)
        {
            out.push(Column {
                node: n.id.clone(),
                name: n.name.clone(),
                kind: ColumnKind::Stage,
                probability: Some(s.probability),
                sla_days: Some(s.sla_days),
                older: false,
                stats: stats(&n.id),
            });
        }
    }
    let mut terminals: Vec<Column> = Vec::new();
    for kind in [ColumnKind::Won, ColumnKind::Lost] {
        for n in def.nodes.iter().filter(|n| ColumnKind::of(&n.kind) == Some(kind)) {
            terminals.push(Column {
                node: n.id.clone(),
                name: n.name.clone(),
                kind,
                probability: None,
                sla_days: None,
                older: false,
                stats: stats(&n.id),
            });
        }
    }
    for t in totals {
        if out.iter().chain(&terminals).any(|c| c.node == t.node) {
            continue;
        }
        let node = older.iter().rev().find_map(|v| v.definition.node(&t.node));
        let kind = node.and_then(|n| ColumnKind::of(&n.kind)).unwrap_or(ColumnKind::Stage);
        let column = Column {
            node: t.node.clone(),
            name: node.map(|n| n.name.clone()).unwrap_or_else(|| t.node.clone()),
            kind,
            probability: None,
            sla_days: None,
            older: true,
            stats: Stats::of(&t.totals, locale),
        };
        match kind {
            ColumnKind::Stage => out.push(column),
            _ => terminals.push(column),
        }
    }
    out.extend(terminals);
    out
}

/// The kind of a node of `def`, else of the newest older version that has it.
pub fn node_kind(def: &ProcessDefinition, older: &[ProcessVersion], node: &str) -> Option<ColumnKind> {
    def.node(node)
        .or_else(|| older.iter().rev().find_map(|v| v.definition.node(node)))
        .and_then(|n| ColumnKind::of(&n.kind))
}

/// A way out of a deal's current node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub node: String,
    pub name: String,
}

/// Where a deal in `from` may move, each target once, in board order: stages along the
/// process, then Won, then Lost.
pub fn targets(def: &ProcessDefinition, from: &str) -> Vec<Target> {
    let mut targets: Vec<Target> = Vec::new();
    for route in def.routes_from(from) {
        if !targets.iter().any(|t| t.node == route.to) {
            let name = def.node(&route.to).map(|n| n.name.clone()).unwrap_or_else(|| route.to.clone());
            targets.push(Target { node: route.to, name });
        }
    }
    let stages: Vec<&str> = def.stages_in_order().into_iter().map(|n| n.id.as_str()).collect();
    let rank = |node: &str| match def.node(node).map(|n| &n.kind) {
        Some(NodeKind::Won) => usize::MAX - 1,
        Some(NodeKind::Lost) => usize::MAX,
        _ => stages.iter().position(|s| *s == node).unwrap_or(usize::MAX - 2),
    };
    targets.sort_by_key(|t| rank(&t.node));
    targets
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    pub id: i64,
    pub version: i64,
    pub node: String,
    pub title: String,
    pub account: String,
    pub amount: Option<String>,
    pub owner: String,
    pub days: i64,
    pub days_text: String,
    pub overdue: bool,
    /// "超期 3 天" when past the stage's SLA.
    pub overdue_text: Option<String>,
    pub sla_text: Option<String>,
    /// Where the deal may move (each target once), empty for closed deals.
    pub targets: Vec<Target>,
    /// The target node ids, space-separated, for the drag-and-drop script.
    pub targets_attr: String,
}

/// A card for `deal`; `def` is the process version the deal is pinned to (if it could be read).
pub fn card(
    deal: &DealSummary,
    def: Option<&ProcessDefinition>,
    owner: &str,
    now: DateTime<Utc>,
    (t, locale): (&Board, Locale),
) -> Card {
    let days = days_between(deal.stage_entered_at, now);
    let sla = def.and_then(|d| d.stage(&deal.current_node)).map(|s| s.sla_days);
    let open = deal.status == DealStatus::Open;
    let overdue = open && sla.is_some_and(|sla| days > i64::from(sla));
    let targets = match def {
        Some(def) if open => targets(def, &deal.current_node),
        _ => Vec::new(),
    };
    Card {
        id: deal.id.0,
        version: deal.version,
        node: deal.current_node.clone(),
        title: deal.title.clone(),
        account: deal.account_name.clone(),
        amount: deal.amount.map(|m| money(&m, locale)),
        owner: owner.to_string(),
        days,
        days_text: fill(t.days_in_stage, &[("n", &days.to_string())]),
        overdue,
        overdue_text: sla
            .filter(|_| overdue)
            .map(|sla| fill(t.overdue_by, &[("n", &(days - i64::from(sla)).to_string())])),
        sla_text: sla.filter(|_| open).map(|n| fill(t.sla, &[("n", &n.to_string())])),
        targets_attr: targets.iter().map(|t| t.node.as_str()).collect::<Vec<_>>().join(" "),
        targets,
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use salesflow_domain::currency::Currency;
    use salesflow_domain::ids::{AccountId, DealId, ProcessId, UserId};
    use salesflow_domain::store::VersionStatus;

    use super::*;
    use crate::i18n::board::{EN, ZH_CN};

    fn seed() -> ProcessDefinition {
        salesflow_domain::templates::get("seed-five-stage.zh-CN").expect("the seed template")
    }

    fn summary(node: &str, status: DealStatus, entered: DateTime<Utc>) -> DealSummary {
        DealSummary {
            id: DealId(7),
            title: "年度采购".into(),
            account_id: AccountId(1),
            account_name: "华东机械".into(),
            owner_id: UserId(2),
            process_id: ProcessId(1),
            process_version: 1,
            current_node: node.into(),
            amount: Some(Money { minor: 1_250_000, currency: Currency::CNY }),
            expected_close_date: None,
            probability: 60,
            status,
            stage_entered_at: entered,
            version: 4,
        }
    }

    fn cny(minor: i64) -> Money {
        Money { minor, currency: Currency::CNY }
    }

    #[test]
    fn columns_follow_the_process_then_won_and_lost_with_their_totals() {
        let def = seed();
        let totals = vec![
            StageTotals {
                node: "negotiation".into(),
                totals: DealTotals { count: 2, amount: vec![cny(300_000)], weighted_amount: vec![cny(180_000)] },
            },
            StageTotals { node: "won".into(), totals: DealTotals { count: 1, ..Default::default() } },
        ];
        let cols = columns(&def, &totals, &[], Locale::ZhCn);
        let ids: Vec<&str> = cols.iter().map(|c| c.node.as_str()).collect();
        assert_eq!(
            ids,
            [
                "lead_identification",
                "needs_analysis",
                "recommendation",
                "negotiation",
                "signing",
                "tiered_package",
                "won",
                "lost"
            ]
        );
        let negotiation = &cols[3];
        assert_eq!((negotiation.sla_days, negotiation.probability), (Some(14), Some(60)));
        assert_eq!(
            negotiation.stats,
            Stats {
                count: 2,
                amount: "¥3,000.00".into(),
                amount_value: "CNY:300000".into(),
                weighted: "¥1,800.00".into(),
                weighted_value: "CNY:180000".into(),
            }
        );
        assert_eq!((cols[6].kind, cols[6].stats.count, cols[6].stats.amount.as_str()), (ColumnKind::Won, 1, "—"));
        assert_eq!((cols[7].kind, cols[7].stats.count), (ColumnKind::Lost, 0));
    }

    #[test]
    fn nodes_only_older_versions_have_get_their_own_columns() {
        let def = seed();
        let mut old = def.clone();
        old.nodes.iter_mut().find(|n| n.id == "needs_analysis").unwrap().id = "discovery".into();
        old.nodes.iter_mut().find(|n| n.id == "discovery").unwrap().name = "需求调研".into();
        let older = ProcessVersion {
            process_id: ProcessId(1),
            version: 1,
            status: VersionStatus::Published,
            definition: old,
            created_at: Utc::now(),
            published_at: None,
            retired_at: None,
        };
        let totals =
            vec![StageTotals { node: "discovery".into(), totals: DealTotals { count: 3, ..Default::default() } }];
        let cols = columns(&def, &totals, std::slice::from_ref(&older), Locale::En);
        let extra = cols.iter().find(|c| c.node == "discovery").expect("a column for the old stage");
        assert!(extra.older);
        assert_eq!((extra.name.as_str(), extra.kind, extra.stats.count), ("需求调研", ColumnKind::Stage, 3));
        assert_eq!(cols.last().map(|c| c.node.as_str()), Some("lost"), "terminals stay last");
        assert_eq!(node_kind(&def, &[older], "discovery"), Some(ColumnKind::Stage));
        assert_eq!(node_kind(&def, &[], "quote_decision"), None, "decisions are no column");
    }

    #[test]
    fn multi_currency_totals_show_each_sum() {
        let t = DealTotals {
            count: 3,
            amount: vec![cny(100), Money { minor: 250, currency: Currency::USD }],
            weighted_amount: vec![cny(50), Money { minor: 25, currency: Currency::USD }],
        };
        let s = Stats::of(&t, Locale::En);
        assert_eq!(s.amount, "CNY 1.00 + USD 2.50");
        assert_eq!(s.amount_value, "CNY:100 USD:250");
    }

    #[test]
    fn cards_count_days_in_stage_flag_the_sla_and_list_each_target_once() {
        let def = seed();
        let now = Utc::now();
        // Negotiation: SLA 14 days; three routes (signing, tiered package, lost).
        let on_time = card(
            &summary("negotiation", DealStatus::Open, now - Duration::days(14)),
            Some(&def),
            "王芳",
            now,
            (&ZH_CN, Locale::ZhCn),
        );
        assert_eq!((on_time.days, on_time.overdue), (14, false));
        assert_eq!(on_time.days_text, "停留 14 天");
        assert_eq!(on_time.amount.as_deref(), Some("¥12,500.00"));
        assert_eq!(on_time.targets_attr, "signing tiered_package lost");
        let late = card(
            &summary("negotiation", DealStatus::Open, now - Duration::days(15)),
            Some(&def),
            "王芳",
            now,
            (&EN, Locale::En),
        );
        assert!(late.overdue);
        assert_eq!(late.overdue_text.as_deref(), Some("1 d past SLA"));
        assert_eq!(on_time.overdue_text, None);
        assert_eq!(late.days_text, "15 d in stage");
        assert_eq!(late.amount.as_deref(), Some("CNY 12,500.00"));
        let won = card(
            &summary("won", DealStatus::Won, now - Duration::days(400)),
            Some(&def),
            "王芳",
            now,
            (&EN, Locale::En),
        );
        assert!(!won.overdue && won.targets.is_empty() && won.sla_text.is_none(), "closed deals neither age nor move");
        let unknown = card(
            &summary("negotiation", DealStatus::Open, now - Duration::days(99)),
            None,
            "?",
            now,
            (&EN, Locale::En),
        );
        assert!(!unknown.overdue && unknown.targets.is_empty(), "without its version nothing is claimed");
    }
}
