//! drawio (to be written).
