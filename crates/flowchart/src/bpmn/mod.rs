//! BPMN 2.0 exchange: [`export`] writes a process as BPMN 2.0 XML with diagram interchange
//! (BPMNDI), so bpmn.io and Camunda Modeler open it laid out; [`import`] reads the subset
//! salesflow can represent back, naming every element it cannot take instead of dropping it.
//!
//! Mapping: a stage is a `bpmn:task`, a decision a `bpmn:exclusiveGateway`, Won and Lost are
//! `bpmn:endEvent`s, an edge is a `bpmn:sequenceFlow` (its label the flow's name), and a
//! `bpmn:startEvent` leads to the entry stage. What BPMN has no place for (the stage's steps,
//! tools, exit criteria, probability and SLA; the process key and locale; the original ids)
//! travels in `bpmn:extensionElements` in the [`SF_NS`] namespace, so an exported process
//! imports back unchanged.
//!
//! XML ids are NCNames: a node `qualify` becomes `Node_qualify`, an edge `e1` becomes
//! `Flow_e1` (ids outside the domain's id alphabet get a numbered id instead; the original is
//! always kept in the extension).

mod export;
mod import;
mod xml;

pub use export::export;
pub use import::{MAX_BYTES, import};

/// BPMN 2.0 model namespace.
pub const BPMN_NS: &str = "http://www.omg.org/spec/BPMN/20100524/MODEL";
/// BPMN 2.0 diagram interchange namespace.
pub const BPMNDI_NS: &str = "http://www.omg.org/spec/BPMN/20100524/DI";
/// OMG diagram common (bounds).
pub const DC_NS: &str = "http://www.omg.org/spec/DD/20100524/DC";
/// OMG diagram interchange (waypoints).
pub const DI_NS: &str = "http://www.omg.org/spec/DD/20100524/DI";
/// salesflow's own extension elements.
pub const SF_NS: &str = "https://salesflow.example/schema/bpmn";

/// Something in a BPMN document salesflow cannot import, naming the element (its id, or its
/// tag when it has none) it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BpmnProblem {
    pub element: String,
    pub message: String,
}

impl BpmnProblem {
    fn new(element: impl Into<String>, message: impl Into<String>) -> Self {
        Self { element: element.into(), message: message.into() }
    }
}

impl std::fmt::Display for BpmnProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.element, self.message)
    }
}

/// The id alphabet of the domain (`valid_id` in `process.rs`): letters, digits, `_`, `-`.
fn plain_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

const NODE_PREFIX: &str = "Node_";
const FLOW_PREFIX: &str = "Flow_";
const START_ID: &str = "StartEvent_1";
const START_FLOW_ID: &str = "StartFlow_1";
