//! ProcessDefinition + Layout → BPMN 2.0 XML with BPMNDI.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use salesflow_domain::process::{Node, NodeKind, ProcessDefinition, Requirement, Stage};

use super::xml::{attr, text};
use super::{BPMN_NS, BPMNDI_NS, DC_NS, DI_NS, FLOW_PREFIX, NODE_PREFIX, SF_NS, START_FLOW_ID, START_ID, plain_id};
use crate::layout::{EdgePath, Layout, Point, Rect};

/// Standard sizes of BPMN shapes (as bpmn.io draws them); tasks take the layout's whole box.
const EVENT_SIZE: f64 = 36.0;
/// BPMN in Color (non-normative, read by bpmn.io and Camunda Modeler): Won green, Lost red.
const COLOR_NS: &str = "http://www.omg.org/spec/BPMN/non-normative/color/1.0";
const WON_COLOURS: (&str, &str) = ("#2e7d32", "#e8f5e9");
const LOST_COLOURS: (&str, &str) = ("#c62828", "#ffebee");
const GATEWAY_SIZE: f64 = 50.0;

/// BPMN 2.0 XML for `def`, laid out as `layout` says (nodes or edges missing from the layout
/// get a fallback position, so a partial layout still gives a document that opens).
pub fn export(def: &ProcessDefinition, layout: &Layout) -> String {
    let ids = XmlIds::new(def);
    let process_id = ids.process.clone();
    let mut out = String::with_capacity(16 * 1024);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<bpmn:definitions xmlns:bpmn=\"{BPMN_NS}\" xmlns:bpmndi=\"{BPMNDI_NS}\" xmlns:dc=\"{DC_NS}\" \
         xmlns:di=\"{DI_NS}\" xmlns:color=\"{COLOR_NS}\" xmlns:sf=\"{SF_NS}\" id=\"Definitions_1\" \
         targetNamespace=\"https://salesflow.example/processes\" exporter=\"salesflow\" exporterVersion=\"{}\">",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(out, "  <bpmn:process id=\"{process_id}\" name=\"{}\" isExecutable=\"false\">", attr(&def.name));
    if !def.description.is_empty() {
        let _ = writeln!(out, "    <bpmn:documentation>{}</bpmn:documentation>", text(&def.description));
    }
    let _ = writeln!(
        out,
        "    <bpmn:extensionElements><sf:process key=\"{}\" locale=\"{}\" /></bpmn:extensionElements>",
        attr(&def.key),
        attr(&def.locale)
    );

    let entry = def.entry().map(|n| n.id.clone());
    if let Some(entry) = &entry {
        let _ = writeln!(out, "    <bpmn:startEvent id=\"{START_ID}\" name=\"{}\">", attr(start_name(def)));
        let _ = writeln!(out, "      <bpmn:outgoing>{START_FLOW_ID}</bpmn:outgoing>");
        out.push_str("    </bpmn:startEvent>\n");
        let _ = writeln!(
            out,
            "    <bpmn:sequenceFlow id=\"{START_FLOW_ID}\" sourceRef=\"{START_ID}\" targetRef=\"{}\" />",
            ids.node(entry)
        );
    }

    for (i, node) in def.nodes.iter().enumerate() {
        write_node(&mut out, def, &ids, i, node, entry.as_deref() == Some(node.id.as_str()));
    }
    for (i, e) in def.edges.iter().enumerate() {
        let _ = write!(
            out,
            "    <bpmn:sequenceFlow id=\"{}\" name=\"{}\" sourceRef=\"{}\" targetRef=\"{}\">",
            ids.edges[i],
            attr(&e.label),
            ids.node(&e.from),
            ids.node(&e.to)
        );
        let _ = writeln!(
            out,
            "<bpmn:extensionElements><sf:edge id=\"{}\" /></bpmn:extensionElements></bpmn:sequenceFlow>",
            attr(&e.id)
        );
    }
    out.push_str("  </bpmn:process>\n");

    write_diagram(&mut out, def, layout, &ids, entry.as_deref());
    out.push_str("</bpmn:definitions>\n");
    out
}

fn start_name(def: &ProcessDefinition) -> &'static str {
    if def.locale.starts_with("zh") { "开始" } else { "Start" }
}

fn write_node(out: &mut String, def: &ProcessDefinition, ids: &XmlIds, index: usize, node: &Node, is_entry: bool) {
    let tag = match node.kind {
        NodeKind::Stage(_) => "bpmn:task",
        NodeKind::Decision => "bpmn:exclusiveGateway",
        NodeKind::Won | NodeKind::Lost => "bpmn:endEvent",
    };
    let _ = writeln!(out, "    <{tag} id=\"{}\" name=\"{}\">", ids.nodes[index], attr(&node.name));
    match &node.kind {
        NodeKind::Stage(stage) => {
            let doc = documentation(def, stage);
            if !doc.is_empty() {
                let _ = writeln!(out, "      <bpmn:documentation>{}</bpmn:documentation>", text(&doc));
            }
            write_stage_extension(out, &node.id, stage);
        }
        NodeKind::Decision => {
            let _ = writeln!(
                out,
                "      <bpmn:extensionElements><sf:decision id=\"{}\" /></bpmn:extensionElements>",
                attr(&node.id)
            );
        }
        NodeKind::Won | NodeKind::Lost => {
            let outcome = if node.kind == NodeKind::Won { "won" } else { "lost" };
            let _ = writeln!(
                out,
                "      <bpmn:extensionElements><sf:end id=\"{}\" outcome=\"{outcome}\" /></bpmn:extensionElements>",
                attr(&node.id)
            );
        }
    }
    if is_entry {
        let _ = writeln!(out, "      <bpmn:incoming>{START_FLOW_ID}</bpmn:incoming>");
    }
    for (i, e) in def.edges.iter().enumerate() {
        if e.to == node.id {
            let _ = writeln!(out, "      <bpmn:incoming>{}</bpmn:incoming>", ids.edges[i]);
        }
    }
    for (i, e) in def.edges.iter().enumerate() {
        if e.from == node.id {
            let _ = writeln!(out, "      <bpmn:outgoing>{}</bpmn:outgoing>", ids.edges[i]);
        }
    }
    let _ = writeln!(out, "    </{tag}>");
}

/// What a person reads in the modeler's documentation field: the goal, then the steps.
fn documentation(def: &ProcessDefinition, stage: &Stage) -> String {
    let zh = def.locale.starts_with("zh");
    let mut doc = String::new();
    if !stage.goal.is_empty() {
        doc.push_str(if zh { "目标：" } else { "Goal: " });
        doc.push_str(&stage.goal);
    }
    if !stage.steps.is_empty() {
        if !doc.is_empty() {
            doc.push_str("\n\n");
        }
        doc.push_str(if zh { "操作步骤：" } else { "Steps:" });
        for (i, s) in stage.steps.iter().enumerate() {
            let _ = write!(doc, "\n{}. {}", i + 1, s.name);
        }
    }
    doc
}

fn write_stage_extension(out: &mut String, id: &str, stage: &Stage) {
    out.push_str("      <bpmn:extensionElements>\n");
    let _ = writeln!(
        out,
        "        <sf:stage id=\"{}\" probability=\"{}\" slaDays=\"{}\" goal=\"{}\">",
        attr(id),
        stage.probability,
        stage.sla_days,
        attr(&stage.goal)
    );
    for s in &stage.steps {
        let _ = writeln!(out, "          <sf:step id=\"{}\" name=\"{}\" />", attr(&s.id), attr(&s.name));
    }
    for t in &stage.tools {
        let _ = write!(out, "          <sf:tool name=\"{}\"", attr(&t.name));
        if let Some(link) = &t.link {
            let _ = write!(out, " link=\"{}\"", attr(link));
        }
        if let Some(template) = &t.template {
            let _ = write!(out, " template=\"{}\"", attr(template));
        }
        out.push_str(" />\n");
    }
    for c in &stage.exit_criteria {
        let (what, value) = match &c.requires {
            Requirement::Field(f) => ("field", f.as_str().to_string()),
            Requirement::Step(s) => ("step", s.clone()),
            Requirement::Needs(p) => ("needs", p.as_str().to_string()),
        };
        let gate = serde_json::to_value(c.gate).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        let _ = writeln!(
            out,
            "          <sf:exitCriterion id=\"{}\" {what}=\"{}\" gate=\"{gate}\" label=\"{}\" />",
            attr(&c.id),
            attr(&value),
            attr(&c.label)
        );
    }
    out.push_str("        </sf:stage>\n      </bpmn:extensionElements>\n");
}

fn write_diagram(out: &mut String, def: &ProcessDefinition, layout: &Layout, ids: &XmlIds, entry: Option<&str>) {
    let _ = writeln!(out, "  <bpmndi:BPMNDiagram id=\"BPMNDiagram_1\">");
    let _ = writeln!(out, "    <bpmndi:BPMNPlane id=\"BPMNPlane_1\" bpmnElement=\"{}\">", ids.process);

    // The box the layout gives each node, and the (possibly smaller) shape drawn in it.
    let mut boxes: BTreeMap<&str, Rect> = BTreeMap::new();
    let mut shapes: BTreeMap<&str, Rect> = BTreeMap::new();
    for (i, n) in def.nodes.iter().enumerate() {
        let rect = layout.nodes.get(&n.id).copied().unwrap_or(Rect {
            x: 40.0 + i as f64 * 220.0,
            y: layout.height + 40.0,
            width: 180.0,
            height: 80.0,
        });
        let shape = match n.kind {
            NodeKind::Stage(_) => rect,
            NodeKind::Decision => centred(rect, GATEWAY_SIZE),
            NodeKind::Won | NodeKind::Lost => centred(rect, EVENT_SIZE),
        };
        boxes.entry(n.id.as_str()).or_insert(rect);
        shapes.entry(n.id.as_str()).or_insert(shape);
    }

    if let Some(entry) = entry.and_then(|e| shapes.get(e)) {
        let c = entry.center();
        let start =
            Rect { x: entry.x - 40.0 - EVENT_SIZE, y: c.y - EVENT_SIZE / 2.0, width: EVENT_SIZE, height: EVENT_SIZE };
        write_shape(out, START_ID, start, None, None);
        let points = [Point { x: start.x + start.width, y: c.y }, Point { x: entry.x, y: c.y }];
        write_edge(out, START_FLOW_ID, &points, None);
    }
    for (i, n) in def.nodes.iter().enumerate() {
        let label = (!matches!(n.kind, NodeKind::Stage(_))).then(|| label_below(shapes[n.id.as_str()]));
        let colours = match n.kind {
            NodeKind::Won => Some(WON_COLOURS),
            NodeKind::Lost => Some(LOST_COLOURS),
            _ => None,
        };
        write_shape(out, &ids.nodes[i], shapes[n.id.as_str()], label, colours);
    }
    for (i, e) in def.edges.iter().enumerate() {
        let (Some(from), Some(to)) = (shapes.get(e.from.as_str()), shapes.get(e.to.as_str())) else {
            continue;
        };
        let path = layout.edges.get(&e.id).cloned().unwrap_or_else(|| EdgePath {
            points: vec![from.center(), to.center()],
            label_at: midpoint(from.center(), to.center()),
            back: false,
        });
        let mut points = path.points.clone();
        if points.len() < 2 {
            points = vec![from.center(), to.center()];
        }
        // The layout routes to the border of the node's box; reach the shape drawn inside it.
        if boxes[e.from.as_str()] != *from {
            let inner = enter(*from, points[0]);
            points.insert(0, inner);
        }
        if boxes[e.to.as_str()] != *to {
            let inner = enter(*to, points[points.len() - 1]);
            points.push(inner);
        }
        points.dedup();
        let label = (!e.label.is_empty()).then(|| label_around(path.label_at, &e.label));
        write_edge(out, &ids.edges[i], &points, label);
    }
    out.push_str("    </bpmndi:BPMNPlane>\n  </bpmndi:BPMNDiagram>\n");
}

fn write_shape(out: &mut String, element: &str, r: Rect, label: Option<Rect>, colours: Option<(&str, &str)>) {
    let _ = write!(out, "      <bpmndi:BPMNShape id=\"{element}_di\" bpmnElement=\"{element}\"");
    if let Some((border, fill)) = colours {
        let _ = write!(out, " color:border-color=\"{border}\" color:background-color=\"{fill}\"");
    }
    out.push('>');
    let _ = write!(out, "<dc:Bounds {} />", bounds(r));
    if let Some(l) = label {
        let _ = write!(out, "<bpmndi:BPMNLabel><dc:Bounds {} /></bpmndi:BPMNLabel>", bounds(l));
    }
    out.push_str("</bpmndi:BPMNShape>\n");
}

fn write_edge(out: &mut String, element: &str, points: &[Point], label: Option<Rect>) {
    let _ = writeln!(out, "      <bpmndi:BPMNEdge id=\"{element}_di\" bpmnElement=\"{element}\">");
    for p in points {
        let _ = writeln!(out, "        <di:waypoint x=\"{}\" y=\"{}\" />", num(p.x), num(p.y));
    }
    if let Some(l) = label {
        let _ = writeln!(out, "        <bpmndi:BPMNLabel><dc:Bounds {} /></bpmndi:BPMNLabel>", bounds(l));
    }
    out.push_str("      </bpmndi:BPMNEdge>\n");
}

fn bounds(r: Rect) -> String {
    format!("x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"", num(r.x), num(r.y), num(r.width), num(r.height))
}

/// Coordinates rounded to a tenth of a pixel; finite numbers only (NaN would not parse).
fn num(v: f64) -> String {
    let v = if v.is_finite() { (v * 10.0).round() / 10.0 } else { 0.0 };
    let v = if v == 0.0 { 0.0 } else { v };
    format!("{v}")
}

fn centred(r: Rect, size: f64) -> Rect {
    let side = size.min(r.width).min(r.height);
    let c = r.center();
    Rect { x: c.x - side / 2.0, y: c.y - side / 2.0, width: side, height: side }
}

fn midpoint(a: Point, b: Point) -> Point {
    Point { x: (a.x + b.x) / 2.0, y: (a.y + b.y) / 2.0 }
}

/// Where the segment from `outside` towards the centre of `r` crosses the border of `r`
/// (`outside` itself when it already lies within `r`).
fn enter(r: Rect, outside: Point) -> Point {
    let c = r.center();
    let (dx, dy) = (outside.x - c.x, outside.y - c.y);
    let (hw, hh) = (r.width / 2.0, r.height / 2.0);
    if dx.abs() <= hw && dy.abs() <= hh {
        return outside;
    }
    let t = (hw / dx.abs().max(f64::MIN_POSITIVE)).min(hh / dy.abs().max(f64::MIN_POSITIVE));
    Point { x: c.x + dx * t, y: c.y + dy * t }
}

fn label_below(shape: Rect) -> Rect {
    Rect { x: shape.center().x - 50.0, y: shape.y + shape.height + 5.0, width: 100.0, height: 27.0 }
}

/// The box of an edge label around `at`, wide enough for one line at bpmn.io's 11 px font
/// (a CJK character is about 12 px, others about 6.5 px), longer labels wrapping at 160 px.
fn label_around(at: Point, label: &str) -> Rect {
    let text: f64 = label.chars().map(|c| if c.len_utf8() >= 3 { 12.0 } else { 6.5 }).sum();
    let width = (text + 8.0).clamp(24.0, 160.0);
    let lines = (text / 152.0).ceil().max(1.0);
    Rect { x: at.x - width / 2.0, y: at.y - 7.0 * lines, width, height: 14.0 * lines }
}

/// The XML ids of the process, its nodes and edges: unique NCNames.
struct XmlIds {
    process: String,
    nodes: Vec<String>,
    edges: Vec<String>,
    by_node: BTreeMap<String, String>,
}

impl XmlIds {
    fn new(def: &ProcessDefinition) -> Self {
        let mut used = BTreeSet::from([START_ID.to_string(), START_FLOW_ID.to_string()]);
        let mut make = |prefix: &str, id: &str, i: usize| {
            let plain = format!("{prefix}{id}");
            if plain_id(id) && !used.contains(&plain) {
                used.insert(plain.clone());
                return plain;
            }
            // `Node-3` never collides with `Node_<id>`.
            let mut n = i;
            loop {
                let numbered = format!("{}-{n}", prefix.trim_end_matches('_'));
                if used.insert(numbered.clone()) {
                    return numbered;
                }
                n += 1;
            }
        };
        let nodes: Vec<String> = def.nodes.iter().enumerate().map(|(i, n)| make(NODE_PREFIX, &n.id, i)).collect();
        let edges: Vec<String> = def.edges.iter().enumerate().map(|(i, e)| make(FLOW_PREFIX, &e.id, i)).collect();
        let mut by_node = BTreeMap::new();
        for (n, x) in def.nodes.iter().zip(&nodes) {
            by_node.entry(n.id.clone()).or_insert_with(|| x.clone());
        }
        let key: String = def
            .key
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') { c } else { '_' })
            .collect();
        Self { process: format!("Process_{key}"), nodes, edges, by_node }
    }

    /// The XML id of the node `id`; for an edge end that names no node, an id no element has
    /// (the document then says plainly that the reference is broken).
    fn node(&self, id: &str) -> String {
        self.by_node.get(id).cloned().unwrap_or_else(|| format!("Missing_{}", attr(id)))
    }
}
