//! mermaid (to be written).
