//! What the CSV and XES readers share: their report and their error.

use crate::time::TimestampError;

/// What a reader kept and what it left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadReport {
    /// Events read into the log.
    pub events: u64,
    /// Rows or events without a case, an activity or a timestamp: left out, as pm4py's
    /// `format_dataframe` drops them.
    pub skipped: u64,
}

#[derive(Debug)]
pub enum ReadError {
    /// A required column is not in the header.
    MissingColumn(String),
    /// A timestamp that is present but cannot be read; `at` is the CSV line or XES byte offset.
    Timestamp {
        at: u64,
        error: TimestampError,
    },
    Csv(::csv::Error),
    Xml {
        at: u64,
        message: String,
    },
    Io(std::io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::MissingColumn(c) => write!(f, "the header has no column {c:?}"),
            ReadError::Timestamp { at, error } => write!(f, "at {at}: {error}"),
            ReadError::Csv(e) => write!(f, "CSV: {e}"),
            ReadError::Xml { at, message } => write!(f, "XES at byte {at}: {message}"),
            ReadError::Io(e) => write!(f, "reading: {e}"),
        }
    }
}

impl std::error::Error for ReadError {}

impl From<::csv::Error> for ReadError {
    fn from(e: ::csv::Error) -> Self {
        ReadError::Csv(e)
    }
}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> Self {
        ReadError::Io(e)
    }
}
