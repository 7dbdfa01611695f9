//! XES event logs (IEEE 1849), plain or gzipped, from any reader.
//!
//! Read: `<trace>` with its `concept:name` (the case id) and its other attributes (case
//! attributes, as text); `<event>` with `concept:name` (activity), `time:timestamp` (a `<date>`,
//! with its time zone) and `org:resource`. Attributes nested inside attributes (lists,
//! containers) and the `<global>` defaults are skipped, as are other event attributes. Events
//! without an activity or a timestamp, and traces without a case id, are counted as skipped.

use std::io::{BufRead, BufReader, Read};

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::read::{ReadError, ReadReport};
use crate::time::parse_timestamp;
use crate::{EventLog, LogBuilder};

/// Reads XES; gzip is recognised by its magic bytes, so `.xes` and `.xes.gz` both work.
pub fn read_xes(mut reader: impl BufRead) -> Result<(EventLog, ReadReport), ReadError> {
    let head = reader.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        return read_plain(BufReader::new(flate2::bufread::MultiGzDecoder::new(reader)));
    }
    read_plain(reader)
}

/// Reads gzipped XES.
pub fn read_xes_gz(reader: impl Read) -> Result<(EventLog, ReadReport), ReadError> {
    read_plain(BufReader::new(flate2::read::MultiGzDecoder::new(reader)))
}

#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    Log,
    Trace,
    Event,
    /// Anything whose children are not ours: `<global>`, `<extension>`, nested attributes.
    Skip,
}

#[derive(Default)]
struct TraceBuf {
    case: Option<String>,
    attributes: Vec<(String, String)>,
    events: Vec<(String, i64, Option<String>)>,
}

#[derive(Default)]
struct EventBuf {
    activity: Option<String>,
    timestamp: Option<i64>,
    resource: Option<String>,
}

const ATTRIBUTE_TAGS: [&[u8]; 8] = [b"string", b"date", b"int", b"float", b"boolean", b"id", b"list", b"container"];

fn read_plain(reader: impl BufRead) -> Result<(EventLog, ReadReport), ReadError> {
    let mut xml = Reader::from_reader(reader);
    let mut buf = Vec::new();
    let mut stack: Vec<Ctx> = Vec::new();
    let mut trace = TraceBuf::default();
    let mut event = EventBuf::default();
    let mut b = LogBuilder::new();
    let mut report = ReadReport::default();
    loop {
        let at = xml.buffer_position();
        let ev = xml.read_event_into(&mut buf).map_err(|e| ReadError::Xml { at, message: e.to_string() })?;
        let (start, has_children) = match &ev {
            Event::Start(e) => (Some(e), true),
            Event::Empty(e) => (Some(e), false),
            Event::End(_) => {
                match stack.pop() {
                    Some(Ctx::Event) => match (event.activity.take(), event.timestamp.take()) {
                        (Some(a), Some(t)) => trace.events.push((a, t, event.resource.take())),
                        _ => report.skipped += 1,
                    },
                    Some(Ctx::Trace) => flush(&mut b, std::mem::take(&mut trace), &mut report),
                    _ => {}
                }
                buf.clear();
                continue;
            }
            Event::Eof => break,
            _ => (None, false),
        };
        if let Some(e) = start {
            let ctx = element(e, stack.last().copied(), &mut trace, &mut event, at)?;
            if ctx == Ctx::Trace {
                trace = TraceBuf::default();
            } else if ctx == Ctx::Event {
                event = EventBuf::default();
            }
            if has_children {
                stack.push(ctx);
            } else if ctx == Ctx::Event {
                // `<event/>` has no attributes: nothing to keep.
                report.skipped += 1;
            }
        }
        buf.clear();
    }
    Ok((b.build(), report))
}

/// Handles an opening tag; returns the context its children are read in.
fn element(
    e: &BytesStart,
    parent: Option<Ctx>,
    trace: &mut TraceBuf,
    event: &mut EventBuf,
    at: u64,
) -> Result<Ctx, ReadError> {
    let name = e.local_name();
    let name = name.as_ref();
    match (parent, name) {
        (None, b"log") => return Ok(Ctx::Log),
        (Some(Ctx::Log), b"trace") => return Ok(Ctx::Trace),
        (Some(Ctx::Trace), b"event") => return Ok(Ctx::Event),
        _ => {}
    }
    let owner = match parent {
        Some(p @ (Ctx::Trace | Ctx::Event)) if ATTRIBUTE_TAGS.contains(&name) => p,
        _ => return Ok(Ctx::Skip),
    };
    let (mut key, mut value) = (None, None);
    for attr in e.attributes() {
        let attr = attr.map_err(|err| ReadError::Xml { at, message: err.to_string() })?;
        let text = || attr.unescape_value().map_err(|err| ReadError::Xml { at, message: err.to_string() });
        match attr.key.as_ref() {
            b"key" => key = Some(text()?.into_owned()),
            b"value" => value = Some(text()?.into_owned()),
            _ => {}
        }
    }
    if let (Some(key), Some(value)) = (key, value) {
        match (owner, key.as_str()) {
            (Ctx::Event, "concept:name") => event.activity = Some(value),
            (Ctx::Event, "org:resource") => event.resource = Some(value),
            (Ctx::Event, "time:timestamp") if name == b"date" => {
                event.timestamp = Some(parse_timestamp(&value).map_err(|error| ReadError::Timestamp { at, error })?);
            }
            (Ctx::Trace, "concept:name") => trace.case = Some(value),
            (Ctx::Trace, _) => trace.attributes.push((key, value)),
            _ => {}
        }
    }
    // Whatever an attribute element contains is nested attributes, not ours.
    Ok(Ctx::Skip)
}

fn flush(b: &mut LogBuilder, trace: TraceBuf, report: &mut ReadReport) {
    let Some(case) = trace.case else {
        report.skipped += trace.events.len() as u64;
        return;
    };
    if trace.events.is_empty() {
        return;
    }
    for (activity, ts, resource) in &trace.events {
        b.push(case.as_str(), activity, *ts, resource.as_deref());
    }
    for (k, v) in &trace.attributes {
        b.case_attribute(case.as_str(), k, v);
    }
    report.events += trace.events.len() as u64;
}

#[cfg(test)]
mod tests {
    use super::*;

    const XES: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0" xmlns="http://www.xes-standard.org/">
  <global scope="event"><string key="concept:name" value="ignored"/></global>
  <trace>
    <string key="concept:name" value="c1"/>
    <string key="region" value="East &amp; South"/>
    <event>
      <string key="concept:name" value="register"/>
      <string key="org:resource" value="Pete"/>
      <date key="time:timestamp" value="2010-12-30T14:32:00.000+01:00"/>
      <list key="tags"><string key="concept:name" value="nested, not the activity"/></list>
    </event>
    <event>
      <date key="time:timestamp" value="2010-12-30T15:32:00.000+01:00"/>
      <string key="concept:name" value="decide"/>
    </event>
    <event><string key="concept:name" value="no time"/></event>
  </trace>
  <trace><event><string key="concept:name" value="x"/><date key="time:timestamp" value="2010-12-30T14:32:00Z"/></event></trace>
</log>"#;

    #[test]
    fn reads_traces_events_and_case_attributes() {
        let (log, report) = read_xes(XES.as_bytes()).unwrap();
        assert_eq!(report, ReadReport { events: 2, skipped: 2 });
        assert_eq!((log.cases(), log.case_id(0)), (1, "c1"));
        let names: Vec<_> = log.case_activities(0).iter().map(|&a| log.activity_name(a)).collect();
        assert_eq!(names, ["register", "decide"]);
        assert_eq!(log.case_timestamps(0)[1] - log.case_timestamps(0)[0], 3_600_000_000);
        assert_eq!(log.case_attribute("region").unwrap().get(0), Some("East & South"));
        assert_eq!(log.resources().name(log.resource_column()[0]), "Pete");
    }

    #[test]
    fn gzip_is_detected() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(XES.as_bytes()).unwrap();
        let bytes = gz.finish().unwrap();
        assert_eq!(read_xes(bytes.as_slice()).unwrap().0.events(), 2);
        assert_eq!(read_xes_gz(bytes.as_slice()).unwrap().0.events(), 2);
    }

    #[test]
    fn bad_timestamp_is_reported() {
        let bad = XES.replace("2010-12-30T15:32:00.000+01:00", "half past three");
        let err = read_xes(bad.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("not a timestamp: \"half past three\""), "{err}");
    }
}
