//! A stage move, decided without I/O: the store loads the deal and its process version,
//! asks `plan_move`, and writes what it returns in one transaction.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde::Serialize;
use serde_json::json;

use crate::error::{Error, FieldError};
use crate::gate::{self, GateReport, MissingCriterion};
use crate::process::{NodeKind, ProcessDefinition, Route};
use crate::records::{Deal, DealStatus, EventKind, MoveRequest, NewEvent};

/// How far ahead of the server clock a client's business time may be.
const CLOCK_SKEW: i64 = 300;

/// Business time for a change: given or now, never before the deal's previous event, never in
/// the future.
pub fn occurred_at(
    requested: Option<DateTime<Utc>>,
    last_event_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, Error> {
    // Microseconds: the precision both databases keep.
    let at = requested.unwrap_or(now).trunc_subsecs(6);
    if at > now + Duration::seconds(CLOCK_SKEW) {
        return Err(Error::invalid("occurred_at", format!("{at} is in the future")));
    }
    if let Some(last) = last_event_at
        && at < last
    {
        return Err(Error::invalid(
            "occurred_at",
            format!("{at} is before the deal's previous event at {last}; events stay in order"),
        ));
    }
    Ok(at)
}

/// What a move changes on the deal, and the event that records it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedMove {
    pub to_node: String,
    pub status: DealStatus,
    pub probability: u8,
    pub lost_reason: Option<String>,
    pub event: NewEvent,
}

impl PlannedMove {
    /// The deal as it stands once this move is written: in the new node, with a fresh checklist
    /// and its probability back to the node's default.
    pub fn applied_to(&self, deal: Deal, now: DateTime<Utc>) -> Deal {
        let at = self.event.occurred_at;
        Deal {
            current_node: self.to_node.clone(),
            status: self.status,
            probability: self.probability,
            probability_overridden: false,
            lost_reason: self.lost_reason.clone(),
            completed_steps: Vec::new(),
            version: deal.version + 1,
            stage_entered_at: at,
            updated_at: now,
            closed_at: (self.status != DealStatus::Open).then_some(at),
            ..deal
        }
    }
}

/// Where a deal could go from its current node, and what each way out still needs.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MoveOption {
    pub to: String,
    pub to_name: String,
    pub route: Route,
    /// Exit criteria of the current stage not yet met (empty for moves to Lost).
    pub missing: Vec<MissingCriterion>,
    /// A hard criterion is missing: the move will be refused.
    pub blocked: bool,
    /// Only soft criteria are missing: the move needs an override reason.
    pub needs_override: bool,
    pub needs_lost_reason: bool,
}

fn is_lost(def: &ProcessDefinition, node: &str) -> bool {
    matches!(def.node(node).map(|n| &n.kind), Some(NodeKind::Lost))
}

fn gate_missing(def: &ProcessDefinition, deal: &Deal, to: &str) -> Vec<MissingCriterion> {
    if is_lost(def, to) {
        return Vec::new();
    }
    def.stage(&deal.current_node).map(|s| gate::missing(s, deal)).unwrap_or_default()
}

pub fn options(def: &ProcessDefinition, deal: &Deal) -> Vec<MoveOption> {
    if deal.status != DealStatus::Open {
        return Vec::new();
    }
    def.routes_from(&deal.current_node)
        .into_iter()
        .map(|route| {
            let missing = gate_missing(def, deal, &route.to);
            let blocked = missing.iter().any(|m| m.gate == crate::process::Gate::Hard);
            MoveOption {
                to: route.to.clone(),
                to_name: def.node(&route.to).map(|n| n.name.clone()).unwrap_or_default(),
                needs_override: !blocked && !missing.is_empty(),
                needs_lost_reason: is_lost(def, &route.to),
                blocked,
                missing,
                route,
            }
        })
        .collect()
}

/// The probability a deal carries at `node` by default.
pub fn default_probability(def: &ProcessDefinition, node: &str) -> u8 {
    match def.node(node).map(|n| &n.kind) {
        Some(NodeKind::Stage(s)) => s.probability,
        Some(NodeKind::Won) => 100,
        _ => 0,
    }
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_ref().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

pub fn plan_move(
    def: &ProcessDefinition,
    deal: &Deal,
    last_event_at: Option<DateTime<Utc>>,
    req: &MoveRequest,
    now: DateTime<Utc>,
) -> Result<PlannedMove, Error> {
    if req.version != deal.version {
        return Err(Error::Conflict(format!(
            "deal {} is at version {}, not {}: someone changed it since you read it",
            deal.id, deal.version, req.version
        )));
    }
    if deal.status != DealStatus::Open {
        return Err(Error::invalid("to", format!("deal {} is already {}", deal.id, deal.status.as_str())));
    }
    let routes = def.routes_from(&deal.current_node);
    let matching: Vec<&Route> = routes
        .iter()
        .filter(|r| r.to == req.to && req.edge.as_ref().is_none_or(|e| r.edges.last() == Some(e)))
        .collect();
    let route = match matching.as_slice() {
        [one] => *one,
        [] => {
            let allowed: Vec<String> =
                routes.iter().map(|r| format!("`{}` (via `{}`)", r.to, r.edges.join("→"))).collect();
            let field = if req.edge.is_some() { "edge" } else { "to" };
            return Err(Error::invalid(
                field,
                format!(
                    "no edge leads from `{}` to `{}`{}; allowed: {}",
                    deal.current_node,
                    req.to,
                    req.edge.as_ref().map(|e| format!(" via `{e}`")).unwrap_or_default(),
                    if allowed.is_empty() { "none".into() } else { allowed.join(", ") }
                ),
            ));
        }
        many => {
            return Err(Error::invalid(
                "edge",
                format!(
                    "several routes lead to `{}`; name the edge: {}",
                    req.to,
                    many.iter().filter_map(|r| r.edges.last()).cloned().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    };
    let lost = is_lost(def, &route.to);
    let lost_reason = non_empty(&req.lost_reason);
    let override_reason = non_empty(&req.override_reason);
    let mut problems = Vec::new();
    if lost && lost_reason.is_none() {
        problems.push(FieldError::new("lost_reason", "a deal moved to Lost needs a reason"));
    }
    if !lost && req.lost_reason.is_some() {
        problems.push(FieldError::new("lost_reason", "only a move to Lost takes a lost reason"));
    }
    let at = match occurred_at(req.occurred_at, last_event_at, now) {
        Ok(at) => Some(at),
        Err(Error::Invalid(errs)) => {
            problems.extend(errs);
            None
        }
        Err(e) => return Err(e),
    };
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    let missing = gate_missing(def, deal, &route.to);
    let hard = missing.iter().any(|m| m.gate == crate::process::Gate::Hard);
    if hard || (!missing.is_empty() && override_reason.is_none()) {
        return Err(Error::GateBlocked(GateReport {
            stage: deal.current_node.clone(),
            override_required: !hard,
            missing,
        }));
    }
    let status = match def.node(&route.to).map(|n| &n.kind) {
        Some(NodeKind::Won) => DealStatus::Won,
        Some(NodeKind::Lost) => DealStatus::Lost,
        _ => DealStatus::Open,
    };
    let mut details = json!({ "route": route.edges, "label": route.label });
    if !missing.is_empty() {
        details["overridden"] = json!(missing.iter().map(|m| &m.id).collect::<Vec<_>>());
        details["override_reason"] = json!(override_reason);
    }
    if let Some(reason) = &lost_reason {
        details["lost_reason"] = json!(reason);
    }
    if deal.probability_overridden {
        details["probability_override_cleared"] = json!(deal.probability);
    }
    Ok(PlannedMove {
        to_node: route.to.clone(),
        status,
        probability: default_probability(def, &route.to),
        lost_reason,
        event: NewEvent {
            kind: EventKind::Moved,
            from_node: deal.current_node.clone(),
            to_node: route.to.clone(),
            edge_id: route.edges.last().cloned(),
            occurred_at: at.expect("checked above"),
            details,
        },
    })
}
