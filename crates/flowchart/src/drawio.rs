//! The flowchart as an uncompressed diagrams.net (draw.io) file: a vertex per node at its
//! laid-out place and an edge per edge with the layout's bends as waypoints.

use std::fmt::Write;

use salesflow_domain::process::{NodeKind, ProcessDefinition};

use crate::layout::Layout;
use crate::text::xml_escape as esc;

fn n(v: f64) -> String {
    let r = v.round();
    format!("{}", r as i64)
}

/// `def` as a `.drawio` document.
pub fn export(def: &ProcessDefinition, layout: &Layout) -> String {
    let mut s = String::from(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    s.push('\n');
    let _ = write!(
        s,
        r#"<mxfile host="salesflow" type="device"><diagram id="salesflow-{}" name="{}"><mxGraphModel dx="{}" dy="{}" grid="1" gridSize="10" guides="1" tooltips="1" connect="1" arrows="1" fold="1" page="0" pageScale="1" pageWidth="{}" pageHeight="{}" math="0" shadow="0"><root><mxCell id="0"/><mxCell id="1" parent="0"/>"#,
        esc(&def.key),
        esc(&def.name),
        n(layout.width),
        n(layout.height),
        n(layout.width),
        n(layout.height),
    );
    let common = "whiteSpace=wrap;html=0;fontFamily=Helvetica;";
    for node in &def.nodes {
        let Some(r) = layout.nodes.get(&node.id) else { continue };
        let (style, value) = match &node.kind {
            NodeKind::Stage(st) => {
                let value =
                    if st.goal.trim().is_empty() { node.name.clone() } else { format!("{}\n{}", node.name, st.goal) };
                (
                    "rounded=1;arcSize=12;fillColor=#eff6ff;strokeColor=#3b82f6;fontSize=12;verticalAlign=top;overflow=hidden;",
                    value,
                )
            }
            NodeKind::Decision => {
                ("rhombus;fillColor=#fef3c7;strokeColor=#d97706;fontColor=#92400e;fontStyle=1;", node.name.clone())
            }
            NodeKind::Won => {
                ("ellipse;fillColor=#dcfce7;strokeColor=#16a34a;fontColor=#166534;fontStyle=1;", node.name.clone())
            }
            NodeKind::Lost => (
                "ellipse;shape=doubleEllipse;fillColor=#fee2e2;strokeColor=#dc2626;fontColor=#991b1b;fontStyle=1;",
                node.name.clone(),
            ),
        };
        // `&#10;` keeps the line break inside the attribute.
        let value = esc(&value).replace('\n', "&#10;");
        let _ = write!(
            s,
            r#"<mxCell id="n-{}" value="{value}" style="{style}{common}" vertex="1" parent="1"><mxGeometry x="{}" y="{}" width="{}" height="{}" as="geometry"/></mxCell>"#,
            esc(&node.id),
            n(r.x),
            n(r.y),
            n(r.width),
            n(r.height),
        );
    }
    for e in &def.edges {
        if def.node(&e.from).is_none() || def.node(&e.to).is_none() {
            continue;
        }
        let path = layout.edges.get(&e.id);
        let back = path.is_some_and(|p| p.back);
        let style = if back {
            "edgeStyle=orthogonalEdgeStyle;rounded=0;html=0;dashed=1;strokeColor=#7c3aed;fontColor=#7c3aed;"
        } else {
            "edgeStyle=orthogonalEdgeStyle;rounded=0;html=0;strokeColor=#64748b;fontColor=#475569;"
        };
        let _ = write!(
            s,
            r#"<mxCell id="e-{}" value="{}" style="{style}" edge="1" parent="1" source="n-{}" target="n-{}"><mxGeometry relative="1" as="geometry">"#,
            esc(&e.id),
            esc(&e.label),
            esc(&e.from),
            esc(&e.to),
        );
        if let Some(p) = path
            && p.points.len() > 2
        {
            s.push_str(r#"<Array as="points">"#);
            for q in &p.points[1..p.points.len() - 1] {
                let _ = write!(s, r#"<mxPoint x="{}" y="{}"/>"#, n(q.x), n(q.y));
            }
            s.push_str("</Array>");
        }
        s.push_str("</mxGeometry></mxCell>");
    }
    s.push_str("</root></mxGraphModel></diagram></mxfile>\n");
    s
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use quick_xml::events::Event;

    use super::*;
    use crate::layout::layout;
    use salesflow_domain::templates;

    /// Every mxCell's attributes, by id.
    fn cells(xml: &str) -> BTreeMap<String, BTreeMap<String, String>> {
        let mut reader = quick_xml::Reader::from_str(xml);
        let mut out = BTreeMap::new();
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Start(el) | Event::Empty(el) if el.name().as_ref() == b"mxCell" => {
                    let attrs: BTreeMap<String, String> = el
                        .attributes()
                        .map(|a| {
                            let a = a.unwrap();
                            (
                                String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                                a.unescape_value().unwrap().into_owned(),
                            )
                        })
                        .collect();
                    let id = attrs["id"].clone();
                    assert!(out.insert(id.clone(), attrs).is_none(), "cell id {id} used twice");
                }
                Event::Eof => break,
                _ => {}
            }
        }
        out
    }

    #[test]
    fn structure_of_every_template() {
        for def in templates::all() {
            let xml = export(&def, &layout(&def));
            assert!(xml.contains("<mxfile") && xml.contains("<diagram ") && xml.contains("<mxGraphModel"));
            let cells = cells(&xml);
            assert!(cells.contains_key("0"));
            assert_eq!(cells["1"].get("parent").map(String::as_str), Some("0"));
            let vertices: BTreeSet<&str> = cells
                .iter()
                .filter(|(_, a)| a.get("vertex").is_some_and(|v| v == "1"))
                .map(|(id, _)| id.as_str())
                .collect();
            assert_eq!(vertices.len(), def.nodes.len());
            let edges: Vec<_> = cells.values().filter(|a| a.get("edge").is_some_and(|v| v == "1")).collect();
            assert_eq!(edges.len(), def.edges.len());
            for e in edges {
                assert!(vertices.contains(e["source"].as_str()), "{}: {e:?}", def.key);
                assert!(vertices.contains(e["target"].as_str()), "{}: {e:?}", def.key);
                assert!(!e["value"].is_empty());
            }
            let decision = def.nodes.iter().find(|n| n.kind == NodeKind::Decision).unwrap();
            assert!(cells[&format!("n-{}", decision.id)]["style"].starts_with("rhombus;"));
        }
    }

    #[test]
    fn values_are_escaped_and_keep_line_breaks() {
        let mut def = templates::get("seed-five-stage.en").unwrap();
        def.nodes[0].name = "<b>\"A&B\"</b>".into();
        let xml = export(&def, &layout(&def));
        let cells = cells(&xml);
        let value = &cells["n-lead_identification"]["value"];
        assert!(value.starts_with("<b>\"A&B\"</b>\nFind and screen"), "{value}");
        assert!(!xml.contains("<b>"));
    }
}
