//! The flowchart as a standalone SVG: no scripts, no external references, no event handlers,
//! styling by presentation attributes only (pages inline it under a CSP without inline styles).
//! An [`Overlay`] adds per-node fills and captions and per-edge widths and captions (the
//! analytics heat map); the default overlay draws the plain process.

use std::collections::BTreeMap;
use std::fmt::Write;

use salesflow_domain::process::{NodeKind, ProcessDefinition};

use crate::layout::{self, GOAL_FONT, GOAL_LINE, LABEL_FONT, LABEL_LINE, Layout, NAME_FONT, NAME_LINE, Point};
use crate::text::{self, xml_escape as esc};

/// Font stack: Chinese fonts of every platform first, then system UI fonts.
pub const FONT_FAMILY: &str = "'PingFang SC','Hiragino Sans GB','Microsoft YaHei','Noto Sans CJK SC','Source Han Sans SC','WenQuanYi Micro Hei',system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overlay {
    /// By node id.
    pub nodes: BTreeMap<String, NodeOverlay>,
    /// By edge id.
    pub edges: BTreeMap<String, EdgeOverlay>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeOverlay {
    /// A CSS colour `#rgb` or `#rrggbb`; anything else is ignored.
    pub fill: Option<String>,
    /// A line drawn above the box, e.g. "转化 62% · 中位 4.5 天".
    pub caption: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct EdgeOverlay {
    /// Stroke width in pixels (clamped to 0.5–16).
    pub width: Option<f64>,
    /// A line drawn under the edge's label.
    pub caption: Option<String>,
}

/// `#rgb` or `#rrggbb`, else `None`.
pub fn valid_colour(c: &str) -> Option<&str> {
    let hex = c.strip_prefix('#')?;
    ((hex.len() == 3 || hex.len() == 6) && hex.chars().all(|c| c.is_ascii_hexdigit())).then_some(c)
}

const EDGE: &str = "#64748b";
const LOOP: &str = "#7c3aed";
const TO_LOST: &str = "#e29a9a";
const TEXT: &str = "#1e293b";
const MUTED: &str = "#64748b";

fn n(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r == r.trunc() { format!("{}", r as i64) } else { format!("{r:.1}") }
}

/// Draws `def` as laid out in `layout`, with `overlay` on top.
pub fn render(def: &ProcessDefinition, layout: &Layout, overlay: &Overlay) -> String {
    let mut s = String::with_capacity(16 * 1024);
    let (w, h) = (layout.width, layout.height);
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="flowchart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{title}" font-family="{FONT_FAMILY}" font-size="12"><title>{title}</title>"#,
        w = n(w),
        h = n(h),
        title = esc(&def.name),
    );
    let _ = write!(s, r##"<rect width="{}" height="{}" fill="#ffffff"/>"##, n(w), n(h));

    // Edges first so boxes cover their ends; labels after all lines so no line crosses a label.
    let kind_of = |id: &str| def.node(id).map(|n| &n.kind);
    let mut labels = String::new();
    for e in &def.edges {
        let Some(path) = layout.edges.get(&e.id) else { continue };
        if path.points.len() < 2 {
            continue;
        }
        let ov = overlay.edges.get(&e.id);
        let to_lost = matches!(kind_of(&e.to), Some(NodeKind::Lost));
        let colour = if path.back {
            LOOP
        } else if to_lost {
            TO_LOST
        } else {
            EDGE
        };
        let width = ov.and_then(|o| o.width).filter(|w| w.is_finite()).map(|w| w.clamp(0.5, 16.0)).unwrap_or(1.5);
        // The line stops where the arrowhead starts, so a wide line does not poke past its tip.
        let head = 4.0 + width * 1.5;
        let (a, b) = (path.points[path.points.len() - 2], path.points[path.points.len() - 1]);
        let mut line = path.points.clone();
        let seg = ((b.x - a.x).powi(2) + (b.y - a.y).powi(2)).sqrt();
        if seg > head * 1.6 {
            let k = (seg - head * 1.5) / seg;
            let last = line.len() - 1;
            line[last] = Point { x: a.x + (b.x - a.x) * k, y: a.y + (b.y - a.y) * k };
        }
        let pts: Vec<String> = line.iter().map(|p| format!("{},{}", n(p.x), n(p.y))).collect();
        let _ = write!(s, r#"<g data-edge="{}">"#, esc(&e.id));
        let dash = if path.back { r#" stroke-dasharray="6 4""# } else { "" };
        let _ = write!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="{}" stroke-linejoin="round"{dash}/>"#,
            pts.join(" "),
            n(width)
        );
        let _ = write!(s, r#"<polygon points="{}" fill="{colour}"/>"#, arrow(a, b, head));
        s.push_str("</g>");

        let (lines, lw, lh) = layout::label_lines(&e.label);
        let caption = ov.and_then(|o| o.caption.as_deref()).filter(|c| !c.trim().is_empty());
        let cap_w = caption.map(|c| text::width(c, LABEL_FONT - 1.0, false)).unwrap_or(0.0);
        let block_h = lh + if caption.is_some() { LABEL_LINE } else { 0.0 };
        let block_w = lw.max(cap_w);
        let c = path.label_at;
        let top = c.y - lh / 2.0;
        let _ = write!(
            labels,
            r##"<g data-edge-label="{}"><rect x="{}" y="{}" width="{}" height="{}" rx="3" fill="#ffffff" fill-opacity="0.92"/>"##,
            esc(&e.id),
            n(c.x - block_w / 2.0 - 3.0),
            n(top - 1.0),
            n(block_w + 6.0),
            n(block_h + 2.0)
        );
        let label_colour = if path.back {
            LOOP
        } else if to_lost {
            "#b45353"
        } else {
            MUTED
        };
        for (i, l) in lines.iter().enumerate() {
            let _ = write!(
                labels,
                r#"<text x="{}" y="{}" text-anchor="middle" font-size="{}" fill="{label_colour}">{}</text>"#,
                n(c.x),
                n(top + LABEL_LINE * (i as f64 + 0.78)),
                n(LABEL_FONT),
                esc(l)
            );
        }
        if let Some(cap) = caption {
            let _ = write!(
                labels,
                r#"<text x="{}" y="{}" text-anchor="middle" font-size="{}" font-weight="600" fill="{TEXT}">{}</text>"#,
                n(c.x),
                n(top + lh + LABEL_LINE * 0.78),
                n(LABEL_FONT - 1.0),
                esc(cap)
            );
        }
        labels.push_str("</g>");
    }
    s.push_str(&labels);

    for node in &def.nodes {
        let Some(r) = layout.nodes.get(&node.id) else { continue };
        let ov = overlay.nodes.get(&node.id);
        let fill = ov.and_then(|o| o.fill.as_deref()).and_then(valid_colour);
        let (bt, _, _) = layout::box_text(node);
        let dark = fill.is_some_and(is_dark);
        let (name_colour, goal_colour) = if dark { ("#ffffff", "#f1f5f9") } else { (TEXT, MUTED) };
        let _ = write!(s, r#"<g data-node="{}">"#, esc(&node.id));
        let c = r.center();
        match &node.kind {
            NodeKind::Stage(_) => {
                let _ = write!(
                    s,
                    r##"<rect x="{}" y="{}" width="{}" height="{}" rx="8" fill="{}" stroke="#3b82f6" stroke-width="1.5"/>"##,
                    n(r.x),
                    n(r.y),
                    n(r.width),
                    n(r.height),
                    fill.unwrap_or("#eff6ff")
                );
                let mut y = r.y + 12.0 + NAME_LINE * 0.78;
                for l in &bt.name {
                    let _ = write!(
                        s,
                        r#"<text x="{}" y="{}" text-anchor="middle" font-size="{}" font-weight="700" fill="{name_colour}">{}</text>"#,
                        n(c.x),
                        n(y),
                        n(NAME_FONT),
                        esc(l)
                    );
                    y += NAME_LINE;
                }
                y += 4.0 - NAME_LINE + GOAL_LINE;
                for l in &bt.goal {
                    let _ = write!(
                        s,
                        r#"<text x="{}" y="{}" text-anchor="middle" font-size="{}" fill="{goal_colour}">{}</text>"#,
                        n(c.x),
                        n(y),
                        n(GOAL_FONT),
                        esc(l)
                    );
                    y += GOAL_LINE;
                }
            }
            NodeKind::Decision => {
                let _ = write!(
                    s,
                    r##"<polygon points="{},{} {},{} {},{} {},{}" fill="{}" stroke="#d97706" stroke-width="1.5"/>"##,
                    n(c.x),
                    n(r.y),
                    n(r.x + r.width),
                    n(c.y),
                    n(c.x),
                    n(r.y + r.height),
                    n(r.x),
                    n(c.y),
                    fill.unwrap_or("#fef3c7")
                );
                centred_lines(&mut s, &bt.name, c, if dark { "#ffffff" } else { "#92400e" });
            }
            NodeKind::Won => {
                let _ = write!(
                    s,
                    r##"<rect x="{}" y="{}" width="{}" height="{}" rx="{}" fill="{}" stroke="#16a34a" stroke-width="2"/>"##,
                    n(r.x),
                    n(r.y),
                    n(r.width),
                    n(r.height),
                    n(r.height / 2.0),
                    fill.unwrap_or("#dcfce7")
                );
                centred_lines(&mut s, &bt.name, c, if dark { "#ffffff" } else { "#166534" });
            }
            NodeKind::Lost => {
                let _ = write!(
                    s,
                    r##"<rect x="{}" y="{}" width="{}" height="{}" rx="4" fill="{}" stroke="#dc2626" stroke-width="1.5"/><rect x="{}" y="{}" width="{}" height="{}" rx="2" fill="none" stroke="#dc2626" stroke-width="1"/>"##,
                    n(r.x),
                    n(r.y),
                    n(r.width),
                    n(r.height),
                    fill.unwrap_or("#fee2e2"),
                    n(r.x + 3.5),
                    n(r.y + 3.5),
                    n(r.width - 7.0),
                    n(r.height - 7.0),
                );
                centred_lines(&mut s, &bt.name, c, if dark { "#ffffff" } else { "#991b1b" });
            }
        }
        if let Some(cap) = ov.and_then(|o| o.caption.as_deref()).filter(|c| !c.trim().is_empty()) {
            let _ = write!(
                s,
                r#"<text x="{}" y="{}" text-anchor="middle" font-size="11" font-weight="600" fill="{TEXT}">{}</text>"#,
                n(c.x),
                n(r.y - 6.0),
                esc(cap)
            );
        }
        s.push_str("</g>");
    }
    s.push_str("</svg>");
    s
}

/// Whether a `#rgb`/`#rrggbb` colour is dark enough to need light text on it.
fn is_dark(colour: &str) -> bool {
    let hex = colour.trim_start_matches('#');
    let channel = |i: usize| -> f64 {
        let v = if hex.len() == 3 {
            u8::from_str_radix(&hex[i..i + 1].repeat(2), 16)
        } else {
            u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
        };
        f64::from(v.unwrap_or(255)) / 255.0
    };
    // Relative luminance (sRGB, roughly linearised).
    let lum = 0.2126 * channel(0).powf(2.2) + 0.7152 * channel(1).powf(2.2) + 0.0722 * channel(2).powf(2.2);
    lum < 0.22
}

fn centred_lines(s: &mut String, lines: &[String], c: Point, colour: &str) {
    let top = c.y - lines.len() as f64 * NAME_LINE / 2.0;
    for (i, l) in lines.iter().enumerate() {
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle" font-size="{}" font-weight="700" fill="{colour}">{}</text>"#,
            n(c.x),
            n(top + NAME_LINE * (i as f64 + 0.74)),
            n(NAME_FONT),
            esc(l)
        );
    }
}

/// An arrowhead at `b` pointing along a→b.
fn arrow(a: Point, b: Point, size: f64) -> String {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let len = (dx * dx + dy * dy).sqrt().max(0.001);
    let (ux, uy) = (dx / len, dy / len);
    let base = Point { x: b.x - ux * size * 1.6, y: b.y - uy * size * 1.6 };
    let (px, py) = (-uy * size, ux * size);
    format!("{},{} {},{} {},{}", n(b.x), n(b.y), n(base.x + px), n(base.y + py), n(base.x - px), n(base.y - py))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::layout;
    use salesflow_domain::templates;

    #[test]
    fn every_node_and_edge_is_findable() {
        for def in templates::all() {
            let svg = render(&def, &layout(&def), &Overlay::default());
            assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
            for node in &def.nodes {
                assert!(svg.contains(&format!("<g data-node=\"{}\">", node.id)), "{}", node.id);
            }
            for e in &def.edges {
                assert!(svg.contains(&format!("<g data-edge=\"{}\">", e.id)), "{}", e.id);
            }
            for bad in ["<script", "href", "style=", "url("] {
                assert!(!svg.contains(bad), "{} contains {bad}", def.key);
            }
            // No event handler attributes (` onload=` and the like).
            for (at, _) in svg.match_indices(" on") {
                let rest = &svg[at + 3..];
                let word = rest.chars().take_while(|c| c.is_ascii_alphabetic()).count();
                assert!(!rest[word..].starts_with('='), "{}: event handler at {at}", def.key);
            }
            // Well-formed XML.
            let mut reader = quick_xml::Reader::from_str(&svg);
            loop {
                match reader.read_event() {
                    Ok(quick_xml::events::Event::Eof) => break,
                    Ok(_) => {}
                    Err(e) => panic!("{}: {e}", def.key),
                }
            }
        }
    }

    #[test]
    fn markup_in_names_is_text() {
        let mut def = templates::get("seed-five-stage.en").unwrap();
        def.nodes[0].name = "<script>alert(1)</script>".into();
        def.edges[0].label = "\"q\" & <b>".into();
        def.name = "x\" onload=\"alert(1)".into();
        let svg = render(&def, &layout(&def), &Overlay::default());
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;"));
        assert!(svg.contains("&quot;q&quot; &amp; &lt;b&gt;"));
        assert!(!svg.contains("\" onload=\""));
    }

    #[test]
    fn overlay_fills_are_validated_and_captions_drawn() {
        let def = templates::get("seed-five-stage.zh-CN").unwrap();
        let l = layout(&def);
        let mut ov = Overlay::default();
        ov.nodes.insert(
            "negotiation".into(),
            NodeOverlay { fill: Some("#fa0".into()), caption: Some("转化 62% · 中位 4.5 天".into()) },
        );
        ov.nodes.insert("signing".into(), NodeOverlay { fill: Some("red;stroke:url(x)".into()), caption: None });
        ov.edges.insert("quote_sent".into(), EdgeOverlay { width: Some(9.0), caption: Some("41 单".into()) });
        let svg = render(&def, &l, &ov);
        assert!(svg.contains(r##"fill="#fa0""##));
        assert!(!svg.contains("red;stroke"));
        assert!(svg.contains("转化 62% · 中位 4.5 天"));
        assert!(svg.contains(r#"stroke-width="9""#));
        assert!(svg.contains("41 单"));
        assert_eq!(valid_colour("#12abef"), Some("#12abef"));
        assert!(is_dark("#b91c1c") && is_dark("#000") && !is_dark("#fde68a") && !is_dark("#fff"));
        for bad in ["#12", "12abef", "#ggg", "#1234", "red"] {
            assert_eq!(valid_colour(bad), None, "{bad}");
        }
    }
}
