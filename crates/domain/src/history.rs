//! Past deals brought in from an event log: each case becomes a deal of a process version
//! whose events are the stages it entered, so its history counts in the analytics from day
//! one. Planning is pure: rows in, a [`HistoryBatch`] with preassigned ids out — or every
//! problem, each naming its row and field, and nothing to write.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::currency::Money;
use crate::ids::*;
use crate::process::{NodeKind, ProcessDefinition};
use crate::records::*;
use crate::store::{HistoryBatch, MaxIds, ProcessVersion};

/// One event of the log: the case it belongs to, the stage entered (node name or id) and when.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    /// The row (CSV line, or XES event number) for error reports.
    pub line: usize,
    pub case: String,
    pub activity: String,
    pub at: DateTime<Utc>,
    /// Who did it (user email or name); unknown names fall back to the deal's owner.
    pub resource: Option<String>,
}

/// What a case says about its deal (first non-empty value wins).
#[derive(Debug, Clone, Default)]
pub struct HistoryCase {
    pub title: Option<String>,
    pub account: Option<String>,
    /// User email or name.
    pub owner: Option<String>,
    pub amount: Option<Money>,
    pub channel: Option<Channel>,
    pub lost_reason: Option<String>,
    pub region: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RowError {
    /// The row (CSV line, or XES event number); 0 for the file as a whole.
    pub line: usize,
    pub field: String,
    pub message: String,
}

/// Who imports: the users owners and resources are matched against, the owner of cases that
/// name none, and whether the importer may give a deal to a user.
pub struct Importer<'a> {
    pub users: &'a [User],
    pub default_owner: UserId,
    pub may_own: &'a (dyn Fn(&User) -> bool + Sync),
    /// Accounts already kept, by the name a case gives (the importer may read them): deals of
    /// those cases join them instead of a new account of the same name.
    pub known_accounts: &'a BTreeMap<String, AccountId>,
}

/// Plans the deals, their accounts and events, with ids after `start`.
pub fn plan(
    version: &ProcessVersion,
    rows: Vec<HistoryRow>,
    cases: &BTreeMap<String, HistoryCase>,
    importer: &Importer<'_>,
    start: MaxIds,
    now: DateTime<Utc>,
) -> Result<HistoryBatch, Vec<RowError>> {
    let (users, owner, may_own) = (importer.users, importer.default_owner, importer.may_own);
    let def = &version.definition;
    let mut errors = Vec::new();
    let err = |line: usize, field: &str, message: String| RowError { line, field: field.into(), message };
    let user = |key: &str| {
        let key = key.trim();
        users.iter().find(|u| u.email.eq_ignore_ascii_case(key)).or_else(|| users.iter().find(|u| u.name == key))
    };
    let mut by_case: BTreeMap<&str, Vec<&HistoryRow>> = BTreeMap::new();
    for r in &rows {
        if r.case.trim().is_empty() {
            errors.push(err(r.line, "case", "is empty".into()));
        } else if node_of(def, &r.activity).is_none() {
            errors.push(err(r.line, "activity", format!("`{}` is no node of the process", r.activity)));
        } else {
            by_case.entry(r.case.as_str()).or_default().push(r);
        }
    }
    let mut batch = HistoryBatch::default();
    let (mut next_deal, mut next_event, mut next_account) = (start.deal, start.event, start.account);
    let mut accounts: BTreeMap<String, AccountId> = importer.known_accounts.clone();
    for (case, mut events) in by_case {
        events.sort_by_key(|r| r.at);
        let info = cases.get(case).cloned().unwrap_or_default();
        let first = events[0];
        let deal_owner = match info.owner.as_deref().filter(|o| !o.trim().is_empty()) {
            Some(name) => match user(name) {
                Some(u) if u.active && may_own(u) => u.id,
                Some(_) => {
                    errors.push(err(first.line, "owner", format!("`{name}` cannot be given deals by you")));
                    continue;
                }
                None => {
                    errors.push(err(first.line, "owner", format!("no user `{name}`")));
                    continue;
                }
            },
            None => owner,
        };
        let nodes: Vec<&crate::process::Node> = events.iter().filter_map(|r| node_of(def, &r.activity)).collect();
        if let Some(p) = nodes[..nodes.len() - 1].iter().position(|n| is_terminal(&n.kind)) {
            let after = events[p + 1];
            errors.push(err(
                after.line,
                "activity",
                format!("case `{case}` goes on after it closed at `{}`", nodes[p].name),
            ));
            continue;
        }
        let last = nodes[nodes.len() - 1];
        let status = match last.kind {
            NodeKind::Won => DealStatus::Won,
            NodeKind::Lost => DealStatus::Lost,
            _ => DealStatus::Open,
        };
        let account_name = info.account.clone().filter(|a| !a.trim().is_empty()).unwrap_or_else(|| case.to_string());
        let account_id = *accounts.entry(account_name.clone()).or_insert_with(|| {
            next_account += 1;
            batch.accounts.push(Account {
                id: AccountId(next_account),
                name: account_name.clone(),
                industry: String::new(),
                region: info.region.clone().unwrap_or_default(),
                website: String::new(),
                customer_group: String::new(),
                owner_id: deal_owner,
                version: 1,
                created_at: first.at,
                updated_at: first.at,
            });
            AccountId(next_account)
        });
        next_deal += 1;
        let deal_id = DealId(next_deal);
        let probability = |n: &crate::process::Node| match &n.kind {
            NodeKind::Stage(s) => s.probability,
            NodeKind::Won => 100,
            _ => 0,
        };
        let end = events[events.len() - 1];
        let mut from = String::new();
        for (seq, (r, node)) in events.iter().zip(&nodes).enumerate() {
            next_event += 1;
            let actor = r.resource.as_deref().and_then(user).map_or(deal_owner, |u| u.id);
            batch.events.push(DealEvent {
                id: next_event,
                deal_id,
                seq: seq as i64 + 1,
                kind: if seq == 0 { EventKind::Created } else { EventKind::Moved },
                process_id: version.process_id,
                process_version: version.version,
                from_node: std::mem::replace(&mut from, node.id.clone()),
                to_node: node.id.clone(),
                edge_id: None,
                actor_id: actor,
                occurred_at: r.at,
                recorded_at: now,
                amount_minor: info.amount.map(|m| m.minor),
                currency: info.amount.map(|m| m.currency),
                probability: probability(node),
                expected_close_date: None,
                details: serde_json::json!({ "imported": true, "line": r.line }),
            });
        }
        batch.deals.push(Deal {
            id: deal_id,
            title: info.title.clone().filter(|t| !t.trim().is_empty()).unwrap_or_else(|| case.to_string()),
            account_id,
            contact_ids: Vec::new(),
            owner_id: deal_owner,
            process_id: version.process_id,
            process_version: version.version,
            current_node: last.id.clone(),
            amount: info.amount,
            expected_close_date: None,
            probability: probability(last),
            probability_overridden: false,
            status,
            lost_reason: (status == DealStatus::Lost)
                .then(|| info.lost_reason.clone().filter(|r| !r.trim().is_empty()).unwrap_or_else(|| "—".into())),
            needs_summary: String::new(),
            needs_known: Vec::new(),
            channel: info.channel,
            lead_id: None,
            completed_steps: Vec::new(),
            version: 1,
            stage_entered_at: end.at,
            created_at: first.at,
            updated_at: end.at,
            closed_at: (status != DealStatus::Open).then_some(end.at),
        });
    }
    if rows.is_empty() {
        errors.push(err(0, "file", "holds no events".into()));
    }
    if errors.is_empty() {
        Ok(batch)
    } else {
        errors.sort_by_key(|e| e.line);
        Err(errors)
    }
}

fn is_terminal(kind: &NodeKind) -> bool {
    matches!(kind, NodeKind::Won | NodeKind::Lost)
}

/// A stage or terminal by id, or by name (case- and space-insensitive). Decisions are not
/// entered by deals.
fn node_of<'a>(def: &'a ProcessDefinition, activity: &str) -> Option<&'a crate::process::Node> {
    let a = activity.trim();
    let ok = |n: &&crate::process::Node| !matches!(n.kind, NodeKind::Decision);
    def.node(a)
        .filter(ok)
        .or_else(|| def.nodes.iter().filter(ok).find(|n| n.name.trim().to_lowercase() == a.to_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::VersionStatus;
    use chrono::TimeZone;

    fn anyone() -> Importer<'static> {
        static NONE: BTreeMap<String, AccountId> = BTreeMap::new();
        Importer { users: &[], default_owner: UserId(1), may_own: &|_| true, known_accounts: &NONE }
    }

    fn version() -> ProcessVersion {
        ProcessVersion {
            process_id: ProcessId(3),
            version: 2,
            status: VersionStatus::Published,
            definition: crate::templates::get("seed-five-stage.en").unwrap(),
            created_at: Utc::now(),
            published_at: None,
            retired_at: None,
        }
    }

    fn row(line: usize, case: &str, activity: &str, day: u32) -> HistoryRow {
        HistoryRow {
            line,
            case: case.into(),
            activity: activity.into(),
            at: Utc.with_ymd_and_hms(2024, 5, day, 8, 0, 0).unwrap(),
            resource: None,
        }
    }

    #[test]
    fn cases_become_deals_with_their_events() {
        let v = version();
        let stages = v.definition.stages_in_order();
        let (a, b) = (stages[0].name.clone(), stages[1].id.clone());
        let lost = v.definition.nodes.iter().find(|n| matches!(n.kind, NodeKind::Lost)).unwrap().name.clone();
        let rows = vec![row(2, "c1", &a, 1), row(3, "c1", &b, 3), row(4, "c2", &a, 2), row(5, "c2", &lost, 9)];
        let mut cases = BTreeMap::new();
        cases.insert("c2".to_string(), HistoryCase { lost_reason: Some("price".into()), ..Default::default() });
        let start = MaxIds { account: 10, contact: 0, lead: 0, deal: 20, event: 30 };
        let b = plan(&v, rows, &cases, &anyone(), start, Utc::now()).unwrap();
        assert_eq!((b.accounts.len(), b.deals.len(), b.events.len()), (2, 2, 4));
        assert_eq!(b.deals[0].id, DealId(21));
        assert_eq!((b.deals[0].status, b.deals[1].status), (DealStatus::Open, DealStatus::Lost));
        assert_eq!(b.deals[1].lost_reason.as_deref(), Some("price"));
        assert_eq!(b.events.iter().map(|e| e.id).collect::<Vec<_>>(), [31, 32, 33, 34]);
        assert_eq!(b.events[1].kind, EventKind::Moved);
    }

    #[test]
    fn cases_naming_a_known_account_join_it() {
        let v = version();
        let first = v.definition.stages_in_order()[0].name.clone();
        let rows = vec![row(2, "c1", &first, 1), row(3, "c2", &first, 2), row(4, "c3", &first, 3)];
        let mut cases = BTreeMap::new();
        for (case, account) in [("c1", "华东制造集团"), ("c2", "华东制造集团"), ("c3", "新客户")] {
            cases.insert(case.to_string(), HistoryCase { account: Some(account.into()), ..Default::default() });
        }
        let known = BTreeMap::from([("华东制造集团".to_string(), AccountId(7))]);
        let importer = Importer { known_accounts: &known, ..anyone() };
        let start = MaxIds { account: 10, contact: 0, lead: 0, deal: 20, event: 30 };
        let b = plan(&v, rows, &cases, &importer, start, Utc::now()).unwrap();
        assert_eq!(b.accounts.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["新客户"], "one new account");
        let joined: Vec<_> = b.deals.iter().map(|d| d.account_id).collect();
        assert_eq!(joined, [AccountId(7), AccountId(7), AccountId(11)]);
    }

    #[test]
    fn every_bad_row_is_named_and_nothing_is_planned() {
        let v = version();
        let won = v.definition.nodes.iter().find(|n| matches!(n.kind, NodeKind::Won)).unwrap().name.clone();
        let first = v.definition.stages_in_order()[0].name.clone();
        let rows =
            vec![row(2, "c1", "nowhere", 1), row(3, "", &first, 1), row(4, "c3", &won, 1), row(5, "c3", &first, 2)];
        let mut cases = BTreeMap::new();
        cases.insert("c4".to_string(), HistoryCase { owner: Some("ghost@example.com".into()), ..Default::default() });
        let rows = [rows, vec![row(6, "c4", &first, 1)]].concat();
        let errors = plan(&v, rows, &cases, &anyone(), MaxIds::default(), Utc::now()).unwrap_err();
        let got: Vec<_> = errors.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(got, [(2, "activity"), (3, "case"), (5, "activity"), (6, "owner")]);
    }
}
