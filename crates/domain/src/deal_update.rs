//! Changes to a deal other than stage moves — creation, field edits, ticking steps — decided
//! without I/O, each producing the events that record it.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::error::Error;
use crate::process::{NodeKind, ProcessDefinition};
use crate::records::{Deal, DealPatch, EventKind, NewDeal, NewEvent, StepToggle};
use crate::stage_move::{default_probability, occurred_at};

/// Where a new deal starts and the `created` event that records it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedCreate {
    pub entry: String,
    pub probability: u8,
    pub probability_overridden: bool,
    pub event: NewEvent,
}

pub fn plan_create(def: &ProcessDefinition, req: &NewDeal, now: DateTime<Utc>) -> Result<PlannedCreate, Error> {
    req.validate()?;
    let entry =
        def.entry().ok_or_else(|| Error::invalid("process_id", "the process version has no single entry stage"))?;
    let at = occurred_at(req.occurred_at, None, now)?;
    let (probability, overridden) = match req.probability {
        Some(p) => (p, true),
        None => (default_probability(def, &entry.id), false),
    };
    Ok(PlannedCreate {
        entry: entry.id.clone(),
        probability,
        probability_overridden: overridden,
        event: NewEvent {
            kind: EventKind::Created,
            from_node: entry.id.clone(),
            to_node: entry.id.clone(),
            edge_id: None,
            occurred_at: at,
            details: json!({ "title": req.title }),
        },
    })
}

fn check_version(deal: &Deal, version: i64) -> Result<(), Error> {
    if deal.version == version {
        Ok(())
    } else {
        Err(Error::Conflict(format!(
            "deal {} is at version {}, not {version}: someone changed it since you read it",
            deal.id, deal.version
        )))
    }
}

fn change(kind: EventKind, deal: &Deal, at: DateTime<Utc>, details: Value) -> NewEvent {
    NewEvent {
        kind,
        from_node: deal.current_node.clone(),
        to_node: deal.current_node.clone(),
        edge_id: None,
        occurred_at: at,
        details,
    }
}

/// The deal after `patch`, and one event per tracked change (amount, probability, close date,
/// owner; other fields together as `updated`). No change → no events.
pub fn plan_patch(
    def: &ProcessDefinition,
    deal: &Deal,
    last_event_at: Option<DateTime<Utc>>,
    patch: &DealPatch,
    now: DateTime<Utc>,
) -> Result<(Deal, Vec<NewEvent>), Error> {
    check_version(deal, patch.version)?;
    patch.validate()?;
    let at = occurred_at(patch.occurred_at, last_event_at, now)?;
    let mut next = deal.clone();
    let mut events = Vec::new();
    if let Some(amount) = patch.amount
        && amount != deal.amount
    {
        next.amount = amount;
        events.push(change(EventKind::AmountChanged, deal, at, json!({ "old": deal.amount, "new": amount })));
    }
    if let Some(p) = patch.probability {
        let (value, overridden) = match p {
            Some(v) => (v, true),
            None => (default_probability(def, &deal.current_node), false),
        };
        if value != deal.probability || overridden != deal.probability_overridden {
            next.probability = value;
            next.probability_overridden = overridden;
            events.push(change(
                EventKind::ProbabilityChanged,
                deal,
                at,
                json!({ "old": deal.probability, "new": value, "overridden": overridden }),
            ));
        }
    }
    if let Some(date) = patch.expected_close_date
        && date != deal.expected_close_date
    {
        next.expected_close_date = date;
        events.push(change(
            EventKind::CloseDateChanged,
            deal,
            at,
            json!({ "old": deal.expected_close_date, "new": date }),
        ));
    }
    if let Some(owner) = patch.owner_id
        && owner != deal.owner_id
    {
        next.owner_id = owner;
        events.push(change(EventKind::OwnerChanged, deal, at, json!({ "old": deal.owner_id, "new": owner })));
    }
    let mut other = serde_json::Map::new();
    if let Some(title) = &patch.title
        && title.trim() != deal.title
    {
        next.title = title.trim().to_string();
        other.insert("title".into(), json!({ "old": deal.title, "new": next.title }));
    }
    if let Some(needs) = &patch.needs_summary
        && *needs != deal.needs_summary
    {
        next.needs_summary = needs.clone();
        other.insert("needs_summary".into(), json!({ "old": deal.needs_summary, "new": needs }));
    }
    if let Some(contacts) = &patch.contact_ids {
        let c = crate::records::unique(contacts);
        if c != deal.contact_ids {
            next.contact_ids = c.clone();
            other.insert("contact_ids".into(), json!({ "old": deal.contact_ids, "new": c }));
        }
    }
    if !other.is_empty() {
        events.push(change(EventKind::Updated, deal, at, Value::Object(other)));
    }
    Ok((next, events))
}

/// Ticks or unticks a step of the deal's current stage.
pub fn plan_step(
    def: &ProcessDefinition,
    deal: &Deal,
    last_event_at: Option<DateTime<Utc>>,
    toggle: &StepToggle,
    now: DateTime<Utc>,
) -> Result<NewEvent, Error> {
    check_version(deal, toggle.version)?;
    let stage = match def.node(&deal.current_node).map(|n| &n.kind) {
        Some(NodeKind::Stage(s)) => s,
        _ => return Err(Error::invalid("step", format!("deal {} is not in a stage", deal.id))),
    };
    let Some(step) = stage.steps.iter().find(|s| s.id == toggle.step) else {
        return Err(Error::invalid(
            "step",
            format!(
                "stage `{}` has no step `{}`; its steps: {}",
                deal.current_node,
                toggle.step,
                stage.steps.iter().map(|s| s.id.as_str()).collect::<Vec<_>>().join(", ")
            ),
        ));
    };
    let done = deal.completed_steps.contains(&step.id);
    if done == toggle.done {
        return Err(Error::invalid(
            "done",
            format!("step `{}` is already {}", step.id, if done { "done" } else { "open" }),
        ));
    }
    let at = occurred_at(toggle.occurred_at, last_event_at, now)?;
    let kind = if toggle.done { EventKind::StepCompleted } else { EventKind::StepReopened };
    Ok(change(kind, deal, at, json!({ "step": step.id, "name": step.name })))
}
