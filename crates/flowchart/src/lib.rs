//! The process flowchart as pictures and exchange files. Pure functions over a
//! `ProcessDefinition`: [`layout`] places nodes where the editor left them (the definition's
//! `positions`, when every node has one) or else left to right in layers; [`svg`] draws that
//! layout (with an overlay of per-node and per-edge numbers and colours for analytics);
//! [`mermaid`], [`drawio`] and [`bpmn`] write (and, for BPMN, read) the exchange formats.

pub mod bpmn;
pub mod drawio;
pub mod layout;
pub mod mermaid;
pub mod png;
pub mod svg;
mod text;

pub use layout::{Layout, layout};
