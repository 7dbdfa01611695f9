//! From salesflow's own records to the engine: deal events become an event log whose
//! activities are the stages a deal entered, and a process definition gives the SLAs and the
//! terminal nodes for the bottleneck ranking.

use salesflow_domain::process::{NodeKind, ProcessDefinition};
use salesflow_domain::records::{DealEvent, EventKind};

use std::collections::{BTreeMap, VecDeque};

use crate::{BottleneckConfig, ConformanceModel, EventLog, LogBuilder, OutcomeConfig};

/// One event per stage entered: the deal's creation (its entry node) and every move (the node
/// moved to). Field edits and checklist ticks are not stage events and are left out. Activities
/// are named by the node's name in `process` when it has that node, else by the node id.
pub fn log_from_deal_events(events: &[DealEvent], process: Option<&ProcessDefinition>) -> EventLog {
    let name = |node: &str| -> String {
        process.and_then(|p| p.node(node)).map_or_else(|| node.to_string(), |n| n.name.clone())
    };
    let mut b = LogBuilder::with_capacity(events.len());
    for e in events.iter().filter(|e| matches!(e.kind, EventKind::Created | EventKind::Moved)) {
        let actor = e.actor_id.to_string();
        b.push(e.deal_id.0, &name(&e.to_node), e.occurred_at, Some(actor.as_str()));
    }
    b.build()
}

impl BottleneckConfig {
    /// SLAs from each stage's `sla_days`, Lost nodes as lost activities, Won nodes as terminal,
    /// all named as [`log_from_deal_events`] names them.
    pub fn from_process(process: &ProcessDefinition) -> Self {
        let mut cfg = BottleneckConfig::default();
        for node in &process.nodes {
            match &node.kind {
                NodeKind::Stage(s) if s.sla_days > 0 => {
                    cfg.sla_seconds.push((node.name.clone(), f64::from(s.sla_days) * 86_400.0));
                }
                NodeKind::Lost => cfg.lost_activities.push(node.name.clone()),
                NodeKind::Won => cfg.terminal_activities.push(node.name.clone()),
                _ => {}
            }
        }
        cfg
    }
}

impl OutcomeConfig {
    /// Won and Lost nodes of `process` by name; the value and lost reason in the case
    /// attributes `amount` and `lost_reason`.
    pub fn from_process(process: &ProcessDefinition) -> Self {
        let names = |want: fn(&NodeKind) -> bool| {
            process.nodes.iter().filter(|n| want(&n.kind)).map(|n| n.name.clone()).collect::<Vec<_>>()
        };
        OutcomeConfig {
            won_activities: names(|k| matches!(k, NodeKind::Won)),
            lost_activities: names(|k| matches!(k, NodeKind::Lost)),
            value_attribute: Some("amount".into()),
            lost_reason_attribute: Some("lost_reason".into()),
        }
    }
}

impl ConformanceModel {
    /// The moves `process` allows (routes through decisions collapsed to one move), its entry,
    /// and its main path: the shortest run of stages from the entry to a Won node.
    pub fn from_process(process: &ProcessDefinition) -> Self {
        let name = |id: &str| process.node(id).map_or_else(|| id.to_string(), |n| n.name.clone());
        let mut allowed = Vec::new();
        let mut next: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for node in process.nodes.iter().filter(|n| !matches!(n.kind, NodeKind::Decision)) {
            for route in process.routes_from(&node.id) {
                allowed.push((node.name.clone(), name(&route.to)));
                next.entry(node.id.as_str()).or_default().push(route.to);
            }
        }
        let entry = process.entry().map(|n| n.id.clone());
        let mut main_path = Vec::new();
        if let Some(entry) = &entry {
            let mut parent: BTreeMap<String, String> = BTreeMap::new();
            let mut queue = VecDeque::from([entry.clone()]);
            let mut won = None;
            while let Some(at) = queue.pop_front() {
                if matches!(process.node(&at).map(|n| &n.kind), Some(NodeKind::Won)) {
                    won = Some(at);
                    break;
                }
                for to in next.get(at.as_str()).into_iter().flatten() {
                    if to != entry && !parent.contains_key(to) {
                        parent.insert(to.clone(), at.clone());
                        queue.push_back(to.clone());
                    }
                }
            }
            let mut at = won.and_then(|w| parent.get(&w).cloned());
            while let Some(id) = at {
                main_path.push(name(&id));
                at = parent.get(&id).cloned();
            }
            main_path.reverse();
        }
        ConformanceModel { starts: entry.iter().map(|e| name(e)).collect(), allowed, main_path }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use salesflow_domain::ids::{DealId, ProcessId, UserId};
    use salesflow_domain::templates;

    fn event(deal: i64, kind: EventKind, to: &str, day: u32) -> DealEvent {
        let at = Utc.with_ymd_and_hms(2025, 3, day, 9, 0, 0).unwrap();
        DealEvent {
            id: 0,
            deal_id: DealId(deal),
            seq: 0,
            kind,
            process_id: ProcessId(1),
            process_version: 1,
            from_node: String::new(),
            to_node: to.into(),
            edge_id: None,
            actor_id: UserId(7),
            occurred_at: at,
            recorded_at: at,
            amount_minor: None,
            currency: None,
            probability: 0,
            expected_close_date: None,
            details: serde_json::Value::Null,
        }
    }

    #[test]
    fn deal_events_become_stage_entries_named_by_the_process() {
        let process = templates::get("seed-five-stage.en").expect("template");
        let entry = process.entry().unwrap().id.clone();
        let second = process.stages_in_order()[1].id.clone();
        let lost = process.nodes.iter().find(|n| matches!(n.kind, NodeKind::Lost)).unwrap().id.clone();
        let events = [
            event(1, EventKind::Created, &entry, 1),
            event(1, EventKind::Updated, &entry, 2),
            event(1, EventKind::Moved, &second, 4),
            event(1, EventKind::Moved, &lost, 9),
        ];
        let log = log_from_deal_events(&events, Some(&process));
        assert_eq!((log.cases(), log.events()), (1, 3));
        let cfg = BottleneckConfig::from_process(&process);
        let b = crate::bottlenecks(&log, &cfg);
        let top = &b.ranking[0];
        assert_eq!(top.activity, process.node(&second).unwrap().name);
        assert_eq!((top.lost, top.drop_off), (1, 1.0));
        assert!(cfg.sla_seconds.len() >= 5 && !cfg.terminal_activities.is_empty());
    }

    #[test]
    fn the_seed_process_as_conformance_model() {
        let process = templates::get("seed-five-stage.en").expect("template");
        let model = ConformanceModel::from_process(&process);
        let stages: Vec<_> = process.stages_in_order().iter().map(|n| n.name.clone()).collect();
        assert_eq!(model.starts, [stages[0].clone()]);
        assert!(model.main_path.len() >= 4 && model.main_path[0] == stages[0]);
        assert!(model.allowed.contains(&(stages[0].clone(), stages[1].clone())));
        let cfg = OutcomeConfig::from_process(&process);
        assert!(!cfg.won_activities.is_empty() && !cfg.lost_activities.is_empty());
    }
}
