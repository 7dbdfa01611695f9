//! The exchange formats against the shipped templates: BPMN round trips exactly, and every
//! export is checked by the parsers other tools use (bpmn-moddle for BPMN, Mermaid itself in
//! Chromium for Mermaid) through `tests/browser/formats.mjs`, plus the draw.io file structure.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use salesflow_domain::process::{NodeKind, ProcessDefinition};
use salesflow_domain::templates;
use salesflow_flowchart::bpmn::{self, BpmnProblem};
use salesflow_flowchart::{drawio, layout, mermaid};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

#[test]
fn bpmn_round_trips_every_template() {
    for def in templates::all() {
        let xml = bpmn::export(&def, &layout::layout(&def));
        match bpmn::import(&xml) {
            Ok(back) => assert_eq!(back, def, "template {}", def.key),
            Err(problems) => panic!("template {}: {problems:#?}\n{xml}", def.key),
        }
        // Windows editors put a byte-order mark in front.
        assert_eq!(bpmn::import(&format!("\u{FEFF}{xml}")).as_ref(), Ok(&def), "{} with a BOM", def.key);
    }
}

/// An exit criterion on the needs analysis ("budget known") survives the trip.
#[test]
fn bpmn_round_trips_a_needs_criterion() {
    use salesflow_domain::process::{ExitCriterion, Gate, Requirement};
    use salesflow_domain::selling::needs::NeedsPart;
    let mut def = templates::get("seed-five-stage.zh-CN").unwrap();
    let stage = def.nodes.iter_mut().find_map(|n| match &mut n.kind {
        NodeKind::Stage(s) if n.id == "negotiation" => Some(s),
        _ => None,
    });
    stage.unwrap().exit_criteria.push(ExitCriterion {
        id: "c_budget".into(),
        requires: Requirement::Needs(NeedsPart::Budget),
        gate: Gate::Hard,
        label: "预算已知".into(),
    });
    let xml = bpmn::export(&def, &layout::layout(&def));
    assert!(xml.contains("needs=\"budget\""), "{xml}");
    assert_eq!(bpmn::import(&xml).unwrap_or_else(|p| panic!("{p:#?}")), def);
}

/// Texts with everything XML treats specially survive the trip.
#[test]
fn bpmn_round_trips_awkward_text() {
    let mut def = templates::get("seed-five-stage.en").unwrap();
    def.description = "  <b>\"quotes\" & 'apostrophes'</b>\r\n\ttabbed\nlines  ".into();
    def.name = "A & B <c> \"d\"\n".into();
    def.key = "weird key/ü".into();
    for n in &mut def.nodes {
        n.name = format!("{} & <{}> \"x\" 'y'\t\r\n赢", n.name, n.id);
        if let NodeKind::Stage(s) = &mut n.kind {
            s.goal = " ]]> <![CDATA[ \r\n &amp; ".into();
            if let Some(t) = s.tools.first_mut() {
                t.link = Some("https://x.example/?a=1&b=<2>".into());
            }
        }
    }
    for e in &mut def.edges {
        e.label = format!("{}\n&<>\"'", e.label);
    }
    let xml = bpmn::export(&def, &layout::layout(&def));
    // Our names contain neither won nor lost now ("赢" alone): the extension decides.
    let back = bpmn::import(&xml).unwrap_or_else(|p| panic!("{p:#?}"));
    assert_eq!(back, def);
}

fn problems(xml: &str) -> Vec<BpmnProblem> {
    bpmn::import(xml).expect_err("the import is refused")
}

fn has(problems: &[BpmnProblem], element: &str, text: &str) -> bool {
    problems.iter().any(|p| p.element == element && p.message.contains(text))
}

const HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">"#;

/// A diagram drawn elsewhere: no salesflow extension, default names and ids.
fn foreign(body: &str) -> String {
    format!(
        r#"{HEAD}
  <process id="Process_1" name="Simple sale" isExecutable="true">
    <startEvent id="StartEvent_1"><outgoing>f0</outgoing></startEvent>
    <userTask id="Activity_qualify" name="Qualify"><documentation> Find out who buys. </documentation></userTask>
    <task id="Activity_offer" name="Offer" />
    <exclusiveGateway id="Gateway_1" name="Accepted?" />
    <endEvent id="EndEvent_won" name="Closed won" />
    <endEvent id="EndEvent_lost" name="Closed lost" />
    <sequenceFlow id="f0" sourceRef="StartEvent_1" targetRef="Activity_qualify" />
    <sequenceFlow id="f1" sourceRef="Activity_qualify" targetRef="Activity_offer" />
    <sequenceFlow id="f2" sourceRef="Activity_offer" targetRef="Gateway_1" />
    <sequenceFlow id="f3" name="yes" sourceRef="Gateway_1" targetRef="EndEvent_won" />
    <sequenceFlow id="f4" name="no" sourceRef="Gateway_1" targetRef="EndEvent_lost" />
    <sequenceFlow id="f5" sourceRef="Activity_qualify" targetRef="EndEvent_lost" />
    {body}
  </process>
</definitions>"#
    )
}

#[test]
fn bpmn_from_another_tool_gets_defaults() {
    let def = bpmn::import(&foreign("")).unwrap_or_else(|p| panic!("{p:#?}"));
    assert_eq!(def.key, "Process_1");
    assert_eq!(def.name, "Simple sale");
    assert_eq!(def.locale, "en");
    let ids: Vec<_> = def.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["Activity_qualify", "Activity_offer", "Gateway_1", "EndEvent_won", "EndEvent_lost"]);
    let NodeKind::Stage(qualify) = &def.nodes[0].kind else { panic!("a stage") };
    assert_eq!(qualify.goal, "Find out who buys.");
    assert!(qualify.steps.is_empty() && qualify.exit_criteria.is_empty());
    let NodeKind::Stage(offer) = &def.nodes[1].kind else { panic!("a stage") };
    assert!(offer.probability > qualify.probability, "probability rises along the path");
    assert_eq!(def.nodes[3].kind, NodeKind::Won);
    assert_eq!(def.nodes[4].kind, NodeKind::Lost);
    // Unnamed flows are labelled by where they lead; the start flow is no edge.
    let labels: Vec<_> = def.edges.iter().map(|e| (e.id.as_str(), e.label.as_str())).collect();
    assert_eq!(labels, [("f1", "Offer"), ("f2", "Accepted?"), ("f3", "yes"), ("f4", "no"), ("f5", "Closed lost")]);
}

#[test]
fn bpmn_names_every_unsupported_element() {
    let p = problems(&foreign(
        r#"<parallelGateway id="Fork" />
           <subProcess id="Sub"><task id="inner" /></subProcess>
           <boundaryEvent id="Timer" attachedToRef="Activity_offer"><timerEventDefinition /></boundaryEvent>
           <intermediateCatchEvent id="Wait" />
           <serviceTask id="Robot" />
           <laneSet id="Lanes"><lane id="L1" /></laneSet>"#,
    ));
    for id in ["Fork", "Sub", "Timer", "Wait", "Robot", "Lanes"] {
        assert!(has(&p, id, "not supported"), "{id}: {p:#?}");
    }
    let p = problems(&foreign(r#"<endEvent id="EndEvent_3" name="Parked" />"#));
    assert!(has(&p, "EndEvent_3", "neither Won nor Lost"), "{p:#?}");
    let p = problems(&foreign(r#"<task id="T" name="x"><multiInstanceLoopCharacteristics /></task>"#));
    assert!(has(&p, "T", "multiInstanceLoopCharacteristics"), "{p:#?}");
}

#[test]
fn bpmn_refuses_broken_documents() {
    let p = problems("this is no XML <");
    assert_eq!(p.len(), 1, "{p:#?}");
    assert_eq!(p[0].element, "document");
    let p = problems("<a><b></a>");
    assert_eq!(p.len(), 1, "{p:#?}");

    let big = format!("{HEAD}<!--{}--></definitions>", "x".repeat(bpmn::MAX_BYTES));
    let p = problems(&big);
    assert!(has(&p, "document", "2 MB"), "{p:#?}");

    let p = problems(r#"<definitions xmlns="urn:other"><process id="p" /></definitions>"#);
    assert_eq!(p.len(), 1, "{p:#?}");

    let p = problems(&foreign(r#"<sequenceFlow id="ghost" sourceRef="Activity_offer" targetRef="Nowhere" />"#));
    assert!(has(&p, "ghost", "`Nowhere`"), "{p:#?}");
    let p = problems(&foreign(r#"<task id="T2" name="x"><outgoing>nope</outgoing></task>"#));
    assert!(has(&p, "T2", "`nope`"), "{p:#?}");
    let p = problems(&foreign(r#"<startEvent id="S2" />"#));
    assert!(has(&p, "S2", "exactly one start event"), "{p:#?}");
}

/// Saved by Camunda Modeler: a collaboration with one pool, `bpmn:` prefixes, vendor attributes
/// and extensions, diagram interchange; Chinese names make the locale zh-CN.
#[test]
fn bpmn_from_camunda_modeler() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:modeler="http://camunda.org/schema/modeler/1.0" id="Definitions_0x" targetNamespace="http://bpmn.io/schema/bpmn" exporter="Camunda Modeler" exporterVersion="5.30.0" modeler:executionPlatform="Camunda Platform">
  <bpmn:collaboration id="Collaboration_1"><bpmn:participant id="Participant_1" name="销售" processRef="Process_sale" /></bpmn:collaboration>
  <bpmn:process id="Process_sale" name="简单销售" isExecutable="true" camunda:historyTimeToLive="180">
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_a</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Activity_1" name="需求分析" camunda:assignee="rep">
      <bpmn:extensionElements><camunda:inputOutput><camunda:inputParameter name="x">1</camunda:inputParameter></camunda:inputOutput></bpmn:extensionElements>
      <bpmn:incoming>Flow_a</bpmn:incoming><bpmn:outgoing>Flow_b</bpmn:outgoing><bpmn:outgoing>Flow_c</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="Event_won" name="赢单"><bpmn:incoming>Flow_b</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="Event_lost" name="输单"><bpmn:incoming>Flow_c</bpmn:incoming><bpmn:terminateEventDefinition id="T1" /></bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_a" sourceRef="StartEvent_1" targetRef="Activity_1" />
    <bpmn:sequenceFlow id="Flow_b" name="签约" sourceRef="Activity_1" targetRef="Event_won" />
    <bpmn:sequenceFlow id="Flow_c" name="放弃" sourceRef="Activity_1" targetRef="Event_lost" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1"><bpmndi:BPMNPlane id="P1" bpmnElement="Collaboration_1">
    <bpmndi:BPMNShape id="S1" bpmnElement="Activity_1"><dc:Bounds x="1" y="2" width="100" height="80" /></bpmndi:BPMNShape>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>"#;
    let def = bpmn::import(xml).unwrap_or_else(|p| panic!("{p:#?}"));
    assert_eq!((def.key.as_str(), def.name.as_str(), def.locale.as_str()), ("Process_sale", "简单销售", "zh-CN"));
    let kinds: Vec<_> = def.nodes.iter().map(|n| (n.id.as_str(), n.name.as_str())).collect();
    assert_eq!(kinds, [("Activity_1", "需求分析"), ("Event_won", "赢单"), ("Event_lost", "输单")]);
    assert_eq!(def.nodes[1].kind, NodeKind::Won);
    assert_eq!(def.nodes[2].kind, NodeKind::Lost);
    assert_eq!(def.edges.len(), 2);

    // A flow back into the stage the start event leads to: salesflow's entry has no way in.
    let looped = xml.replace(
        r#"<bpmn:sequenceFlow id="Flow_c""#,
        r#"<bpmn:task id="Again" name="再次跟进" /><bpmn:sequenceFlow id="back" name="再跟" sourceRef="Again" targetRef="Activity_1" /><bpmn:sequenceFlow id="toAgain" name="x" sourceRef="Activity_1" targetRef="Again" /><bpmn:sequenceFlow id="Flow_c""#,
    );
    let p = problems(&looped);
    assert!(has(&p, "back", "cannot be entered again"), "{p:#?}");
}

#[test]
fn bpmn_names_a_cycle_without_exit() {
    let p = problems(&foreign(
        r#"<task id="A" name="A" /><task id="B" name="B" />
           <sequenceFlow id="toA" sourceRef="Activity_offer" targetRef="A" />
           <sequenceFlow id="ab" sourceRef="A" targetRef="B" />
           <sequenceFlow id="ba" sourceRef="B" targetRef="A" />"#,
    ));
    assert!(has(&p, "A", "cannot reach an end event"), "{p:#?}");
    assert!(has(&p, "B", "cannot reach an end event"), "{p:#?}");
    assert!(!has(&p, "Activity_offer", "cannot reach"), "{p:#?}");
}

#[test]
fn bpmn_reports_what_validation_finds() {
    // Two entries: `Orphan` has no incoming flow. Named by its BPMN id.
    let p = problems(&foreign(
        r#"<task id="Orphan" name="Orphan" /><sequenceFlow id="o" name="lost" sourceRef="Orphan" targetRef="EndEvent_lost" />"#,
    ));
    assert!(has(&p, "Orphan", "no incoming edge"), "{p:#?}");
}

// ---------------------------------------------------------------------------------------------
// Outside parsers.

fn prerequisites_missing(browser_dir: &Path) -> Vec<String> {
    let mut missing = Vec::new();
    if std::env::var_os("CHROMIUM").is_none() && !Path::new("/usr/bin/chromium").exists() {
        missing.push("/usr/bin/chromium (apt-get install chromium)".to_string());
    }
    if Command::new("node").arg("--version").output().map(|o| !o.status.success()).unwrap_or(true) {
        missing.push("node on the PATH".to_string());
    }
    for module in ["playwright-core", "bpmn-moddle", "mermaid"] {
        if !browser_dir.join("node_modules").join(module).is_dir() {
            missing.push(format!("tests/browser/node_modules/{module} (npm ci --prefix tests/browser)"));
        }
    }
    missing
}

/// The file name of a process's exports, without extension. Keys such as `saas-trial.en` have
/// dots: extensions are appended, never replaced.
fn stem(key: &str) -> String {
    key.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).collect()
}

fn counts(def: &ProcessDefinition) -> serde_json::Value {
    let count = |f: fn(&NodeKind) -> bool| def.nodes.iter().filter(|n| f(&n.kind)).count();
    serde_json::json!({
        "tasks": count(|k| matches!(k, NodeKind::Stage(_))),
        "gateways": count(|k| matches!(k, NodeKind::Decision)),
        "endEvents": count(|k| matches!(k, NodeKind::Won | NodeKind::Lost)),
        "startEvents": 1,
        "flows": def.edges.len() + 1,
        "nodes": def.nodes.len(),
        "edges": def.edges.len(),
    })
}

/// Writes `<key>.bpmn`, `<key>.mmd`, `<key>.drawio` and `<key>.json` (the expected counts) for
/// every template and has `tests/browser/formats.mjs` parse them with bpmn-moddle, render the
/// Mermaid in Chromium and check the draw.io structure.
#[test]
fn exports_pass_the_outside_parsers() {
    let root = workspace_root();
    let browser_dir = root.join("tests/browser");
    let missing = prerequisites_missing(&browser_dir);
    if !missing.is_empty() {
        let what = missing.join(", ");
        assert!(std::env::var_os("CI").is_none(), "the format check needs {what} (CI is set: not skipped)");
        eprintln!("outside-parser check skipped: missing {what}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for def in templates::all() {
        let lay = layout::layout(&def);
        let file = |ext: &str| dir.path().join(format!("{}.{ext}", stem(&def.key)));
        std::fs::write(file("bpmn"), bpmn::export(&def, &lay)).unwrap();
        std::fs::write(file("mmd"), mermaid::export(&def)).unwrap();
        std::fs::write(file("drawio"), drawio::export(&def, &lay)).unwrap();
        std::fs::write(file("json"), counts(&def).to_string()).unwrap();
    }
    let started = Instant::now();
    let mut child = Command::new("node")
        .arg(browser_dir.join("formats.mjs"))
        .arg(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out = std::thread::spawn(move || std::io::read_to_string(&mut out).unwrap_or_default());
    let err = std::thread::spawn(move || std::io::read_to_string(&mut err).unwrap_or_default());
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > Duration::from_secs(300) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let output = format!("{}{}", out.join().unwrap(), err.join().unwrap());
    match status {
        Some(s) if s.success() => {
            eprintln!("{output}");
            // What bpmn.io / Camunda Modeler would save after opening our file imports back the same.
            for def in templates::all() {
                let saved = std::fs::read_to_string(dir.path().join(format!("{}.saved.bpmn", stem(&def.key))))
                    .unwrap_or_else(|e| panic!("formats.mjs saved {}: {e}", def.key));
                match bpmn::import(&saved) {
                    Ok(back) => assert_eq!(back, def, "{} saved by bpmn-moddle", def.key),
                    Err(p) => panic!("{} saved by bpmn-moddle does not import: {p:#?}\n{saved}", def.key),
                }
            }
        }
        Some(s) => {
            // Keep the files for a look.
            let kept = dir.keep();
            panic!("formats.mjs failed ({s}); the exports are in {}\n{output}", kept.display())
        }
        None => panic!("formats.mjs did not finish within 5 minutes\n{output}"),
    }
}
