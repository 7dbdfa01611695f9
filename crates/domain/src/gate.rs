//! The exit-criteria check: what must be true before a deal leaves a stage. It always reports
//! every missing criterion, never just the first.

use serde::Serialize;

use crate::process::{ExitCriterion, Gate, Requirement, Stage};
use crate::records::Deal;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MissingCriterion {
    pub id: String,
    pub gate: Gate,
    pub requires: Requirement,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct GateReport {
    /// The stage being left.
    pub stage: String,
    pub missing: Vec<MissingCriterion>,
    /// True when only soft criteria are missing and no override reason was given.
    pub override_required: bool,
}

fn met(c: &ExitCriterion, deal: &Deal) -> bool {
    match &c.requires {
        Requirement::Field(f) => deal.has(*f),
        Requirement::Step(s) => deal.completed_steps.iter().any(|done| done == s),
        Requirement::Needs(p) => deal.needs_known.contains(p),
    }
}

/// Every exit criterion of `stage` that `deal` does not meet, in the order the stage lists them.
pub fn missing(stage: &Stage, deal: &Deal) -> Vec<MissingCriterion> {
    stage
        .exit_criteria
        .iter()
        .filter(|c| !met(c, deal))
        .map(|c| MissingCriterion {
            id: c.id.clone(),
            gate: c.gate,
            requires: c.requires.clone(),
            label: c.label.clone(),
        })
        .collect()
}
