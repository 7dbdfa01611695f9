//! Writing XES (IEEE 1849): the header, one trace at a time, the footer — as text, so a
//! server can send a large log in pieces. Timestamps are written in UTC with microseconds.

use std::fmt::Write;

use chrono::{DateTime, SecondsFormat};

use crate::EventLog;

/// Everything before the first trace: the standard extensions and classifier pm4py and ProM
/// expect.
pub const HEADER: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
    "<log xes.version=\"1849.2016\" xes.features=\"nested-attributes\" xmlns=\"http://www.xes-standard.org/\">\n",
    "<extension name=\"Concept\" prefix=\"concept\" uri=\"http://www.xes-standard.org/concept.xesext\"/>\n",
    "<extension name=\"Time\" prefix=\"time\" uri=\"http://www.xes-standard.org/time.xesext\"/>\n",
    "<extension name=\"Organizational\" prefix=\"org\" uri=\"http://www.xes-standard.org/org.xesext\"/>\n",
    "<classifier name=\"Activity\" keys=\"concept:name\"/>\n",
);

pub const FOOTER: &str = "</log>\n";

/// Text safe inside a double-quoted XML attribute; characters XML 1.0 cannot carry are dropped.
fn escape(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
}

fn string(out: &mut String, key: &str, value: &str) {
    out.push_str("<string key=\"");
    escape(out, key);
    out.push_str("\" value=\"");
    escape(out, value);
    out.push_str("\"/>");
}

/// Appends one trace: its case id, its case attributes (as strings) and its events
/// `(activity, microseconds since the epoch, resource)` in order.
pub fn write_trace<'a>(
    out: &mut String,
    case: &str,
    attributes: &[(&str, &str)],
    events: impl IntoIterator<Item = (&'a str, i64, Option<&'a str>)>,
) {
    out.push_str("<trace>");
    string(out, "concept:name", case);
    for (k, v) in attributes {
        string(out, k, v);
    }
    out.push('\n');
    for (activity, at, resource) in events {
        out.push_str("<event>");
        string(out, "concept:name", activity);
        if let Some(r) = resource {
            string(out, "org:resource", r);
        }
        let at = DateTime::from_timestamp_micros(at).unwrap_or_default();
        let _ = write!(
            out,
            "<date key=\"time:timestamp\" value=\"{}\"/>",
            at.to_rfc3339_opts(SecondsFormat::Micros, false)
        );
        out.push_str("</event>\n");
    }
    out.push_str("</trace>\n");
}

/// A whole log as XES (case attributes included).
pub fn write_log(log: &EventLog) -> String {
    let mut out = String::from(HEADER);
    for c in 0..log.cases() {
        let attrs: Vec<(&str, &str)> =
            log.case_attributes().iter().filter_map(|a| Some((a.name.as_str(), a.get(c)?))).collect();
        let resources = log.resources();
        let events = log.case_range(c).map(|i| {
            let r = log.resource_column()[i];
            (
                log.activity_name(log.activity_column()[i]),
                log.timestamp_column()[i],
                (r != crate::NO_RESOURCE).then(|| resources.name(r)),
            )
        });
        write_trace(&mut out, log.case_id(c), &attrs, events);
    }
    out.push_str(FOOTER);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_xes_reads_back() {
        let mut b = crate::LogBuilder::new();
        b.push("a&1", "报价 <v2>", 1_000_000, Some("张伟 \"Z\""));
        b.push("a&1", "won", 86_401_000_123, None);
        b.push("2", "lead", 5, Some("x"));
        b.case_attribute("a&1", "channel", "trade_show\n");
        let log = b.build();
        let text = write_log(&log);
        assert!(text.contains("报价 &lt;v2&gt;") && text.contains("1970-01-02T00:00:01.000123+00:00"));
        let (back, report) = crate::xes::read_xes(text.as_bytes()).unwrap();
        assert_eq!(report.skipped, 0);
        assert_eq!((back.cases(), back.events()), (2, 3));
        assert_eq!(back.case_id(0), "a&1");
        assert_eq!(back.activity_name(back.activity_column()[0]), "报价 <v2>");
        assert_eq!(back.timestamp_column(), log.timestamp_column());
        assert_eq!(back.case_attribute("channel").unwrap().get(0), Some("trade_show\n"));
    }
}
