//! bpmn (to be written).
