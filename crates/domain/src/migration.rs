//! Moving open deals from one process version to another. Deals stay on their version until
//! someone maps every stage of the old version to a stage of the new one; the preview says where
//! the deals land and whose exit criteria the new stage would not accept yet, and the plan gives
//! each deal its new node and the `migrated` event to append.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, FieldError, Result};
use crate::gate::{MissingCriterion, missing};
use crate::ids::DealId;
use crate::process::{NodeKind, ProcessDefinition};
use crate::records::{Deal, DealStatus, EventKind, NewEvent};
use crate::store::{ProcessVersion, VersionStatus};

/// Old stage id → new stage id.
pub type NodeMapping = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MigrationRequest {
    pub from_version: i32,
    pub to_version: i32,
    /// Every stage of `from_version` → a stage of `to_version`. A preview fills in the
    /// suggestions for stages left out; applying needs every stage named.
    #[serde(default)]
    pub mapping: NodeMapping,
}

/// How many deals a new stage receives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Landing {
    pub node: String,
    pub name: String,
    pub deals: usize,
}

/// A deal whose new stage lists exit criteria it does not meet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct GateFailure {
    pub deal_id: DealId,
    pub title: String,
    pub from_node: String,
    pub to_node: String,
    pub missing: Vec<MissingCriterion>,
    /// True when the deal met every criterion of its old stage.
    pub newly: bool,
}

/// What a migration does (preview) or did (apply).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MigrationSummary {
    pub from_version: i32,
    pub to_version: i32,
    /// The mapping used, suggestions included.
    pub mapping: NodeMapping,
    /// Open deals moved (or to be moved).
    pub deals: usize,
    /// Per stage of the new version, in process order; stages receiving no deal included.
    pub landing: Vec<Landing>,
    pub failing: Vec<GateFailure>,
    pub applied: bool,
}

/// One deal's move to the new version.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedMigration {
    pub deal: DealId,
    /// The deal's version as read; the write is refused if it changed.
    pub deal_version: i64,
    pub from_node: String,
    pub to_node: String,
    pub probability: u8,
    /// Ticked steps of the old stage that the new stage also has: they stay ticked.
    pub kept_steps: Vec<String>,
    pub event: NewEvent,
}

fn stage_ids(def: &ProcessDefinition) -> impl Iterator<Item = &str> {
    def.nodes.iter().filter(|n| matches!(n.kind, NodeKind::Stage(_))).map(|n| n.id.as_str())
}

fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// For each stage of `from`: the stage of `to` with the same id, else the one with the same name.
/// Stages with neither are left out.
pub fn suggest(from: &ProcessDefinition, to: &ProcessDefinition) -> NodeMapping {
    let targets: Vec<_> = to.nodes.iter().filter(|n| matches!(n.kind, NodeKind::Stage(_))).collect();
    from.nodes
        .iter()
        .filter(|n| matches!(n.kind, NodeKind::Stage(_)))
        .filter_map(|old| {
            let by_id = targets.iter().find(|t| t.id == old.id);
            let by_name = || targets.iter().find(|t| name_key(&t.name) == name_key(&old.name));
            by_id.or_else(by_name).map(|t| (old.id.clone(), t.id.clone()))
        })
        .collect()
}

/// Every problem with a mapping at once, each named `mapping.<old stage id>`.
pub fn check(from: &ProcessVersion, to: &ProcessVersion, mapping: &NodeMapping) -> Result<()> {
    let mut problems = Vec::new();
    if from.version == to.version {
        problems.push(FieldError::new("to_version", "is the version the deals are already on"));
    }
    if to.status != VersionStatus::Published {
        problems.push(FieldError::new(
            "to_version",
            format!("version {} is {}; deals can only move to a published version", to.version, to.status.as_str()),
        ));
    }
    let old: BTreeSet<&str> = stage_ids(&from.definition).collect();
    let new: BTreeSet<&str> = stage_ids(&to.definition).collect();
    for stage in &old {
        match mapping.get(*stage) {
            None => problems.push(FieldError::new(
                format!("mapping.{stage}"),
                format!("stage `{stage}` of version {} needs a stage of version {}", from.version, to.version),
            )),
            Some(target) if !new.contains(target.as_str()) => problems.push(FieldError::new(
                format!("mapping.{stage}"),
                format!("`{target}` is not a stage of version {}", to.version),
            )),
            Some(_) => {}
        }
    }
    for key in mapping.keys().filter(|k| !old.contains(k.as_str())) {
        problems.push(FieldError::new(format!("mapping.{key}"), format!("is not a stage of version {}", from.version)));
    }
    if problems.is_empty() { Ok(()) } else { Err(Error::Invalid(problems)) }
}

/// The mapping given, with suggestions for the stages it leaves out.
pub fn completed(from: &ProcessDefinition, to: &ProcessDefinition, given: &NodeMapping) -> NodeMapping {
    let mut mapping = suggest(from, to);
    mapping.extend(given.iter().map(|(k, v)| (k.clone(), v.clone())));
    mapping
}

/// Each open deal's move, checked against the mapping.
pub fn plan(
    from: &ProcessVersion,
    to: &ProcessVersion,
    mapping: &NodeMapping,
    deals: &[Deal],
    now: DateTime<Utc>,
) -> Result<(Vec<PlannedMigration>, MigrationSummary)> {
    check(from, to, mapping)?;
    let mut planned = Vec::with_capacity(deals.len());
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut failing = Vec::new();
    for deal in deals.iter().filter(|d| d.status == DealStatus::Open) {
        let target = mapping.get(&deal.current_node).ok_or_else(|| {
            Error::invalid(
                format!("mapping.{}", deal.current_node),
                format!(
                    "deal {} is in `{}`, which is not a stage of version {}",
                    deal.id, deal.current_node, from.version
                ),
            )
        })?;
        let stage = to.definition.stage(target).expect("checked: the target is a stage");
        let kept_steps: Vec<String> =
            deal.completed_steps.iter().filter(|s| stage.steps.iter().any(|st| &st.id == *s)).cloned().collect();
        let moved = Deal { completed_steps: kept_steps.clone(), ..deal.clone() };
        let missing_now = missing(stage, &moved);
        if !missing_now.is_empty() {
            let passed_before = from.definition.stage(&deal.current_node).is_none_or(|s| missing(s, deal).is_empty());
            failing.push(GateFailure {
                deal_id: deal.id,
                title: deal.title.clone(),
                from_node: deal.current_node.clone(),
                to_node: target.clone(),
                missing: missing_now.clone(),
                newly: passed_before,
            });
        }
        *counts.entry(target.as_str()).or_default() += 1;
        let probability = if deal.probability_overridden { deal.probability } else { stage.probability };
        planned.push(PlannedMigration {
            deal: deal.id,
            deal_version: deal.version,
            from_node: deal.current_node.clone(),
            to_node: target.clone(),
            probability,
            kept_steps,
            event: NewEvent {
                kind: EventKind::Migrated,
                from_node: deal.current_node.clone(),
                to_node: target.clone(),
                edge_id: None,
                occurred_at: now,
                details: serde_json::json!({
                    "from_version": from.version,
                    "to_version": to.version,
                    "missing": missing_now.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
                }),
            },
        });
    }
    let landing = to
        .definition
        .stages_in_order()
        .into_iter()
        .map(|n| Landing {
            node: n.id.clone(),
            name: n.name.clone(),
            deals: counts.get(n.id.as_str()).copied().unwrap_or(0),
        })
        .collect();
    let summary = MigrationSummary {
        from_version: from.version,
        to_version: to.version,
        mapping: mapping.clone(),
        deals: planned.len(),
        landing,
        failing,
        applied: false,
    };
    Ok((planned, summary))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::templates;

    fn version(number: i32, status: VersionStatus, definition: ProcessDefinition) -> ProcessVersion {
        ProcessVersion {
            process_id: crate::ids::ProcessId(1),
            version: number,
            status,
            definition,
            created_at: Utc::now(),
            published_at: None,
            retired_at: None,
        }
    }

    fn seed() -> ProcessDefinition {
        templates::all().into_iter().find(|t| t.key == "seed-five-stage.en").expect("seed template")
    }

    #[test]
    fn suggests_by_id_then_by_name() {
        let from = seed();
        let mut to = seed();
        let renamed = to.nodes.iter_mut().find(|n| n.id == "recommendation").unwrap();
        renamed.id = "proposal".into();
        let mapping = suggest(&from, &to);
        assert_eq!(mapping["needs_analysis"], "needs_analysis");
        assert_eq!(mapping["recommendation"], "proposal", "same name, new id");
        let mut other = seed();
        other.nodes.iter_mut().find(|n| n.id == "recommendation").unwrap().id = "x".into();
        other.nodes.iter_mut().find(|n| n.id == "x").unwrap().name = "Something else".into();
        assert!(!suggest(&from, &other).contains_key("recommendation"));
    }

    #[test]
    fn check_names_every_bad_entry() {
        let from = version(1, VersionStatus::Published, seed());
        let to = version(2, VersionStatus::Draft, seed());
        let mut mapping = suggest(&from.definition, &to.definition);
        mapping.remove("signing");
        mapping.insert("negotiation".into(), "won".into());
        mapping.insert("nowhere".into(), "signing".into());
        let Err(Error::Invalid(problems)) = check(&from, &to, &mapping) else { panic!("expected problems") };
        let fields: Vec<_> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["to_version", "mapping.negotiation", "mapping.signing", "mapping.nowhere"]);
    }
}
