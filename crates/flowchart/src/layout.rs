//! Where each node and edge goes: a layered left-to-right layout.

use std::collections::BTreeMap;

use salesflow_domain::process::ProcessDefinition;

/// A point in the drawing's coordinate system (pixels, y grows downwards).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

/// A node's box: top-left corner and size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

impl Rect {
    pub fn center(&self) -> Point {
        Point { x: self.x + self.width / 2.0, y: self.y + self.height / 2.0 }
    }
}

/// A laid-out edge: the points of its path from the source's border to the target's border,
/// and where its label goes.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgePath {
    pub points: Vec<Point>,
    pub label_at: Point,
    /// True for an edge that goes back against the flow (a loop), drawn around the main path.
    pub back: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub width: f64,
    pub height: f64,
    /// By node id.
    pub nodes: BTreeMap<String, Rect>,
    /// By edge id.
    pub edges: BTreeMap<String, EdgePath>,
}

/// Lays `def` out. (Placeholder grid until the layered layout lands: one column per node in
/// definition order.)
pub fn layout(def: &ProcessDefinition) -> Layout {
    let mut nodes = BTreeMap::new();
    for (i, n) in def.nodes.iter().enumerate() {
        nodes.insert(n.id.clone(), Rect { x: 40.0 + i as f64 * 220.0, y: 40.0, width: 180.0, height: 80.0 });
    }
    let mut edges = BTreeMap::new();
    for e in &def.edges {
        if let (Some(a), Some(b)) = (nodes.get(&e.from), nodes.get(&e.to)) {
            let (p, q) = (a.center(), b.center());
            edges.insert(
                e.id.clone(),
                EdgePath {
                    points: vec![p, q],
                    label_at: Point { x: (p.x + q.x) / 2.0, y: (p.y + q.y) / 2.0 },
                    back: q.x < p.x,
                },
            );
        }
    }
    Layout { width: 40.0 + def.nodes.len() as f64 * 220.0, height: 160.0, nodes, edges }
}
