//! Escaping for the writer, and a small namespace-resolved element tree for the reader.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

/// Text content: `&`, `<`, `>` escaped; carriage returns as character references (a parser
/// would otherwise fold `\r\n` into `\n`); characters XML 1.0 cannot carry are left out.
pub(super) fn text(s: &str) -> String {
    escape(s, false)
}

/// An attribute value (double-quoted): also `"` and `'`, and tabs and line breaks as character
/// references, which attribute-value normalisation would otherwise turn into spaces.
pub(super) fn attr(s: &str) -> String {
    escape(s, true)
}

fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' | '\t' => out.push(c),
            c if allowed(c) => out.push(c),
            _ => {}
        }
    }
    out
}

/// XML 1.0 `Char`.
fn allowed(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// One element: its namespace URI (None when unbound), local name, attributes and children.
#[derive(Debug, Default)]
pub(super) struct El {
    pub ns: Option<String>,
    pub local: String,
    /// `(namespace URI, local name, value)`; unprefixed attributes have no namespace.
    pub attrs: Vec<(Option<String>, String, String)>,
    pub children: Vec<El>,
    /// The element's own text (character data and CDATA directly inside it), concatenated.
    pub text: String,
}

impl El {
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.ns.as_deref() == Some(ns) && self.local == local
    }

    /// An unprefixed attribute.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(ns, n, _)| ns.is_none() && n == name).map(|(_, _, v)| v.as_str())
    }

    pub fn id(&self) -> Option<&str> {
        self.attr("id")
    }

    /// The element's id, or its tag when it has none: what a problem names.
    pub fn label(&self) -> String {
        self.id().map(str::to_string).unwrap_or_else(|| self.local.clone())
    }

    pub fn children<'a>(&'a self, ns: &'a str, local: &'a str) -> impl Iterator<Item = &'a El> + 'a {
        self.children.iter().filter(move |c| c.is(ns, local))
    }
}

/// BPMN nests a handful of levels; a deeper document is refused before it costs anything.
const MAX_DEPTH: usize = 100;

/// Parses a whole document into its root element.
pub(super) fn parse(xml: &str) -> Result<El, String> {
    let mut reader = NsReader::from_str(xml);
    reader.config_mut().trim_text(false);
    reader.config_mut().expand_empty_elements = false;
    let mut stack: Vec<El> = Vec::new();
    let mut root: Option<El> = None;
    loop {
        let at = reader.buffer_position();
        let (resolved, event) = reader.read_resolved_event().map_err(|e| format!("at byte {at}: {e}"))?;
        let ns = namespace(&resolved).map_err(|e| format!("at byte {at}: {e}"))?;
        match event {
            Event::Start(start) | Event::Empty(start) if root.is_some() => {
                let _ = start;
                return Err(format!("at byte {at}: content after the root element"));
            }
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("at byte {at}: elements nested deeper than {MAX_DEPTH} levels"));
                }
                let el = element(&reader, ns, &start).map_err(|e| format!("at byte {at}: {e}"))?;
                stack.push(el);
            }
            Event::Empty(start) => {
                let el = element(&reader, ns, &start).map_err(|e| format!("at byte {at}: {e}"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::End(_) => {
                let el = stack.pop().ok_or_else(|| format!("at byte {at}: unexpected end tag"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                let s = t.unescape().map_err(|e| format!("at byte {at}: {e}"))?;
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&s),
                    None if s.trim().is_empty() => {}
                    None => return Err(format!("at byte {at}: text outside the root element")),
                }
            }
            Event::CData(c) => {
                let s = c.decode().map_err(|e| format!("at byte {at}: {e}"))?;
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&s),
                    None => return Err(format!("at byte {at}: CDATA outside the root element")),
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(format!("the document ends inside <{}>", stack.last().map(|e| e.local.as_str()).unwrap_or("")));
    }
    root.ok_or_else(|| "the document has no root element".to_string())
}

fn element(reader: &NsReader<&[u8]>, ns: Option<String>, start: &BytesStart) -> Result<El, String> {
    let local = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    for a in start.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        let key = a.key;
        if key.as_ref() == b"xmlns" || key.as_ref().starts_with(b"xmlns:") {
            continue;
        }
        let (res, name) = reader.resolve_attribute(key);
        let value = a.unescape_value().map_err(|e| e.to_string())?.into_owned();
        attrs.push((namespace(&res)?, String::from_utf8_lossy(name.as_ref()).into_owned(), value));
    }
    Ok(El { ns, local, attrs, children: Vec::new(), text: String::new() })
}

fn namespace(r: &ResolveResult) -> Result<Option<String>, String> {
    match r {
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Bound(ns) => Ok(Some(String::from_utf8_lossy(ns.as_ref()).into_owned())),
        ResolveResult::Unknown(p) => Err(format!("undeclared namespace prefix `{}`", String::from_utf8_lossy(p))),
    }
}
