//! CSV event logs with pm4py's column names: `case:concept:name`, `concept:name`,
//! `time:timestamp`, optional `org:resource`, and `case:*` columns as case attributes. Other
//! columns (event attributes, an unnamed index) are ignored.

use std::io::Read;

use crate::read::{ReadError, ReadReport};
use crate::time::parse_timestamp;
use crate::{EventLog, LogBuilder};

/// Which columns hold what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvColumns {
    pub case: String,
    pub activity: String,
    pub timestamp: String,
    pub resource: Option<String>,
    /// Columns starting with this (other than `case`) become case attributes, prefix removed.
    pub case_attribute_prefix: String,
}

impl Default for CsvColumns {
    fn default() -> Self {
        Self {
            case: "case:concept:name".into(),
            activity: "concept:name".into(),
            timestamp: "time:timestamp".into(),
            resource: Some("org:resource".into()),
            case_attribute_prefix: "case:".into(),
        }
    }
}

/// Reads a pm4py-style CSV (comma-separated, header row) from any reader.
pub fn read_csv(reader: impl Read) -> Result<(EventLog, ReadReport), ReadError> {
    read_csv_with(reader, &CsvColumns::default())
}

pub fn read_csv_with(reader: impl Read, cols: &CsvColumns) -> Result<(EventLog, ReadReport), ReadError> {
    let mut rdr = ::csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(reader);
    let headers = rdr.headers()?.clone();
    let find =
        |name: &str| headers.iter().position(|h| h == name).ok_or_else(|| ReadError::MissingColumn(name.to_string()));
    let (case_col, act_col, ts_col) = (find(&cols.case)?, find(&cols.activity)?, find(&cols.timestamp)?);
    // The resource column is optional even when named: logs without resources are common.
    let res_col = cols.resource.as_deref().and_then(|r| headers.iter().position(|h| h == r));
    let attr_cols: Vec<(usize, String)> = headers
        .iter()
        .enumerate()
        .filter(|&(i, h)| i != case_col && h.starts_with(&cols.case_attribute_prefix))
        .map(|(i, h)| (i, h[cols.case_attribute_prefix.len()..].to_string()))
        .collect();

    let mut b = LogBuilder::new();
    let mut report = ReadReport::default();
    let mut record = ::csv::StringRecord::new();
    while rdr.read_record(&mut record)? {
        let (case, activity, ts) = (&record[case_col], &record[act_col], &record[ts_col]);
        if case.is_empty() || activity.is_empty() || ts.is_empty() {
            report.skipped += 1;
            continue;
        }
        let line = record.position().map_or(0, |p| p.line());
        let ts = parse_timestamp(ts).map_err(|error| ReadError::Timestamp { at: line, error })?;
        let resource = res_col.map(|i| &record[i]).filter(|r| !r.is_empty());
        b.push(case, activity, ts, resource);
        for (i, name) in &attr_cols {
            let v = &record[*i];
            if !v.is_empty() {
                b.case_attribute(case, name, v);
            }
        }
        report.events += 1;
    }
    Ok((b.build(), report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pm4py_columns_and_case_attributes() {
        let text = "\
,concept:name,org:resource,time:timestamp,case:concept:name,case:channel
0,register,Pete,2010-12-30 14:32:00+01:00,3,web
1,decide,,2010-12-30 15:32:00+02:00,3,web
2,register,Mike,2010-12-30 10:00:00Z,4,
3,,Mike,2010-12-30 10:00:00Z,4,
";
        let (log, report) = read_csv(text.as_bytes()).unwrap();
        assert_eq!(report, ReadReport { events: 3, skipped: 1 });
        assert_eq!((log.cases(), log.events()), (2, 3));
        // 15:32+02:00 is 14:32+01:00: zero duration, computed on instants.
        assert_eq!(log.case_timestamps(0)[1] - log.case_timestamps(0)[0], 0);
        let channel = log.case_attribute("channel").unwrap();
        assert_eq!((channel.get(0), channel.get(1)), (Some("web"), None));
        assert_eq!(log.resource_column()[1], crate::NO_RESOURCE);
    }

    #[test]
    fn clear_errors() {
        let err = read_csv("a,b\n1,2\n".as_bytes()).unwrap_err();
        assert_eq!(err.to_string(), "the header has no column \"case:concept:name\"");
        let bad = "case:concept:name,concept:name,time:timestamp\n1,a,2020-01-01\n1,b,soon\n";
        let err = read_csv(bad.as_bytes()).unwrap_err();
        assert!(err.to_string().starts_with("at 3: not a timestamp: \"soon\""), "{err}");
    }
}
