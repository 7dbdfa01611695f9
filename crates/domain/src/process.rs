//! The flowchart as data: a process definition is a graph of stages, decisions and the two
//! terminals, joined by labelled edges. `validate` says precisely what is wrong with one.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::records::DealField;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessDefinition {
    /// Stable key of the process, e.g. `seed-five-stage-zh`.
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The language the labels are written in (`zh-CN`, `en`).
    #[serde(default = "default_locale")]
    pub locale: String,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    /// Where the flowchart editor put each node, by node id: the top-left corner of the node's
    /// box in pixels (y grows downwards), in the editor's canvas at zoom 1. Optional: drawings
    /// use these places only when every node has one and lay the process out automatically
    /// otherwise. A position for a node the process does not have, or a coordinate that is not
    /// a finite number within ±100000, is refused by `validate` (codes `position_unknown_node`,
    /// `position_out_of_range`, naming `positions.<node id>`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub positions: BTreeMap<String, Position>,
}

/// A node's place in the drawing: the top-left corner of its box, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Position {
    pub x: f64,
    pub y: f64,
}

/// The largest coordinate (either sign) a stored position may have.
pub const MAX_COORDINATE: f64 = 100_000.0;

fn default_locale() -> String {
    "zh-CN".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Node {
    pub id: String,
    pub name: String,
    #[serde(flatten)]
    pub kind: NodeKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NodeKind {
    Stage(Stage),
    /// A question such as "报价是否接受?"; its outgoing edge labels are the answers.
    Decision,
    Won,
    Lost,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    /// 目标: what this stage must achieve.
    #[serde(default)]
    pub goal: String,
    /// 操作步骤: the ordered checklist.
    #[serde(default)]
    pub steps: Vec<Step>,
    /// 工具: templates, documents, links.
    #[serde(default)]
    pub tools: Vec<Tool>,
    #[serde(default)]
    pub exit_criteria: Vec<ExitCriterion>,
    /// Default win probability in percent while a deal is in this stage.
    pub probability: u8,
    /// Expected duration in days (the stage SLA).
    pub sla_days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    pub name: String,
    /// A link to a document or system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// A reference to a template the team keeps (email, proposal, contract).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Gate {
    /// Blocks the move until met.
    Hard,
    /// Can be overridden with a written reason.
    Soft,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    /// A deal field must be filled in.
    Field(DealField),
    /// A step of this stage must be ticked.
    Step(String),
    /// A part of the deal's needs analysis must be known ("budget known before quoting").
    Needs(crate::selling::needs::NeedsPart),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
// `deny_unknown_fields` does not combine with `flatten` in serde.
pub struct ExitCriterion {
    pub id: String,
    #[serde(flatten)]
    pub requires: Requirement,
    pub gate: Gate,
    /// What the rep reads when the criterion is missing.
    #[serde(default)]
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Edge {
    pub id: String,
    pub from: String,
    pub to: String,
    pub label: String,
}

/// One way out of a stage: the edges walked (through any decisions) and where they end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Route {
    pub edges: Vec<String>,
    pub to: String,
    /// The label of the last edge: the answer that picks this route ("rejected", "lost").
    pub label: String,
}

/// A problem found by validation, naming the node or edge it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ProcessIssue {
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edge: Option<String>,
    pub message: String,
}

impl ProcessIssue {
    fn node(code: &'static str, node: &str, message: String) -> Self {
        Self { code, node: Some(node.to_string()), edge: None, message }
    }
    fn edge(code: &'static str, edge: &str, message: String) -> Self {
        Self { code, node: None, edge: Some(edge.to_string()), message }
    }
    fn process(code: &'static str, message: String) -> Self {
        Self { code, node: None, edge: None, message }
    }
}

const MAX_NAME: usize = 200;
const MAX_TEXT: usize = 4000;

impl ProcessDefinition {
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    pub fn stage(&self, id: &str) -> Option<&Stage> {
        match self.node(id).map(|n| &n.kind) {
            Some(NodeKind::Stage(s)) => Some(s),
            _ => None,
        }
    }

    /// The single node nothing leads into: where every deal starts.
    pub fn entry(&self) -> Option<&Node> {
        let targets: BTreeSet<&str> = self.edges.iter().map(|e| e.to.as_str()).collect();
        let mut entries = self.nodes.iter().filter(|n| !targets.contains(n.id.as_str()));
        let first = entries.next()?;
        entries.next().is_none().then_some(first)
    }

    /// Stages in the order a deal meets them on the main path (breadth-first from the entry),
    /// for boards and path displays.
    pub fn stages_in_order(&self) -> Vec<&Node> {
        let Some(entry) = self.entry() else { return Vec::new() };
        let mut seen = BTreeSet::new();
        let mut queue = VecDeque::from([entry.id.as_str()]);
        let mut out = Vec::new();
        while let Some(id) = queue.pop_front() {
            if !seen.insert(id) {
                continue;
            }
            if let Some(node) = self.node(id)
                && matches!(node.kind, NodeKind::Stage(_))
            {
                out.push(node);
            }
            for e in self.edges.iter().filter(|e| e.from == id) {
                queue.push_back(e.to.as_str());
            }
        }
        out
    }

    /// Every route out of `from`: one edge to a stage or terminal, or several through decisions.
    pub fn routes_from(&self, from: &str) -> Vec<Route> {
        let mut routes = Vec::new();
        let mut stack: Vec<(String, Vec<String>)> = vec![(from.to_string(), Vec::new())];
        while let Some((at, path)) = stack.pop() {
            for e in self.edges.iter().filter(|e| e.from == at) {
                if path.contains(&e.id) {
                    continue;
                }
                let mut edges = path.clone();
                edges.push(e.id.clone());
                match self.node(&e.to).map(|n| &n.kind) {
                    Some(NodeKind::Decision) => stack.push((e.to.clone(), edges)),
                    Some(_) => routes.push(Route { edges, to: e.to.clone(), label: e.label.clone() }),
                    None => {}
                }
            }
        }
        routes.sort_by(|a, b| a.edges.cmp(&b.edges));
        routes
    }

    /// All problems at once, each naming its node or edge. Empty means valid.
    pub fn validate(&self) -> Vec<ProcessIssue> {
        let mut issues = Vec::new();
        if self.key.trim().is_empty() {
            issues.push(ProcessIssue::process("key_missing", "the process needs a key".into()));
        }
        if self.name.trim().is_empty() {
            issues.push(ProcessIssue::process("name_missing", "the process needs a name".into()));
        }
        if self.nodes.is_empty() {
            issues.push(ProcessIssue::process("no_nodes", "the process has no nodes".into()));
            return issues;
        }
        self.check_nodes(&mut issues);
        self.check_edges(&mut issues);
        self.check_positions(&mut issues);
        if issues.iter().any(|i| i.code == "duplicate_node_id" || i.code == "edge_unknown_node") {
            // Graph checks would only repeat these in confusing ways.
            return issues;
        }
        self.check_graph(&mut issues);
        issues
    }

    fn check_nodes(&self, issues: &mut Vec<ProcessIssue>) {
        let mut ids = HashMap::new();
        for n in &self.nodes {
            if !valid_id(&n.id) {
                issues.push(ProcessIssue::node(
                    "bad_node_id",
                    &n.id,
                    format!("node id `{}` must be 1–64 letters, digits, `_` or `-`", n.id),
                ));
            }
            if ids.insert(n.id.as_str(), ()).is_some() {
                issues.push(ProcessIssue::node(
                    "duplicate_node_id",
                    &n.id,
                    format!("node id `{}` is used by more than one node", n.id),
                ));
            }
            check_name(issues, &n.id, "node_name", &n.name);
            if let NodeKind::Stage(stage) = &n.kind {
                check_stage(issues, &n.id, stage);
            }
        }
        for (kind, label) in [(NodeKind::Won, "Won"), (NodeKind::Lost, "Lost")] {
            if !self.nodes.iter().any(|n| n.kind == kind) {
                issues.push(ProcessIssue::process("terminal_missing", format!("the process has no {label} node")));
            }
        }
    }

    /// Whether every node has a stored position (and there is at least one node): only then do
    /// drawings follow the positions instead of laying the process out.
    pub fn fully_positioned(&self) -> bool {
        !self.nodes.is_empty() && self.nodes.iter().all(|n| self.positions.contains_key(&n.id))
    }

    fn check_positions(&self, issues: &mut Vec<ProcessIssue>) {
        for (id, p) in &self.positions {
            if self.node(id).is_none() {
                issues.push(ProcessIssue::node(
                    "position_unknown_node",
                    id,
                    format!("positions.{id}: there is no node `{id}` to place"),
                ));
            }
            for (axis, v) in [("x", p.x), ("y", p.y)] {
                if !v.is_finite() || v.abs() > MAX_COORDINATE {
                    issues.push(ProcessIssue::node(
                        "position_out_of_range",
                        id,
                        format!(
                            "positions.{id}.{axis}: {v} is not a number between −{MAX_COORDINATE} and {MAX_COORDINATE}"
                        ),
                    ));
                }
            }
        }
    }

    fn check_edges(&self, issues: &mut Vec<ProcessIssue>) {
        let mut ids = BTreeSet::new();
        let mut pairs: BTreeMap<(&str, &str), &str> = BTreeMap::new();
        for e in &self.edges {
            if !valid_id(&e.id) {
                issues.push(ProcessIssue::edge(
                    "bad_edge_id",
                    &e.id,
                    format!("edge id `{}` must be 1–64 letters, digits, `_` or `-`", e.id),
                ));
            }
            if !ids.insert(e.id.as_str()) {
                issues.push(ProcessIssue::edge(
                    "duplicate_edge_id",
                    &e.id,
                    format!("edge id `{}` is used by more than one edge", e.id),
                ));
            }
            if e.label.trim().is_empty() {
                issues.push(ProcessIssue::edge(
                    "edge_label_missing",
                    &e.id,
                    format!("edge `{}` ({} → {}) needs a label", e.id, e.from, e.to),
                ));
            } else if e.label.chars().count() > MAX_NAME {
                issues.push(ProcessIssue::edge(
                    "edge_label_too_long",
                    &e.id,
                    format!("edge `{}`: the label is longer than {MAX_NAME} characters", e.id),
                ));
            }
            for (end, id) in [("from", &e.from), ("to", &e.to)] {
                if self.node(id).is_none() {
                    issues.push(ProcessIssue::edge(
                        "edge_unknown_node",
                        &e.id,
                        format!("edge `{}`: its `{end}` node `{id}` does not exist", e.id),
                    ));
                }
            }
            if e.from == e.to {
                issues.push(ProcessIssue::edge(
                    "self_loop",
                    &e.id,
                    format!("edge `{}` leads from `{}` back to itself", e.id, e.from),
                ));
            }
            if let Some(other) = pairs.insert((e.from.as_str(), e.to.as_str()), e.id.as_str()) {
                issues.push(ProcessIssue::edge(
                    "parallel_edge",
                    &e.id,
                    format!("edges `{other}` and `{}` both lead from `{}` to `{}`", e.id, e.from, e.to),
                ));
            }
            if let Some(n) = self.node(&e.from)
                && matches!(n.kind, NodeKind::Won | NodeKind::Lost)
            {
                issues.push(ProcessIssue::edge(
                    "edge_leaves_terminal",
                    &e.id,
                    format!("edge `{}` leaves the terminal node `{}`; nothing may leave Won or Lost", e.id, e.from),
                ));
            }
        }
    }

    fn check_graph(&self, issues: &mut Vec<ProcessIssue>) {
        let targets: BTreeSet<&str> = self.edges.iter().map(|e| e.to.as_str()).collect();
        let entries: Vec<&Node> = self.nodes.iter().filter(|n| !targets.contains(n.id.as_str())).collect();
        match entries.as_slice() {
            [] => issues.push(ProcessIssue::process(
                "no_entry",
                "the process has no entry: every node has an incoming edge".into(),
            )),
            [one] if !matches!(one.kind, NodeKind::Stage(_)) => issues.push(ProcessIssue::node(
                "entry_not_stage",
                &one.id,
                format!("the entry node `{}` must be a stage", one.id),
            )),
            [_] => {}
            many => {
                for n in many {
                    issues.push(ProcessIssue::node(
                        "several_entries",
                        &n.id,
                        format!(
                            "node `{}` has no incoming edge; a process has exactly one entry ({})",
                            n.id,
                            many.iter().map(|n| format!("`{}`", n.id)).collect::<Vec<_>>().join(", ")
                        ),
                    ));
                }
            }
        }
        if let [entry] = entries.as_slice() {
            let reached = self.reach(&entry.id, |e| (&e.from, &e.to));
            for n in self.nodes.iter().filter(|n| !reached.contains(n.id.as_str())) {
                issues.push(ProcessIssue::node(
                    "unreachable",
                    &n.id,
                    format!("node `{}` cannot be reached from the entry `{}`", n.id, entry.id),
                ));
            }
        }
        for (kind, label) in [(NodeKind::Won, "Won"), (NodeKind::Lost, "Lost")] {
            let mut can_reach = BTreeSet::new();
            for t in self.nodes.iter().filter(|n| n.kind == kind) {
                can_reach.extend(self.reach(&t.id, |e| (&e.to, &e.from)));
            }
            for n in &self.nodes {
                let terminal = matches!(n.kind, NodeKind::Won | NodeKind::Lost);
                if !terminal && !can_reach.contains(n.id.as_str()) {
                    issues.push(ProcessIssue::node(
                        "cannot_finish",
                        &n.id,
                        format!("node `{}` has no path to a {label} node", n.id),
                    ));
                }
            }
        }
        for n in self.nodes.iter().filter(|n| n.kind == NodeKind::Decision) {
            let out = self.edges.iter().filter(|e| e.from == n.id).count();
            if out < 2 {
                issues.push(ProcessIssue::node(
                    "decision_needs_answers",
                    &n.id,
                    format!("decision `{}` needs at least two outgoing edges (its answers), has {out}", n.id),
                ));
            }
        }
    }

    /// Node ids reachable from `start`, walking edges in the direction `dir` gives.
    fn reach<'a>(&'a self, start: &'a str, dir: impl Fn(&'a Edge) -> (&'a String, &'a String)) -> BTreeSet<&'a str> {
        let mut seen = BTreeSet::from([start]);
        let mut queue = VecDeque::from([start]);
        while let Some(at) = queue.pop_front() {
            for e in &self.edges {
                let (a, b) = dir(e);
                if a == at && seen.insert(b.as_str()) {
                    queue.push_back(b.as_str());
                }
            }
        }
        seen
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn check_name(issues: &mut Vec<ProcessIssue>, node: &str, what: &'static str, name: &str) {
    if name.trim().is_empty() {
        issues.push(ProcessIssue::node("name_missing", node, format!("node `{node}`: {what} is empty")));
    } else if name.chars().count() > MAX_NAME {
        issues.push(ProcessIssue::node(
            "name_too_long",
            node,
            format!("node `{node}`: {what} is longer than {MAX_NAME} characters"),
        ));
    }
}

fn check_stage(issues: &mut Vec<ProcessIssue>, node: &str, stage: &Stage) {
    if stage.probability > 100 {
        issues.push(ProcessIssue::node(
            "probability_range",
            node,
            format!("stage `{node}`: probability {} is above 100", stage.probability),
        ));
    }
    if stage.goal.chars().count() > MAX_TEXT {
        issues.push(ProcessIssue::node(
            "goal_too_long",
            node,
            format!("stage `{node}`: the goal is longer than {MAX_TEXT} characters"),
        ));
    }
    let mut step_ids = BTreeSet::new();
    for s in &stage.steps {
        if !valid_id(&s.id) || !step_ids.insert(s.id.as_str()) {
            issues.push(ProcessIssue::node(
                "bad_step_id",
                node,
                format!("stage `{node}`: step id `{}` is malformed or used twice", s.id),
            ));
        }
        check_name(issues, node, "step name", &s.name);
    }
    for t in &stage.tools {
        check_name(issues, node, "tool name", &t.name);
    }
    let mut criterion_ids = BTreeSet::new();
    for c in &stage.exit_criteria {
        if !valid_id(&c.id) || !criterion_ids.insert(c.id.as_str()) {
            issues.push(ProcessIssue::node(
                "bad_criterion_id",
                node,
                format!("stage `{node}`: exit criterion id `{}` is malformed or used twice", c.id),
            ));
        }
        if let Requirement::Step(step) = &c.requires
            && !step_ids.contains(step.as_str())
        {
            issues.push(ProcessIssue::node(
                "criterion_unknown_step",
                node,
                format!(
                    "stage `{node}`: exit criterion `{}` requires step `{step}`, which the stage does not have",
                    c.id
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(id: &str) -> Node {
        Node {
            id: id.into(),
            name: id.to_uppercase(),
            kind: NodeKind::Stage(Stage {
                goal: String::new(),
                steps: vec![],
                tools: vec![],
                exit_criteria: vec![],
                probability: 10,
                sla_days: 7,
            }),
        }
    }

    fn node(id: &str, kind: NodeKind) -> Node {
        Node { id: id.into(), name: id.into(), kind }
    }

    fn edge(id: &str, from: &str, to: &str) -> Edge {
        Edge { id: id.into(), from: from.into(), to: to.into(), label: id.into() }
    }

    fn small() -> ProcessDefinition {
        ProcessDefinition {
            key: "t".into(),
            name: "t".into(),
            description: String::new(),
            locale: "en".into(),
            nodes: vec![
                stage("a"),
                stage("b"),
                stage("c"),
                node("q", NodeKind::Decision),
                node("won", NodeKind::Won),
                node("lost", NodeKind::Lost),
            ],
            edges: vec![
                edge("a-b", "a", "b"),
                edge("b-q", "b", "q"),
                edge("yes", "q", "won"),
                edge("no", "q", "c"),
                edge("c-b", "c", "b"),
                edge("a-lost", "a", "lost"),
                edge("b-lost", "b", "lost"),
                edge("c-lost", "c", "lost"),
            ],
            positions: BTreeMap::new(),
        }
    }

    fn codes(p: &ProcessDefinition) -> Vec<(&'static str, Option<String>, Option<String>)> {
        p.validate().into_iter().map(|i| (i.code, i.node, i.edge)).collect()
    }

    #[test]
    fn a_sound_process_has_no_issues() {
        assert_eq!(small().validate(), vec![]);
    }

    #[test]
    fn routes_pass_through_decisions() {
        let p = small();
        let to: Vec<_> = p.routes_from("b").into_iter().map(|r| (r.to, r.edges)).collect();
        assert_eq!(
            to,
            vec![
                ("lost".into(), vec!["b-lost".to_string()]),
                ("c".into(), vec!["b-q".into(), "no".into()]),
                ("won".into(), vec!["b-q".into(), "yes".into()]),
            ]
        );
    }

    #[test]
    fn names_the_edge_that_leaves_a_terminal() {
        let mut p = small();
        p.edges.push(edge("zombie", "won", "b"));
        assert!(codes(&p).contains(&("edge_leaves_terminal", None, Some("zombie".into()))));
    }

    #[test]
    fn finds_unreachable_nodes_and_dead_ends() {
        let mut p = small();
        p.nodes.push(stage("island"));
        p.edges.push(edge("island-lost", "island", "lost"));
        let c = codes(&p);
        // `island` has no incoming edge, so there are two entries now.
        assert!(c.contains(&("several_entries", Some("island".into()), None)), "{c:?}");

        let mut p = small();
        p.nodes.push(stage("sink"));
        p.edges.push(edge("a-sink", "a", "sink"));
        let c = codes(&p);
        assert!(c.contains(&("cannot_finish", Some("sink".into()), None)), "{c:?}");
    }

    #[test]
    fn duplicates_missing_labels_and_unknown_nodes() {
        let mut p = small();
        p.nodes.push(stage("a"));
        assert!(codes(&p).contains(&("duplicate_node_id", Some("a".into()), None)));

        let mut p = small();
        p.edges[0].label = " ".into();
        p.edges.push(edge("ghost", "b", "nowhere"));
        let c = codes(&p);
        assert!(c.contains(&("edge_label_missing", None, Some("a-b".into()))));
        assert!(c.contains(&("edge_unknown_node", None, Some("ghost".into()))));
    }

    #[test]
    fn no_entry_when_everything_has_an_incoming_edge() {
        let mut p = small();
        p.edges.push(edge("b-a", "b", "a"));
        assert!(codes(&p).iter().any(|(c, _, _)| *c == "no_entry"));
    }

    #[test]
    fn step_criteria_must_name_a_step() {
        let mut p = small();
        if let NodeKind::Stage(s) = &mut p.nodes[0].kind {
            s.exit_criteria.push(ExitCriterion {
                id: "c".into(),
                requires: Requirement::Step("nope".into()),
                gate: Gate::Hard,
                label: String::new(),
            });
        }
        assert!(codes(&p).contains(&("criterion_unknown_step", Some("a".into()), None)));
    }

    #[test]
    fn criteria_serialise_as_field_or_step() {
        let c: ExitCriterion =
            serde_json::from_str(r#"{"id":"x","field":"amount","gate":"hard","label":"Amount"}"#).unwrap();
        assert_eq!(c.requires, Requirement::Field(DealField::Amount));
        let c: ExitCriterion = serde_json::from_str(r#"{"id":"x","step":"call","gate":"soft"}"#).unwrap();
        assert_eq!(c.requires, Requirement::Step("call".into()));
    }

    #[test]
    fn positions_round_trip_and_old_definitions_still_parse() {
        let mut p = small();
        let old = serde_json::to_string(&p).unwrap();
        assert!(!old.contains("positions"), "no positions, no field: {old}");
        let back: ProcessDefinition = serde_json::from_str(&old).unwrap();
        assert_eq!(back, p);
        assert!(back.positions.is_empty() && !back.fully_positioned());

        p.positions.insert("a".into(), Position { x: 40.5, y: -12.0 });
        p.positions.insert("won".into(), Position { x: 900.0, y: 60.25 });
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["positions"]["a"], serde_json::json!({ "x": 40.5, "y": -12.0 }));
        let back: ProcessDefinition = serde_json::from_value(json).unwrap();
        assert_eq!(back, p);
        assert_eq!(back.validate(), vec![]);
        assert!(!back.fully_positioned(), "two of six nodes placed");
        for (i, n) in small().nodes.iter().enumerate() {
            p.positions.insert(n.id.clone(), Position { x: i as f64 * 200.0, y: 10.0 });
        }
        assert!(p.fully_positioned());

        // A shipped template file (written before positions existed) still parses.
        let t: ProcessDefinition = serde_json::from_str(include_str!("../templates/seed-five-stage.en.json")).unwrap();
        assert!(t.positions.is_empty());
        // Positions must be x and y only.
        let bad = r#"{"key":"k","name":"n","nodes":[],"edges":[],"positions":{"a":{"x":1,"y":2,"z":3}}}"#;
        assert!(serde_json::from_str::<ProcessDefinition>(bad).is_err());
    }

    #[test]
    fn bad_positions_are_named() {
        let mut p = small();
        p.positions.insert("ghost".into(), Position { x: 1.0, y: 1.0 });
        p.positions.insert("a".into(), Position { x: f64::NAN, y: 1.0 });
        p.positions.insert("b".into(), Position { x: 0.0, y: -(MAX_COORDINATE + 1.0) });
        p.positions.insert("c".into(), Position { x: f64::INFINITY, y: MAX_COORDINATE });
        let issues = p.validate();
        let c: Vec<_> = issues.iter().map(|i| (i.code, i.node.as_deref())).collect();
        assert_eq!(
            c,
            [
                ("position_out_of_range", Some("a")),
                ("position_out_of_range", Some("b")),
                ("position_out_of_range", Some("c")),
                ("position_unknown_node", Some("ghost")),
            ]
        );
        assert!(issues[0].message.starts_with("positions.a.x:"), "{}", issues[0].message);
        assert!(issues[1].message.starts_with("positions.b.y:"), "{}", issues[1].message);
        assert!(issues[3].message.starts_with("positions.ghost:"), "{}", issues[3].message);
    }
}
