//! Stored node positions: the drawing puts every box where the editor left it (moved as a whole
//! to the margin) when every node has a position, and lays the process out automatically when
//! some node has none.

use std::collections::BTreeMap;

use salesflow_domain::process::{NodeKind, Position, ProcessDefinition};
use salesflow_domain::templates;
use salesflow_flowchart::layout::{self, Layout, Point, Rect};
use salesflow_flowchart::svg::{self, Overlay};

/// The seed process with a hand-made arrangement: two columns, top to bottom, nothing like the
/// automatic left-to-right layout.
fn arranged() -> ProcessDefinition {
    let mut def = templates::get("seed-five-stage.en").unwrap();
    for (i, n) in def.nodes.iter().enumerate() {
        let p = Position { x: 300.0 + (i % 2) as f64 * 320.0, y: -50.0 + i as f64 * 140.0 };
        def.positions.insert(n.id.clone(), p);
    }
    def
}

/// Every `<g data-node="…">` box's x and y as the SVG draws it (rect corner; a decision's
/// polygon gives its left and top vertices).
fn drawn_boxes(svg: &str) -> BTreeMap<String, (f64, f64)> {
    let mut out = BTreeMap::new();
    for part in svg.split("<g data-node=\"").skip(1) {
        let id = part[..part.find('"').unwrap()].to_string();
        let num = |attr: &str, within: &str| -> f64 {
            let at = within.find(&format!(" {attr}=\"")).unwrap() + attr.len() + 3;
            within[at..at + within[at..].find('"').unwrap()].parse().unwrap()
        };
        let xy =
            if part.contains("><rect ") && part.find("<rect").unwrap() < part.find("<polygon").unwrap_or(usize::MAX) {
                let rect = &part[part.find("<rect").unwrap()..];
                (num("x", rect), num("y", rect))
            } else {
                let poly = &part[part.find("points=\"").unwrap() + 8..];
                let pts: Vec<(f64, f64)> = poly[..poly.find('"').unwrap()]
                    .split(' ')
                    .map(|p| {
                        let (x, y) = p.split_once(',').unwrap();
                        (x.parse().unwrap(), y.parse().unwrap())
                    })
                    .collect();
                (
                    pts.iter().map(|p| p.0).fold(f64::INFINITY, f64::min),
                    pts.iter().map(|p| p.1).fold(f64::INFINITY, f64::min),
                )
            };
        out.insert(id, xy);
    }
    out
}

fn on(p: &Point, r: &Rect) -> bool {
    p.x >= r.x - 0.5 && p.x <= r.x + r.width + 0.5 && p.y >= r.y - 0.5 && p.y <= r.y + r.height + 0.5
}

#[test]
fn the_svg_puts_every_node_at_its_stored_position() {
    let def = arranged();
    let l = layout::layout(&def);
    let min_x = def.positions.values().map(|p| p.x).fold(f64::INFINITY, f64::min);
    let min_y = def.positions.values().map(|p| p.y).fold(f64::INFINITY, f64::min);
    // Moved as a whole: the leftmost box at the margin (20), the topmost under the caption room.
    let (dx, dy) = (20.0 - min_x, 42.0 - min_y);
    let svg = svg::render(&def, &l, &Overlay::default());
    let drawn = drawn_boxes(&svg);
    assert_eq!(drawn.len(), def.nodes.len());
    for n in &def.nodes {
        let p = def.positions[&n.id];
        let r = l.nodes[&n.id];
        assert!((r.x - (p.x + dx)).abs() < 1e-9 && (r.y - (p.y + dy)).abs() < 1e-9, "{}: {r:?}", n.id);
        let (x, y) = drawn[&n.id];
        assert!((x - (p.x + dx)).abs() <= 0.05 && (y - (p.y + dy)).abs() <= 0.05, "{}: drawn at {x},{y}", n.id);
    }
    // Relative placement survives: the second node is 320 right of and 140 below the first.
    let (a, b) = (drawn[&def.nodes[0].id], drawn[&def.nodes[1].id]);
    assert!(((b.0 - a.0) - 320.0).abs() < 0.1 && ((b.1 - a.1) - 140.0).abs() < 0.1, "{a:?} {b:?}");
    // The drawing holds every box.
    for r in l.nodes.values() {
        assert!(r.x + r.width <= l.width && r.y + r.height <= l.height);
    }
    // It is not the automatic layout.
    assert_ne!(l.nodes, layout::auto(&def).nodes);
}

#[test]
fn edges_run_orthogonally_between_the_placed_boxes() {
    let def = arranged();
    let l = layout::layout(&def);
    assert_eq!(l.edges.len(), def.edges.len());
    for e in &def.edges {
        let path = &l.edges[&e.id];
        assert!(path.points.len() >= 2, "{}", e.id);
        assert!(on(&path.points[0], &l.nodes[&e.from]), "{} starts off its source: {:?}", e.id, path.points);
        assert!(on(path.points.last().unwrap(), &l.nodes[&e.to]), "{} ends off its target", e.id);
        for w in path.points.windows(2) {
            assert!((w[0].x - w[1].x).abs() < 1e-9 || (w[0].y - w[1].y).abs() < 1e-9, "{}: slanted", e.id);
        }
        for p in &path.points {
            assert!(p.x >= 0.0 && p.y >= 0.0 && p.x <= l.width && p.y <= l.height, "{}: {p:?} outside", e.id);
        }
    }
    // The seed's loop keeps its dashed loop style.
    assert!(l.edges["renegotiate"].back);
    // Two edges between the same pair of nodes (there and back) do not share their ends.
    let mut def = def;
    def.edges.push(salesflow_domain::process::Edge {
        id: "back_again".into(),
        from: def.edges[0].to.clone(),
        to: def.edges[0].from.clone(),
        label: "again".into(),
    });
    let l = layout::layout(&def);
    let (there, back) = (&l.edges[&def.edges[0].id], &l.edges["back_again"]);
    assert_ne!(there.points[0], *back.points.last().unwrap());
}

#[test]
fn partial_positions_fall_back_to_the_automatic_layout() {
    let plain = templates::get("seed-five-stage.en").unwrap();
    let mut def = arranged();
    let dropped = def.nodes.iter().find(|n| n.kind == NodeKind::Lost).unwrap().id.clone();
    def.positions.remove(&dropped);
    let l: Layout = layout::layout(&def);
    assert_eq!(l, layout::auto(&plain));
    assert_eq!(
        svg::render(&def, &l, &Overlay::default()),
        svg::render(&plain, &layout::layout(&plain), &Overlay::default())
    );
}

#[test]
fn the_editor_keeps_stored_places_and_puts_a_new_node_near_its_neighbour() {
    let mut def = arranged();
    // A stage added through the API, without a position, after `signing`.
    let mut new = def.nodes.iter().find(|n| n.id == "signing").unwrap().clone();
    new.id = "handover".into();
    new.name = "Handover".into();
    def.nodes.push(new);
    def.edges.push(salesflow_domain::process::Edge {
        id: "signing-handover".into(),
        from: "signing".into(),
        to: "handover".into(),
        label: "signed".into(),
    });
    let boxes = layout::editor_boxes(&def);
    assert_eq!(boxes.len(), def.nodes.len());
    for (id, p) in &def.positions {
        assert_eq!((boxes[id].x, boxes[id].y), (p.x, p.y), "{id} keeps its place");
    }
    let (h, s) = (boxes["handover"], boxes["signing"]);
    for (id, r) in &boxes {
        if id != "handover" {
            let apart = h.x >= r.x + r.width || r.x >= h.x + h.width || h.y >= r.y + r.height || r.y >= h.y + h.height;
            assert!(apart, "handover overlaps {id}: {h:?} {r:?}");
        }
    }
    let dist = ((h.center().x - s.center().x).powi(2) + (h.center().y - s.center().y).powi(2)).sqrt();
    assert!(dist < 600.0, "handover is {dist} away from signing");
    // Without stored positions the editor shows the automatic layout.
    let plain = templates::get("seed-five-stage.en").unwrap();
    assert_eq!(layout::editor_boxes(&plain), layout::auto(&plain).nodes);
}

#[test]
fn every_export_follows_the_stored_positions() {
    let def = arranged();
    let l = layout::layout(&def);
    let first = &def.nodes[0].id;
    let r = l.nodes[first];
    let drawio = salesflow_flowchart::drawio::export(&def, &l);
    let cell = &drawio[drawio.find(&format!("id=\"n-{first}\"")).unwrap()..];
    assert!(cell.contains(&format!("<mxGeometry x=\"{}\" y=\"{}\"", r.x.round(), r.y.round())), "{}", &cell[..300]);
    let bpmn = salesflow_flowchart::bpmn::export(&def, &l);
    assert!(bpmn.contains(&format!("x=\"{}\"", r.x.round())) || bpmn.contains(&format!("x=\"{}\"", r.x)), "{bpmn}");
    assert!(salesflow_flowchart::bpmn::import(&bpmn).is_ok());
}

/// Whether the segment p–q passes through the inside of `r` (touching the border is fine).
fn crosses(p: Point, q: Point, r: &Rect) -> bool {
    let (x0, x1, y0, y1) = (r.x + 1.5, r.x + r.width - 1.5, r.y + 1.5, r.y + r.height - 1.5);
    let (lo_x, hi_x, lo_y, hi_y) = (p.x.min(q.x), p.x.max(q.x), p.y.min(q.y), p.y.max(q.y));
    // Segments are horizontal or vertical here.
    hi_x > x0 && lo_x < x1 && hi_y > y0 && lo_y < y1
}

#[test]
fn edges_go_around_boxes_when_a_way_exists() {
    // The automatic arrangement with one stage dragged down and to the right, as a user might.
    let mut def = templates::get("seed-five-stage.en").unwrap();
    for (id, r) in &layout::auto(&def).nodes {
        def.positions.insert(id.clone(), Position { x: r.x, y: r.y });
    }
    let p = def.positions.get_mut("recommendation").unwrap();
    p.x += 200.0;
    p.y += 160.0;
    let l = layout::layout(&def);
    for e in &def.edges {
        let path = &l.edges[&e.id];
        for (id, r) in l.nodes.iter().filter(|(id, _)| **id != e.from && **id != e.to) {
            for w in path.points.windows(2) {
                assert!(!crosses(w[0], w[1], r), "{} crosses {id}: {:?}", e.id, path.points);
            }
        }
    }
}
