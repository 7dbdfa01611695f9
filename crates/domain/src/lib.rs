//! The sales process as data. No I/O lives here: the flowchart (`process`), the exit-criteria
//! check (`gate`), the stage move (`stage_move`), the CRM records, and the `Store` port that
//! the storage adapters implement.

pub mod access;
pub mod clock;
pub mod currency;
pub mod deal_update;
pub mod error;
pub mod gate;
pub mod guard;
pub mod history;
pub mod ids;
pub mod migration;
pub mod normalize;
pub mod process;
pub mod records;
pub mod selling;
pub mod serde_util;
pub mod stage_move;
pub mod store;
pub mod templates;

pub use error::{Error, FieldError};
