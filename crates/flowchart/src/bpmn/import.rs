//! BPMN 2.0 XML → ProcessDefinition, or every reason it cannot be one.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use salesflow_domain::process::{
    Edge, ExitCriterion, Gate, Node, NodeKind, ProcessDefinition, Requirement, Stage, Step, Tool,
};
use salesflow_domain::records::DealField;

use super::xml::{self, El};
use super::{BPMN_NS, BpmnProblem, FLOW_PREFIX, NODE_PREFIX, SF_NS, plain_id};

/// The largest document [`import`] reads: 2 MB.
pub const MAX_BYTES: usize = 2 * 1024 * 1024;

/// The SLA of a stage drawn in another tool (no salesflow extension), in days.
const DEFAULT_SLA_DAYS: u32 = 14;

const SUPPORTED: &str = "salesflow imports tasks (stages), exclusive gateways (decisions), one start event, \
                         end events (Won/Lost) and the sequence flows between them";

/// Reads a BPMN 2.0 document: one process made of tasks (`task`, `userTask`, `manualTask`:
/// stages), exclusive gateways (decisions), exactly one start event leading to the entry stage,
/// end events (Won or Lost) and sequence flows. Anything else inside the process is named as a
/// problem, never dropped. A document salesflow exported imports back exactly; one drawn
/// elsewhere gets stages with no steps or criteria, probabilities rising along the path and a
/// default SLA. The result has passed `ProcessDefinition::validate`.
pub fn import(xml: &str) -> Result<ProcessDefinition, Vec<BpmnProblem>> {
    if xml.len() > MAX_BYTES {
        return Err(vec![BpmnProblem::new(
            "document",
            format!("the document is {} bytes; at most {MAX_BYTES} bytes (2 MB) are accepted", xml.len()),
        )]);
    }
    let root =
        xml::parse(xml).map_err(|e| vec![BpmnProblem::new("document", format!("this is not well-formed XML: {e}"))])?;
    if !root.is(BPMN_NS, "definitions") {
        return Err(vec![BpmnProblem::new(
            root.local.clone(),
            format!("the root element must be <definitions> in the BPMN 2.0 namespace {BPMN_NS}"),
        )]);
    }
    let mut problems = Vec::new();
    for c in root.children(BPMN_NS, "collaboration") {
        for ch in &c.children {
            if !(ch.is(BPMN_NS, "participant") || is_meta(ch)) {
                problems.push(unsupported(ch, "in the collaboration"));
            }
        }
    }
    let processes: Vec<&El> = root.children(BPMN_NS, "process").collect();
    let process = match processes.as_slice() {
        [] => return Err(vec![BpmnProblem::new("definitions", "the document has no <bpmn:process>")]),
        [one] => *one,
        many => {
            for p in &many[1..] {
                problems.push(BpmnProblem::new(
                    p.label(),
                    format!("only one process (pool) can be imported; this document has {}", many.len()),
                ));
            }
            many[0]
        }
    };
    let mut reader = Reader::default();
    reader.read_process(process);
    problems.append(&mut reader.problems);
    let def = reader.build(process, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    let issues = def.validate();
    if issues.is_empty() {
        return Ok(def);
    }
    let node_xml: BTreeMap<&str, &str> =
        reader.nodes.iter().map(|n| (n.id.as_str(), n.xml_id.as_str())).rev().collect();
    let edge_xml: BTreeMap<&str, &str> =
        reader.flows.iter().filter_map(|f| Some((f.id.as_deref()?, f.xml_id.as_str()))).rev().collect();
    let process_id = process.label();
    Err(issues
        .into_iter()
        .map(|i| {
            let element = match (&i.node, &i.edge) {
                (Some(n), _) => node_xml.get(n.as_str()).map_or_else(|| n.clone(), |x| x.to_string()),
                (None, Some(e)) => edge_xml.get(e.as_str()).map_or_else(|| e.clone(), |x| x.to_string()),
                (None, None) => process_id.clone(),
            };
            BpmnProblem::new(element, i.message)
        })
        .collect())
}

/// Elements every BPMN element may carry.
fn is_meta(el: &El) -> bool {
    el.is(BPMN_NS, "documentation") || el.is(BPMN_NS, "extensionElements")
}

fn unsupported(el: &El, place: &str) -> BpmnProblem {
    let what = match el.local.as_str() {
        "laneSet" | "lane" => "lanes are not supported; remove them (the stages stay)".to_string(),
        "subProcess" | "adHocSubProcess" | "transaction" | "callActivity" => {
            format!("<{}> is not supported; draw its steps as tasks in the main process", el.local)
        }
        "parallelGateway" | "inclusiveGateway" | "eventBasedGateway" | "complexGateway" => format!(
            "<{}> is not supported: a deal is in one stage at a time, so only exclusive gateways (decisions) can be imported",
            el.local
        ),
        local if local.ends_with("Task") => {
            format!("<{local}> is not supported; use a plain task, user task or manual task for a stage")
        }
        local => format!("<{local}> is not supported; {SUPPORTED}"),
    };
    let id = el.id().map(|i| format!(" `{i}`")).unwrap_or_default();
    let ns = if el.ns.as_deref() == Some(BPMN_NS) { "" } else { " (not a BPMN element)" };
    BpmnProblem::new(el.label(), format!("{}{id}{ns} {place}: {what}", el.local))
}

#[derive(Debug)]
enum Kind {
    Stage(Option<Stage>),
    Decision,
    Won,
    Lost,
}

#[derive(Debug)]
struct ReadNode<'a> {
    xml_id: String,
    id: String,
    name: String,
    kind: Kind,
    el: &'a El,
}

#[derive(Debug)]
struct ReadFlow {
    xml_id: String,
    /// The domain id (None for the flow out of the start event).
    id: Option<String>,
    source: String,
    target: String,
    name: Option<String>,
    ours: bool,
}

#[derive(Default)]
struct Reader<'a> {
    problems: Vec<BpmnProblem>,
    nodes: Vec<ReadNode<'a>>,
    flows: Vec<ReadFlow>,
    starts: Vec<&'a El>,
    description: Option<String>,
    key: Option<String>,
    locale: Option<String>,
    ours: bool,
    /// Every `incoming`/`outgoing` reference: (element, flow id).
    refs: Vec<(String, String)>,
}

impl<'a> Reader<'a> {
    fn read_process(&mut self, process: &'a El) {
        for c in &process.children {
            match (c.ns.as_deref() == Some(BPMN_NS), c.local.as_str()) {
                (true, "documentation") => {
                    self.description.get_or_insert_with(|| c.text.clone());
                }
                (true, "extensionElements") => {
                    if let Some(sf) = c.children(SF_NS, "process").next() {
                        self.ours = true;
                        self.key = sf.attr("key").map(str::to_string);
                        self.locale = sf.attr("locale").map(str::to_string);
                    }
                }
                (true, "startEvent") => {
                    self.check_children(c, &[]);
                    self.starts.push(c);
                }
                (true, "task" | "userTask" | "manualTask") => {
                    self.check_children(c, &[]);
                    let stage = self.stage_extension(c);
                    self.node(c, Kind::Stage(stage));
                }
                (true, "exclusiveGateway") => {
                    self.check_children(c, &[]);
                    self.node(c, Kind::Decision);
                }
                (true, "endEvent") => {
                    self.check_children(c, &["terminateEventDefinition"]);
                    match self.outcome(c) {
                        Some(kind) => self.node(c, kind),
                        None => self.problems.push(BpmnProblem::new(
                            c.label(),
                            format!(
                                "end event `{}` ({}) is neither Won nor Lost: name it \"Won\" or \"Lost\" (赢单 / 输单)",
                                c.label(),
                                c.attr("name").filter(|n| !n.trim().is_empty()).unwrap_or("unnamed")
                            ),
                        )),
                    }
                }
                (true, "sequenceFlow") => {
                    self.check_children(c, &["conditionExpression"]);
                    self.flow(c);
                }
                _ => self.problems.push(unsupported(c, "in the process")),
            }
        }
    }

    /// Children a flow node may have: documentation, extensions, incoming/outgoing, `extra`.
    fn check_children(&mut self, el: &El, extra: &[&str]) {
        for ch in &el.children {
            let bpmn = ch.ns.as_deref() == Some(BPMN_NS);
            if bpmn && matches!(ch.local.as_str(), "incoming" | "outgoing") {
                self.refs.push((el.label(), ch.text.trim().to_string()));
            } else if !(is_meta(ch) || bpmn && extra.contains(&ch.local.as_str())) {
                self.problems.push(BpmnProblem::new(
                    el.label(),
                    format!("<{}> inside <{}> `{}` is not supported", ch.local, el.local, el.label()),
                ));
            }
        }
    }

    fn extension<'e>(el: &'e El, local: &'e str) -> Option<&'e El> {
        el.children(BPMN_NS, "extensionElements").flat_map(|x| x.children(SF_NS, local)).next()
    }

    fn node(&mut self, el: &'a El, kind: Kind) {
        let Some(xml_id) = el.id() else {
            self.problems.push(BpmnProblem::new(el.local.clone(), format!("a <{}> has no id", el.local)));
            return;
        };
        let ours = ["stage", "decision", "end"].iter().find_map(|t| Self::extension(el, t)?.attr("id"));
        let id = match ours {
            Some(id) => id.to_string(),
            None => domain_id(xml_id, NODE_PREFIX),
        };
        let name = el.attr("name").unwrap_or_default().to_string();
        self.nodes.push(ReadNode { xml_id: xml_id.to_string(), id, name, kind, el });
    }

    fn outcome(&self, el: &El) -> Option<Kind> {
        if let Some(end) = Self::extension(el, "end") {
            match end.attr("outcome") {
                Some("won") => return Some(Kind::Won),
                Some("lost") => return Some(Kind::Lost),
                _ => {}
            }
        }
        let name = el.attr("name").unwrap_or_default().to_lowercase();
        let won = name.contains("won") || name.contains("赢单");
        let lost = name.contains("lost") || name.contains("输单");
        match (won, lost) {
            (true, false) => Some(Kind::Won),
            (false, true) => Some(Kind::Lost),
            _ => None,
        }
    }

    fn flow(&mut self, el: &El) {
        let label = el.label();
        let (Some(xml_id), Some(source), Some(target)) = (el.id(), el.attr("sourceRef"), el.attr("targetRef")) else {
            self.problems.push(BpmnProblem::new(label, "a sequence flow needs an id, a sourceRef and a targetRef"));
            return;
        };
        let sf = Self::extension(el, "edge");
        let id = match sf.and_then(|e| e.attr("id")) {
            Some(id) => id.to_string(),
            None => domain_id(xml_id, FLOW_PREFIX),
        };
        self.flows.push(ReadFlow {
            xml_id: xml_id.to_string(),
            id: Some(id),
            source: source.to_string(),
            target: target.to_string(),
            name: el.attr("name").map(str::to_string),
            ours: sf.is_some(),
        });
    }

    fn stage_extension(&mut self, el: &El) -> Option<Stage> {
        let sf = Self::extension(el, "stage")?;
        let at = el.label();
        let mut bad = |what: &str, value: Option<&str>| {
            self.problems.push(BpmnProblem::new(
                at.clone(),
                format!("salesflow extension of `{at}`: {what} `{}` is not valid", value.unwrap_or("(missing)")),
            ));
        };
        let probability = sf.attr("probability").and_then(|v| v.parse::<u8>().ok());
        if probability.is_none() {
            bad("probability", sf.attr("probability"));
        }
        let sla_days = sf.attr("slaDays").and_then(|v| v.parse::<u32>().ok());
        if sla_days.is_none() {
            bad("slaDays", sf.attr("slaDays"));
        }
        let mut stage = Stage {
            goal: sf.attr("goal").unwrap_or_default().to_string(),
            steps: Vec::new(),
            tools: Vec::new(),
            exit_criteria: Vec::new(),
            probability: probability.unwrap_or(0),
            sla_days: sla_days.unwrap_or(DEFAULT_SLA_DAYS),
        };
        for ch in &sf.children {
            match (ch.ns.as_deref() == Some(SF_NS), ch.local.as_str()) {
                (true, "step") => stage.steps.push(Step {
                    id: ch.attr("id").unwrap_or_default().to_string(),
                    name: ch.attr("name").unwrap_or_default().to_string(),
                }),
                (true, "tool") => stage.tools.push(Tool {
                    name: ch.attr("name").unwrap_or_default().to_string(),
                    link: ch.attr("link").map(str::to_string),
                    template: ch.attr("template").map(str::to_string),
                }),
                (true, "exitCriterion") => {
                    let requires = match (ch.attr("field"), ch.attr("step")) {
                        (None, None) if ch.attr("needs").is_some() => {
                            let part = ch.attr("needs").unwrap_or_default();
                            match salesflow_domain::selling::needs::NeedsPart::parse(part) {
                                Some(p) => Requirement::Needs(p),
                                None => {
                                    bad("exit criterion needs", Some(part));
                                    continue;
                                }
                            }
                        }
                        (Some(f), None) => match serde_json::from_value::<DealField>(f.into()) {
                            Ok(f) => Requirement::Field(f),
                            Err(_) => {
                                bad("exit criterion field", Some(f));
                                continue;
                            }
                        },
                        (None, Some(s)) => Requirement::Step(s.to_string()),
                        _ => {
                            bad("exit criterion (needs exactly one of field, step, needs)", ch.attr("id"));
                            continue;
                        }
                    };
                    let gate = match ch.attr("gate") {
                        Some("hard") => Gate::Hard,
                        Some("soft") => Gate::Soft,
                        other => {
                            bad("exit criterion gate", other);
                            continue;
                        }
                    };
                    stage.exit_criteria.push(ExitCriterion {
                        id: ch.attr("id").unwrap_or_default().to_string(),
                        requires,
                        gate,
                        label: ch.attr("label").unwrap_or_default().to_string(),
                    });
                }
                _ => bad("element", Some(&format!("<{}>", ch.local))),
            }
        }
        Some(stage)
    }

    /// Checks the references and the shape of the graph, then builds the definition.
    fn build(&mut self, process: &El, problems: &mut Vec<BpmnProblem>) -> ProcessDefinition {
        let mut ids: BTreeSet<&str> = BTreeSet::new();
        let mut elements: Vec<(&str, String)> = self.nodes.iter().map(|n| (n.xml_id.as_str(), n.el.label())).collect();
        elements.extend(self.starts.iter().filter_map(|s| Some((s.id()?, s.label()))));
        elements.extend(self.flows.iter().map(|f| (f.xml_id.as_str(), f.xml_id.clone())));
        for (id, label) in &elements {
            if !ids.insert(id) {
                problems
                    .push(BpmnProblem::new(label.clone(), format!("the id `{id}` is used by more than one element")));
            }
        }
        let node_ix: BTreeMap<&str, usize> =
            self.nodes.iter().enumerate().map(|(i, n)| (n.xml_id.as_str(), i)).rev().collect();
        let start_ids: BTreeSet<&str> = self.starts.iter().filter_map(|s| s.id()).collect();
        let flow_ids: BTreeSet<&str> = self.flows.iter().map(|f| f.xml_id.as_str()).collect();

        for (el, flow) in &self.refs {
            if !flow_ids.contains(flow.as_str()) {
                problems.push(BpmnProblem::new(
                    el.clone(),
                    format!("`{el}` lists `{flow}` as a flow in or out, but the process has no such sequence flow"),
                ));
            }
        }
        let mut broken = false;
        for f in &self.flows {
            for (end, r) in [("sourceRef", &f.source), ("targetRef", &f.target)] {
                if !node_ix.contains_key(r.as_str()) && !start_ids.contains(r.as_str()) {
                    broken = true;
                    problems.push(BpmnProblem::new(
                        f.xml_id.clone(),
                        format!(
                            "sequence flow `{}`: its {end} `{r}` is not a supported element of the process",
                            f.xml_id
                        ),
                    ));
                }
            }
            if start_ids.contains(f.target.as_str()) {
                problems.push(BpmnProblem::new(
                    f.xml_id.clone(),
                    format!("sequence flow `{}` leads into the start event `{}`", f.xml_id, f.target),
                ));
            }
        }

        match self.starts.as_slice() {
            [] => problems.push(BpmnProblem::new(
                process.label(),
                "the process has no start event; add one leading to the first stage",
            )),
            [start] => {
                let id = start.id().unwrap_or_default();
                let out: Vec<&ReadFlow> = self.flows.iter().filter(|f| f.source == id).collect();
                if out.len() != 1 {
                    problems.push(BpmnProblem::new(
                        start.label(),
                        format!("the start event must lead to exactly one stage; it has {} outgoing flows", out.len()),
                    ));
                } else if let Some(back) = self.flows.iter().find(|f| f.target == out[0].target && f.source != id) {
                    // salesflow's entry is the one node nothing leads into.
                    problems.push(BpmnProblem::new(
                        back.xml_id.clone(),
                        format!(
                            "sequence flow `{}` leads back into `{}`, where the start event leads: the first stage \
                             cannot be entered again (add a stage before it, or end the loop elsewhere)",
                            back.xml_id, out[0].target
                        ),
                    ));
                }
            }
            many => {
                for s in many {
                    problems.push(BpmnProblem::new(
                        s.label(),
                        format!("a process has exactly one start event; this one has {}", many.len()),
                    ));
                }
            }
        }

        // Every node must be able to reach an end event (else a cycle without exit).
        if !broken {
            let mut reach: BTreeSet<&str> = self
                .nodes
                .iter()
                .filter(|n| matches!(n.kind, Kind::Won | Kind::Lost))
                .map(|n| n.xml_id.as_str())
                .collect();
            let mut queue: VecDeque<&str> = reach.iter().copied().collect();
            while let Some(at) = queue.pop_front() {
                for f in self.flows.iter().filter(|f| f.target == at) {
                    if reach.insert(f.source.as_str()) {
                        queue.push_back(f.source.as_str());
                    }
                }
            }
            for n in &self.nodes {
                if !reach.contains(n.xml_id.as_str()) {
                    problems.push(BpmnProblem::new(
                        n.xml_id.clone(),
                        format!(
                            "`{}` ({}) cannot reach an end event: every path from it loops or stops; add a flow to Won or Lost",
                            n.xml_id, n.name
                        ),
                    ));
                }
            }
        }

        let domain_of = |xml: &str| node_ix.get(xml).map(|&i| self.nodes[i].id.clone()).unwrap_or_default();
        let mut edges = Vec::new();
        for f in &self.flows {
            if start_ids.contains(f.source.as_str()) {
                continue;
            }
            let label = match &f.name {
                Some(n) if f.ours || !n.trim().is_empty() => n.clone(),
                // A flow drawn elsewhere often has no name: it is then labelled by where it goes.
                _ => node_ix.get(f.target.as_str()).map(|&i| self.nodes[i].name.clone()).unwrap_or_default(),
            };
            edges.push(Edge {
                id: f.id.clone().unwrap_or_default(),
                from: domain_of(&f.source),
                to: domain_of(&f.target),
                label,
            });
        }
        let nodes: Vec<Node> = self
            .nodes
            .iter()
            .map(|n| Node {
                id: n.id.clone(),
                name: n.name.clone(),
                kind: match &n.kind {
                    Kind::Stage(Some(s)) => NodeKind::Stage(s.clone()),
                    Kind::Stage(None) => NodeKind::Stage(Stage {
                        goal: n
                            .el
                            .children(BPMN_NS, "documentation")
                            .next()
                            .map(|d| d.text.trim().to_string())
                            .unwrap_or_default(),
                        steps: Vec::new(),
                        tools: Vec::new(),
                        exit_criteria: Vec::new(),
                        probability: 0,
                        sla_days: DEFAULT_SLA_DAYS,
                    }),
                    Kind::Decision => NodeKind::Decision,
                    Kind::Won => NodeKind::Won,
                    Kind::Lost => NodeKind::Lost,
                },
            })
            .collect();

        let name = process.attr("name").filter(|n| !n.trim().is_empty()).map(str::to_string);
        let key = self.key.clone().unwrap_or_else(|| {
            process.id().map(str::to_string).or_else(|| name.clone()).unwrap_or_else(|| "imported".into())
        });
        let locale = self.locale.clone().unwrap_or_else(|| {
            let cjk = nodes
                .iter()
                .map(|n| &n.name)
                .chain(&name)
                .any(|s| s.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c)));
            if cjk { "zh-CN" } else { "en" }.to_string()
        });
        let description = match &self.description {
            Some(d) if self.ours => d.clone(),
            Some(d) => d.trim().to_string(),
            None => String::new(),
        };
        let mut def = ProcessDefinition {
            key: key.clone(),
            name: name.unwrap_or(key),
            description,
            locale,
            nodes,
            edges,
            positions: Default::default(),
        };

        // Stages drawn elsewhere: probabilities rising from 10 % to 90 % along the main path.
        let defaulted: BTreeSet<String> =
            self.nodes.iter().filter(|n| matches!(n.kind, Kind::Stage(None))).map(|n| n.id.clone()).collect();
        if !defaulted.is_empty() {
            let order: Vec<String> = def.stages_in_order().iter().map(|n| n.id.clone()).collect();
            let last = order.len().saturating_sub(1).max(1) as f64;
            for n in &mut def.nodes {
                if let NodeKind::Stage(s) = &mut n.kind
                    && defaulted.contains(&n.id)
                {
                    let at = order.iter().position(|o| *o == n.id).unwrap_or(0) as f64;
                    s.probability = (10.0 + 80.0 * at / last).round() as u8;
                }
            }
        }
        def
    }
}

/// The domain id of an element drawn with `xml_id`: ours without the prefix we added, else the
/// XML id in the domain's alphabet (other characters become `_`, at most 64 characters).
fn domain_id(xml_id: &str, prefix: &str) -> String {
    if let Some(rest) = xml_id.strip_prefix(prefix)
        && plain_id(rest)
    {
        return rest.to_string();
    }
    xml_id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).take(64).collect()
}
