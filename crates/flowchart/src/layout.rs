//! Where each node and edge goes: at the positions stored with the process when every node has
//! one ([`placed`]), else a layered left-to-right layout ([`auto`]). [`layout`] picks.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use salesflow_domain::process::{Node, NodeKind, ProcessDefinition};

use crate::text;

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

/// Font sizes and spacing shared with the renderer.
pub(crate) const NAME_FONT: f64 = 13.0;
pub(crate) const GOAL_FONT: f64 = 11.0;
pub(crate) const LABEL_FONT: f64 = 11.0;
pub(crate) const NAME_LINE: f64 = 17.0;
pub(crate) const GOAL_LINE: f64 = 14.0;
pub(crate) const LABEL_LINE: f64 = 14.0;
const MARGIN: f64 = 20.0;
/// Room above the first row for overlay captions.
const CAPTION_ROOM: f64 = 22.0;
const COL_GAP_MIN: f64 = 64.0;
const ROW_GAP: f64 = 64.0;
const LANE_GAP: f64 = 30.0;
/// How far below a node an edge turns when it cannot go straight down.
const TURN: f64 = 18.0;
const LABEL_MAX_WIDTH: f64 = 120.0;
const STAGE_PAD_X: f64 = 12.0;

/// The text a node's box holds, already wrapped: what the layout sized the box for and what
/// the renderer draws.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BoxText {
    pub name: Vec<String>,
    pub goal: Vec<String>,
}

pub(crate) fn box_text(node: &Node) -> (BoxText, f64, f64) {
    match &node.kind {
        NodeKind::Stage(stage) => {
            let name_w = text::width(node.name.trim(), NAME_FONT, true);
            let inner =
                if stage.goal.trim().is_empty() { name_w.clamp(110.0, 176.0) } else { name_w.clamp(150.0, 176.0) };
            let name = text::wrap(&node.name, inner, NAME_FONT, true, 2);
            let goal = text::wrap(&stage.goal, inner - 6.0, GOAL_FONT, false, 2);
            let inner = name.iter().map(|l| text::width(l, NAME_FONT, true)).fold(inner, f64::max);
            let h = 12.0
                + name.len() as f64 * NAME_LINE
                + if goal.is_empty() { 0.0 } else { 4.0 + goal.len() as f64 * GOAL_LINE }
                + 10.0;
            (BoxText { name, goal }, inner + 2.0 * STAGE_PAD_X, h.max(48.0))
        }
        NodeKind::Decision => {
            let name = text::wrap(&node.name, 100.0, NAME_FONT, true, 3);
            let tw = name.iter().map(|l| text::width(l, NAME_FONT, true)).fold(0.0, f64::max);
            let th = name.len() as f64 * NAME_LINE;
            let h = (th + 46.0).max(66.0);
            // The text's corners must stay inside the diamond: tw/w + th/h <= 1.
            let w = (tw / (1.0 - th / h) * 1.12).max(100.0);
            (BoxText { name, goal: Vec::new() }, w, h)
        }
        NodeKind::Won | NodeKind::Lost => {
            let name = text::wrap(&node.name, 140.0, NAME_FONT, true, 2);
            let tw = name.iter().map(|l| text::width(l, NAME_FONT, true)).fold(0.0, f64::max);
            let h = 22.0 + name.len() as f64 * NAME_LINE;
            (BoxText { name, goal: Vec::new() }, (tw + 44.0).max(88.0), h)
        }
    }
}

/// An edge label, wrapped, and the size of its block.
pub(crate) fn label_lines(label: &str) -> (Vec<String>, f64, f64) {
    let lines = text::wrap(label, LABEL_MAX_WIDTH, LABEL_FONT, false, 3);
    let w = lines.iter().map(|l| text::width(l, LABEL_FONT, false)).fold(0.0, f64::max);
    let h = lines.len() as f64 * LABEL_LINE;
    (lines, w, h)
}

/// The structure the drawing follows: which edges go back against the flow, the main path
/// (entry → … → Won) on one row, and the Lost node collected in a lane at the bottom right.
#[derive(Debug, Clone)]
pub(crate) struct Structure {
    /// Edge indices (into `def.edges`) that close a loop.
    pub back: BTreeSet<usize>,
    /// Node indices of the main path, in order.
    pub main: Vec<usize>,
    /// The Lost node drawn at the bottom right, if any.
    pub lost: Option<usize>,
    /// Layer (column) of every node; the lost node's is the last column.
    pub layer: Vec<usize>,
}

pub(crate) fn structure(def: &ProcessDefinition) -> Structure {
    let n = def.nodes.len();
    let index: BTreeMap<&str, usize> = def.nodes.iter().enumerate().map(|(i, n)| (n.id.as_str(), i)).collect();
    let lost = def.nodes.iter().position(|n| n.kind == NodeKind::Lost);
    // (edge index, from, to) of edges between known nodes.
    let ends: Vec<Option<(usize, usize)>> =
        def.edges.iter().map(|e| Some((*index.get(e.from.as_str())?, *index.get(e.to.as_str())?))).collect();
    let mut out: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    for (ei, e) in ends.iter().enumerate() {
        if let Some((a, b)) = *e
            && Some(a) != lost
            && Some(b) != lost
        {
            out[a].push((ei, b));
        }
    }

    // Back edges: depth-first from the entry, then from whatever was not reached.
    let entry = def.entry().and_then(|e| index.get(e.id.as_str()).copied());
    let mut starts: Vec<usize> = entry.into_iter().collect();
    let has_incoming: BTreeSet<usize> = ends.iter().flatten().map(|&(_, b)| b).collect();
    starts.extend((0..n).filter(|i| !has_incoming.contains(i)));
    starts.extend(0..n);
    let mut state = vec![0u8; n]; // 0 new, 1 on the stack, 2 done
    let mut back = BTreeSet::new();
    for s in starts {
        if state[s] != 0 || Some(s) == lost {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(s, 0)];
        state[s] = 1;
        while let Some(&mut (v, ref mut next)) = stack.last_mut() {
            if let Some(&(ei, w)) = out[v].get(*next) {
                *next += 1;
                match state[w] {
                    0 => {
                        state[w] = 1;
                        stack.push((w, 0));
                    }
                    1 => {
                        back.insert(ei);
                    }
                    _ => {}
                }
            } else {
                state[v] = 2;
                stack.pop();
            }
        }
    }
    // Edges out of Lost (invalid, but drafts may have them) are drawn as loops too.
    for (ei, e) in ends.iter().enumerate() {
        if let Some((a, _)) = *e
            && Some(a) == lost
        {
            back.insert(ei);
        }
    }

    // Layers: longest path along forward edges (Kahn's order).
    let forward: Vec<(usize, usize)> = out
        .iter()
        .flatten()
        .filter(|(ei, _)| !back.contains(ei))
        .map(|&(ei, b)| (ends[ei].map(|(a, _)| a).unwrap_or(0), b))
        .collect();
    let mut indeg = vec![0usize; n];
    for &(_, b) in &forward {
        indeg[b] += 1;
    }
    let mut layer = vec![0usize; n];
    let mut queue: VecDeque<usize> = (0..n).filter(|&i| indeg[i] == 0 && Some(i) != lost).collect();
    while let Some(v) = queue.pop_front() {
        for &(a, b) in forward.iter().filter(|(a, _)| *a == v) {
            layer[b] = layer[b].max(layer[a] + 1);
            indeg[b] -= 1;
            if indeg[b] == 0 {
                queue.push_back(b);
            }
        }
    }
    let last = (0..n).filter(|&i| Some(i) != lost).map(|i| layer[i]).max().unwrap_or(0);
    if let Some(l) = lost {
        layer[l] = last;
    }

    // Main path: the shortest forward path from the entry to a Won node (the happy path);
    // detours such as a trial extension then sit on rows below it.
    let start = entry.or_else(|| (0..n).find(|&i| Some(i) != lost));
    let mut main = Vec::new();
    if let Some(start) = start {
        let mut prev: Vec<Option<usize>> = vec![None; n];
        let mut seen = vec![false; n];
        seen[start] = true;
        let mut queue = VecDeque::from([start]);
        let mut won = None;
        while let Some(v) = queue.pop_front() {
            if def.nodes[v].kind == NodeKind::Won {
                won = Some(v);
                break;
            }
            for &(ei, w) in &out[v] {
                if !back.contains(&ei) && !seen[w] {
                    seen[w] = true;
                    prev[w] = Some(v);
                    queue.push_back(w);
                }
            }
        }
        let mut at = won.unwrap_or(start);
        main.push(at);
        while let Some(p) = prev[at] {
            main.push(p);
            at = p;
        }
        main.reverse();
        if won.is_none() {
            main.truncate(1);
        }
    }
    Structure { back, main, lost, layer }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Dir {
    Left,
    Right,
}

/// One edge attached to a node's bottom border: which way its line turns and how deep it goes.
struct Attach {
    edge: usize,
    dir: Dir,
    depth: f64,
}

enum Route {
    /// Along one row, right border to left border.
    Straight,
    /// Down from the source's bottom to the target's row, then right into its left border.
    DownRight,
    /// Right from the source's right border to a channel, down, right into the target.
    ChannelDownRight,
    /// Right from the source's right border, then up into the target's bottom.
    RightUp,
    /// A loop: down from the source, along lane `y` below every row, up into the target.
    Loop { y: f64, blocked_from: bool, blocked_to: bool },
    /// Into the Lost node along the lane at the bottom.
    Lost { blocked: bool },
    /// Anything else (edges out of Lost): a straight line.
    Direct,
}

/// The drawing's layout: the stored positions when every node has one ([`placed`]), else the
/// automatic layered layout ([`auto`]). Every renderer and exporter goes through this.
pub fn layout(def: &ProcessDefinition) -> Layout {
    if def.fully_positioned() { placed(def) } else { auto(def) }
}

/// Lays `def` out left to right: columns are layers (longest path from the entry along
/// forward edges), the main path is the top row, other nodes sit on rows below ordered by
/// barycenter, loops run in lanes under every row and edges into Lost in one lane at the
/// bottom, to the Lost node at the bottom right. Stored positions are ignored.
pub fn auto(def: &ProcessDefinition) -> Layout {
    let n = def.nodes.len();
    if n == 0 {
        return Layout { width: 2.0 * MARGIN, height: 2.0 * MARGIN, nodes: BTreeMap::new(), edges: BTreeMap::new() };
    }
    let st = structure(def);
    let index: BTreeMap<&str, usize> = def.nodes.iter().enumerate().map(|(i, n)| (n.id.as_str(), i)).collect();
    let ends: Vec<Option<(usize, usize)>> =
        def.edges.iter().map(|e| Some((*index.get(e.from.as_str())?, *index.get(e.to.as_str())?))).collect();
    let sizes: Vec<(f64, f64)> = def
        .nodes
        .iter()
        .map(|n| {
            let (_, w, h) = box_text(n);
            (w, h)
        })
        .collect();
    let is_lost = |i: usize| Some(i) == st.lost;

    // Rows: the main path on row 0, the rest of each layer on rows 1.. by barycenter.
    let columns = st.layer.iter().copied().max().unwrap_or(0) + 1;
    let mut row = vec![usize::MAX; n];
    for &m in &st.main {
        row[m] = 0;
    }
    let mut by_layer: Vec<Vec<usize>> = vec![Vec::new(); columns];
    for i in 0..n {
        if row[i] != 0 && !is_lost(i) {
            by_layer[st.layer[i]].push(i);
        }
    }
    let neighbours: Vec<Vec<usize>> = (0..n)
        .map(|i| {
            ends.iter()
                .enumerate()
                .filter(|(ei, _)| !st.back.contains(ei))
                .filter_map(|(_, e)| *e)
                .filter_map(|(a, b)| {
                    if a == i {
                        Some(b)
                    } else if b == i {
                        Some(a)
                    } else {
                        None
                    }
                })
                .filter(|&j| !is_lost(j))
                .collect()
        })
        .collect();
    let assign = |row: &mut Vec<usize>, by_layer: &Vec<Vec<usize>>| {
        for nodes in by_layer {
            for (k, &i) in nodes.iter().enumerate() {
                row[i] = k + 1;
            }
        }
    };
    assign(&mut row, &by_layer);
    for _sweep in 0..4 {
        for nodes in by_layer.iter_mut() {
            let mut keyed: Vec<(f64, usize, usize)> = nodes
                .iter()
                .map(|&i| {
                    let placed: Vec<f64> =
                        neighbours[i].iter().filter(|&&j| row[j] != usize::MAX).map(|&j| row[j] as f64).collect();
                    let bary = if placed.is_empty() {
                        row[i] as f64
                    } else {
                        placed.iter().sum::<f64>() / placed.len() as f64
                    };
                    (bary, row[i], i)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            *nodes = keyed.into_iter().map(|(_, _, i)| i).collect();
            for (k, &i) in nodes.iter().enumerate() {
                row[i] = k + 1;
            }
        }
    }
    let rows = (0..n).filter(|&i| !is_lost(i)).map(|i| row[i]).max().unwrap_or(0) + 1;

    // Column widths, then the gaps after each column: wide enough for the labels placed there.
    let mut col_w = vec![0.0f64; columns];
    for i in (0..n).filter(|&i| !is_lost(i)) {
        col_w[st.layer[i]] = col_w[st.layer[i]].max(sizes[i].0);
    }
    let mut gap = vec![COL_GAP_MIN; columns];
    for (ei, e) in def.edges.iter().enumerate() {
        if let Some((a, b)) = ends[ei]
            && !st.back.contains(&ei)
            && !is_lost(a)
            && !is_lost(b)
        {
            let (_, w, _) = label_lines(&e.label);
            gap[st.layer[a]] = gap[st.layer[a]].max(w + 28.0);
        }
    }
    let mut col_x = vec![MARGIN; columns];
    for c in 1..columns {
        col_x[c] = col_x[c - 1] + col_w[c - 1] + gap[c - 1];
    }
    let mut row_h = vec![0.0f64; rows];
    for i in (0..n).filter(|&i| !is_lost(i)) {
        row_h[row[i]] = row_h[row[i]].max(sizes[i].1);
    }
    let mut row_y = vec![MARGIN + CAPTION_ROOM; rows];
    for r in 1..rows {
        row_y[r] = row_y[r - 1] + row_h[r - 1] + ROW_GAP;
    }
    let rows_bottom = row_y[rows - 1] + row_h[rows - 1];

    let mut rects = vec![Rect { x: 0.0, y: 0.0, width: 0.0, height: 0.0 }; n];
    for i in (0..n).filter(|&i| !is_lost(i)) {
        let (w, h) = sizes[i];
        let c = st.layer[i];
        rects[i] = Rect {
            x: col_x[c] + (col_w[c] - w) / 2.0,
            y: row_y[row[i]] + (row_h[row[i]] - h) / 2.0,
            width: w,
            height: h,
        };
    }
    // A node in column `c` on a row in `rows` (exclusive start, inclusive end)?
    let occupied = |c: usize, below: usize, upto: usize| {
        (0..n).any(|j| !is_lost(j) && st.layer[j] == c && row[j] > below && row[j] <= upto)
    };

    // Loops get lanes under every row, the shortest nearest; Lost's lane comes last.
    let mut loops: Vec<usize> =
        st.back.iter().copied().filter(|&ei| ends[ei].is_some_and(|(a, _)| !is_lost(a))).collect();
    loops.sort_by_key(|&ei| {
        let (a, b) = ends[ei].unwrap_or((0, 0));
        (st.layer[a].abs_diff(st.layer[b]), ei)
    });
    let mut lane_y = BTreeMap::new();
    let mut y = rows_bottom + 34.0;
    for &ei in &loops {
        lane_y.insert(ei, y);
        y += LANE_GAP;
    }
    let lost_lane = y + 10.0;
    let last_right = col_x[columns - 1] + col_w[columns - 1];
    if let Some(l) = st.lost {
        let (w, h) = sizes[l];
        rects[l] = Rect { x: last_right - w, y: lost_lane - h / 2.0, width: w, height: h };
    }

    // Decide every edge's route, collecting what attaches to bottom borders.
    let mut routes: Vec<Option<Route>> = Vec::with_capacity(def.edges.len());
    let mut bottom: Vec<Vec<Attach>> = (0..n).map(|_| Vec::new()).collect();
    for (ei, _) in def.edges.iter().enumerate() {
        let Some((a, b)) = ends[ei] else {
            routes.push(None);
            continue;
        };
        let (ra, rb) = (rects[a], rects[b]);
        let route = if is_lost(a) {
            Route::Direct
        } else if is_lost(b) {
            let blocked = occupied(st.layer[a], row[a], usize::MAX - 1);
            let depth = if blocked { ra.y + ra.height + TURN } else { lost_lane };
            let dir = if ra.center().x < rb.x { Dir::Right } else { Dir::Left };
            bottom[a].push(Attach { edge: ei, dir, depth });
            Route::Lost { blocked }
        } else if let Some(&y) = lane_y.get(&ei) {
            let blocked_from = occupied(st.layer[a], row[a], usize::MAX - 1);
            let blocked_to = occupied(st.layer[b], row[b], usize::MAX - 1);
            bottom[a].push(Attach {
                edge: ei,
                dir: Dir::Left,
                depth: if blocked_from { ra.y + ra.height + TURN } else { y },
            });
            bottom[b].push(Attach {
                edge: ei,
                dir: Dir::Right,
                depth: if blocked_to { rb.y + rb.height + TURN } else { y },
            });
            Route::Loop { y, blocked_from, blocked_to }
        } else if row[a] == row[b] {
            Route::Straight
        } else if row[b] > row[a] {
            if occupied(st.layer[a], row[a], row[b]) {
                Route::ChannelDownRight
            } else {
                bottom[a].push(Attach { edge: ei, dir: Dir::Right, depth: rb.center().y });
                Route::DownRight
            }
        } else {
            bottom[b].push(Attach { edge: ei, dir: Dir::Left, depth: ra.center().y });
            Route::RightUp
        };
        routes.push(Some(route));
    }

    // Spread each node's bottom attachments so their lines do not cross one another:
    // left-turning ones first, shallow to deep, then right-turning ones deep to shallow.
    // port[(node, edge)] = point on the bottom border.
    let mut port: BTreeMap<(usize, usize), Point> = BTreeMap::new();
    for (i, list) in bottom.iter_mut().enumerate() {
        list.sort_by(|p, q| {
            p.dir.cmp(&q.dir).then(match p.dir {
                Dir::Left => p.depth.total_cmp(&q.depth),
                Dir::Right => q.depth.total_cmp(&p.depth),
            })
        });
        let r = rects[i];
        let k = list.len() as f64;
        let (lo, hi) = match def.nodes[i].kind {
            NodeKind::Decision => (r.x + r.width * 0.3, r.x + r.width * 0.7),
            NodeKind::Won | NodeKind::Lost => (r.x + r.height / 2.0, r.x + r.width - r.height / 2.0),
            NodeKind::Stage(_) => (r.x, r.x + r.width),
        };
        for (j, at) in list.iter().enumerate() {
            let x = if list.len() == 1 { r.center().x } else { lo + (hi - lo) * (j as f64 + 1.0) / (k + 1.0) };
            port.insert((i, at.edge), Point { x, y: bottom_at(&def.nodes[i], &r, x) });
        }
    }

    let gap_mid = |c: usize| col_x[c] + col_w[c] + gap[c] / 2.0;
    let mut edges = BTreeMap::new();
    for (ei, e) in def.edges.iter().enumerate() {
        let (Some((a, b)), Some(route)) = (ends[ei], &routes[ei]) else { continue };
        let (ra, rb) = (rects[a], rects[b]);
        let (_, lw, lh) = label_lines(&e.label);
        let right = Point { x: ra.x + ra.width, y: ra.center().y };
        let left = Point { x: rb.x, y: rb.center().y };
        let above = |x: f64, y: f64| Point { x, y: y - 3.0 - lh / 2.0 };
        let (points, label_at, back) = match *route {
            Route::Straight => {
                (vec![right, left], above(gap_mid(st.layer[a]).min((right.x + left.x) / 2.0), right.y), false)
            }
            Route::DownRight => {
                let p = port[&(a, ei)];
                let pts = vec![p, Point { x: p.x, y: left.y }, left];
                let lx = (p.x + left.x) / 2.0;
                let lx = if left.x - p.x > lw + 16.0 {
                    lx.max(p.x + lw / 2.0 + 8.0).min(left.x - lw / 2.0 - 8.0)
                } else {
                    lx
                };
                (pts, above(lx, left.y), false)
            }
            Route::ChannelDownRight => {
                let cx = col_x[st.layer[a]] + col_w[st.layer[a]] + 14.0;
                let pts = vec![right, Point { x: cx, y: right.y }, Point { x: cx, y: left.y }, left];
                (pts, above((cx + left.x) / 2.0, left.y), false)
            }
            Route::RightUp => {
                let p = port[&(b, ei)];
                let pts = vec![right, Point { x: p.x, y: right.y }, p];
                (pts, above((right.x + p.x) / 2.0, right.y), false)
            }
            Route::Loop { y, blocked_from, blocked_to } => {
                let (p, q) = (port[&(a, ei)], port[&(b, ei)]);
                let mut pts = vec![p];
                if blocked_from {
                    let cx = col_x[st.layer[a]] - 14.0;
                    pts.extend([Point { x: p.x, y: p.y + TURN }, Point { x: cx, y: p.y + TURN }, Point { x: cx, y }]);
                } else {
                    pts.push(Point { x: p.x, y });
                }
                if blocked_to {
                    let cx = col_x[st.layer[b]] + col_w[st.layer[b]] + 14.0;
                    pts.extend([Point { x: cx, y }, Point { x: cx, y: q.y + TURN }, Point { x: q.x, y: q.y + TURN }]);
                } else {
                    pts.push(Point { x: q.x, y });
                }
                pts.push(q);
                let from_x = pts[pts.len() - 2].x.max(pts[1].x);
                let to_x = pts[pts.len() - 2].x.min(pts[1].x);
                (pts, Point { x: (from_x + to_x) / 2.0, y }, true)
            }
            Route::Lost { blocked } => {
                let p = port[&(a, ei)];
                let mut pts = vec![p];
                let label_at = if blocked {
                    let cx = col_x[st.layer[a]] + col_w[st.layer[a]] + 14.0;
                    let ty = p.y + TURN;
                    pts.extend([Point { x: p.x, y: ty }, Point { x: cx, y: ty }, Point { x: cx, y: lost_lane }]);
                    Point { x: (p.x + cx) / 2.0, y: ty }
                } else {
                    Point { x: p.x, y: p.y + TURN + lh / 2.0 }
                };
                let end_x = if pts.last().is_some_and(|q| q.x < rb.x) { rb.x } else { rb.x + rb.width };
                let last = *pts.last().unwrap_or(&p);
                if last.x >= rb.x && last.x <= rb.x + rb.width {
                    pts.push(Point { x: last.x, y: rb.y });
                } else {
                    pts.push(Point { x: last.x, y: lost_lane });
                    pts.push(Point { x: end_x, y: lost_lane });
                }
                (pts, label_at, false)
            }
            Route::Direct => {
                let (p, q) = (Point { x: ra.center().x, y: ra.y }, Point { x: rb.center().x, y: rb.y + rb.height });
                (vec![p, q], Point { x: (p.x + q.x) / 2.0, y: (p.y + q.y) / 2.0 }, true)
            }
        };
        let points = points_dedup(points);
        edges.insert(e.id.clone(), EdgePath { points, label_at, back });
    }

    let mut width = last_right + MARGIN;
    let mut height = rows_bottom + MARGIN;
    for r in rects.iter() {
        width = width.max(r.x + r.width + MARGIN);
        height = height.max(r.y + r.height + MARGIN);
    }
    for p in edges.values().flat_map(|e| e.points.iter()) {
        height = height.max(p.y + MARGIN);
    }
    let nodes = def.nodes.iter().zip(rects).map(|(n, r)| (n.id.clone(), r)).collect();
    Layout { width: width.ceil(), height: height.ceil(), nodes, edges }
}

/// Which border of a box an edge leaves or enters by.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Side {
    Left,
    Right,
    Top,
    Bottom,
}

/// Lays `def` out at its stored positions: every node's box (sized for its text as in [`auto`])
/// has its top-left corner where the editor left it, the whole drawing moved so that the
/// leftmost box starts at the margin and the topmost one under the caption room (the editor
/// works in the same pixels, so nothing is scaled). Edges are routed orthogonally — straight,
/// with one bend or two — between the borders whose route crosses the fewest other boxes (then
/// is shortest), and the edges sharing a border are spread along it in the order of their
/// other ends. Loops (as
/// [`auto`] finds them) keep their dashed style. Falls back to [`auto`] unless every node has
/// a position.
pub fn placed(def: &ProcessDefinition) -> Layout {
    let n = def.nodes.len();
    if n == 0 || !def.fully_positioned() {
        return auto(def);
    }
    let at: Vec<(f64, f64)> =
        def.nodes.iter().map(|node| def.positions.get(&node.id).map_or((0.0, 0.0), |p| (p.x, p.y))).collect();
    let min_x = at.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let min_y = at.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let (dx, dy) = (MARGIN - min_x, MARGIN + CAPTION_ROOM - min_y);
    let rects: Vec<Rect> = def
        .nodes
        .iter()
        .zip(&at)
        .map(|(node, &(x, y))| {
            let (_, w, h) = box_text(node);
            Rect { x: x + dx, y: y + dy, width: w, height: h }
        })
        .collect();
    let st = structure(def);
    let index: BTreeMap<&str, usize> = def.nodes.iter().enumerate().map(|(i, n)| (n.id.as_str(), i)).collect();

    // The borders each edge leaves and enters by: of the routes between two borders that head
    // the right way (straight, one bend or two), the one crossing the fewest other boxes, then
    // the shortest with the fewest bends; when the boxes are too close for any, the pair of
    // facing borders with the widest gap.
    let mut sides: Vec<Option<(usize, usize, Side, Side)>> = Vec::with_capacity(def.edges.len());
    for e in &def.edges {
        let (Some(&a), Some(&b)) = (index.get(e.from.as_str()), index.get(e.to.as_str())) else {
            sides.push(None);
            continue;
        };
        if a == b {
            sides.push(Some((a, b, Side::Right, Side::Top)));
            continue;
        }
        let (ra, rb) = (rects[a], rects[b]);
        let mut best: Option<(f64, Side, Side)> = None;
        for sa in [Side::Right, Side::Bottom, Side::Left, Side::Top] {
            for sb in [Side::Left, Side::Top, Side::Right, Side::Bottom] {
                let p = border_point(&def.nodes[a], &ra, sa, 0.5);
                let q = border_point(&def.nodes[b], &rb, sb, 0.5);
                if !heads_right(p, q, sa, sb) {
                    continue;
                }
                let pts = points_dedup(route(p, q, sa, sb));
                let crossed = rects
                    .iter()
                    .enumerate()
                    .filter(|&(i, r)| i != a && i != b && pts.windows(2).any(|w| crosses(w[0], w[1], r)))
                    .count();
                let length: f64 = pts.windows(2).map(|w| (w[1].x - w[0].x).abs() + (w[1].y - w[0].y).abs()).sum();
                let score = crossed as f64 * 100_000.0 + length + (pts.len() as f64 - 2.0) * 40.0;
                if best.is_none_or(|(s, _, _)| score < s) {
                    best = Some((score, sa, sb));
                }
            }
        }
        let (from, to) = match best {
            Some((_, sa, sb)) => (sa, sb),
            None => {
                let right = rb.x - (ra.x + ra.width);
                let left = ra.x - (rb.x + rb.width);
                let down = rb.y - (ra.y + ra.height);
                let up = ra.y - (rb.y + rb.height);
                let across =
                    if right >= left { (right, Side::Right, Side::Left) } else { (left, Side::Left, Side::Right) };
                let along = if down >= up { (down, Side::Bottom, Side::Top) } else { (up, Side::Top, Side::Bottom) };
                let (_, from, to) = if across.0 >= along.0 { across } else { along };
                (from, to)
            }
        };
        sides.push(Some((a, b, from, to)));
    }

    // Spread the ends sharing a border, ordered by where their other ends are.
    // (node, border) → (where the other end is, edge, whether this is the edge's source).
    type Ends = Vec<(f64, usize, bool)>;
    let mut on_side: BTreeMap<(usize, Side), Ends> = BTreeMap::new();
    for (ei, s) in sides.iter().enumerate() {
        let Some((a, b, sa, sb)) = *s else { continue };
        let key = |other: usize, side: Side| match side {
            Side::Left | Side::Right => rects[other].center().y,
            Side::Top | Side::Bottom => rects[other].center().x,
        };
        on_side.entry((a, sa)).or_default().push((key(b, sa), ei, true));
        on_side.entry((b, sb)).or_default().push((key(a, sb), ei, false));
    }
    // port[(edge, is the source end)] = the point on the border.
    let mut port: BTreeMap<(usize, bool), Point> = BTreeMap::new();
    for ((i, side), list) in on_side.iter_mut() {
        list.sort_by(|p, q| p.0.total_cmp(&q.0).then(p.1.cmp(&q.1)).then(q.2.cmp(&p.2)));
        let k = list.len() as f64;
        for (j, &(_, ei, source)) in list.iter().enumerate() {
            let t = if list.len() == 1 { 0.5 } else { (j as f64 + 1.0) / (k + 1.0) };
            port.insert((ei, source), border_point(&def.nodes[*i], &rects[*i], *side, t));
        }
    }

    let mut edges = BTreeMap::new();
    for (ei, e) in def.edges.iter().enumerate() {
        let Some((a, b, sa, sb)) = sides[ei] else { continue };
        let (p, q) = (port[&(ei, true)], port[&(ei, false)]);
        let points = if a == b {
            let r = rects[a];
            let (out_x, over_y) = (r.x + r.width + TURN, r.y - TURN);
            vec![p, Point { x: out_x, y: p.y }, Point { x: out_x, y: over_y }, Point { x: q.x, y: over_y }, q]
        } else {
            route(p, q, sa, sb)
        };
        let points = points_dedup(points);
        // The label sits on the longest segment: above it when it is horizontal.
        let (_, _, lh) = label_lines(&e.label);
        let (mut best, mut best_len) = (0, -1.0);
        for (k, w) in points.windows(2).enumerate() {
            let len = (w[1].x - w[0].x).abs() + (w[1].y - w[0].y).abs();
            if len > best_len {
                (best, best_len) = (k, len);
            }
        }
        let label_at = match points.get(best..best + 2) {
            Some([u, v]) => {
                let mid = Point { x: (u.x + v.x) / 2.0, y: (u.y + v.y) / 2.0 };
                if (u.y - v.y).abs() < 0.01 { Point { x: mid.x, y: mid.y - 3.0 - lh / 2.0 } } else { mid }
            }
            _ => p,
        };
        edges.insert(e.id.clone(), EdgePath { points, label_at, back: st.back.contains(&ei) });
    }

    let mut width: f64 = 2.0 * MARGIN;
    let mut height: f64 = 2.0 * MARGIN;
    for r in &rects {
        width = width.max(r.x + r.width + MARGIN);
        height = height.max(r.y + r.height + MARGIN);
    }
    for (e, path) in def.edges.iter().filter_map(|e| Some((e, edges.get(&e.id)?))) {
        for p in &path.points {
            width = width.max(p.x + MARGIN);
            height = height.max(p.y + MARGIN);
        }
        let (_, lw, lh) = label_lines(&e.label);
        width = width.max(path.label_at.x + lw / 2.0 + MARGIN);
        height = height.max(path.label_at.y + lh / 2.0 + LABEL_LINE + MARGIN);
    }
    let nodes = def.nodes.iter().zip(rects).map(|(n, r)| (n.id.clone(), r)).collect();
    Layout { width: width.ceil(), height: height.ceil(), nodes, edges }
}

/// Whether a line leaving by border `sa` at `p` and entering by `sb` at `q` heads the right way
/// on both ends (out of the source's box, into the target's), with room for an arrowhead.
fn heads_right(p: Point, q: Point, sa: Side, sb: Side) -> bool {
    const ROOM: f64 = 12.0;
    let horizontal = |s: Side| matches!(s, Side::Left | Side::Right);
    let leaves = match sa {
        Side::Right => q.x - p.x >= ROOM,
        Side::Left => p.x - q.x >= ROOM,
        Side::Bottom => q.y - p.y >= ROOM,
        Side::Top => p.y - q.y >= ROOM,
    };
    let enters = match sb {
        Side::Left => q.x - p.x >= ROOM,
        Side::Right => p.x - q.x >= ROOM,
        Side::Top => q.y - p.y >= ROOM,
        Side::Bottom => p.y - q.y >= ROOM,
    };
    // Two horizontal ends must face each other (right into left); so must two vertical ones.
    let facing = horizontal(sa) != horizontal(sb)
        || matches!(
            (sa, sb),
            (Side::Right, Side::Left)
                | (Side::Left, Side::Right)
                | (Side::Bottom, Side::Top)
                | (Side::Top, Side::Bottom)
        );
    leaves && enters && facing
}

/// The orthogonal path from `p` (on border `sa`) to `q` (on border `sb`): straight when they
/// line up, one bend between a horizontal and a vertical end, else two bends half way.
fn route(p: Point, q: Point, sa: Side, sb: Side) -> Vec<Point> {
    let horizontal = |s: Side| matches!(s, Side::Left | Side::Right);
    match (horizontal(sa), horizontal(sb)) {
        (true, true) if (p.y - q.y).abs() < 0.5 => vec![p, Point { x: q.x, y: p.y }],
        (true, true) => {
            let mx = (p.x + q.x) / 2.0;
            vec![p, Point { x: mx, y: p.y }, Point { x: mx, y: q.y }, q]
        }
        (false, false) if (p.x - q.x).abs() < 0.5 => vec![p, Point { x: p.x, y: q.y }],
        (false, false) => {
            let my = (p.y + q.y) / 2.0;
            vec![p, Point { x: p.x, y: my }, Point { x: q.x, y: my }, q]
        }
        (true, false) => vec![p, Point { x: q.x, y: p.y }, q],
        (false, true) => vec![p, Point { x: p.x, y: q.y }, q],
    }
}

/// Whether the segment p–q passes through the inside of `r` (touching the border is fine).
fn crosses(p: Point, q: Point, r: &Rect) -> bool {
    let (x0, x1, y0, y1) = (r.x + 1.0, r.x + r.width - 1.0, r.y + 1.0, r.y + r.height - 1.0);
    // Liang–Barsky clipping.
    let (dx, dy) = (q.x - p.x, q.y - p.y);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (pp, qq) in [(-dx, p.x - x0), (dx, x1 - p.x), (-dy, p.y - y0), (dy, y1 - p.y)] {
        if pp == 0.0 {
            if qq < 0.0 {
                return false;
            }
        } else {
            let t = qq / pp;
            if pp < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    t0 < t1
}

/// The point a fraction `t` along one border of `node`'s shape (top to bottom, left to right),
/// kept to the part of the border a line can meet squarely.
fn border_point(node: &Node, r: &Rect, side: Side, t: f64) -> Point {
    let c = r.center();
    // How much of the border the ends spread over.
    let spread = match node.kind {
        NodeKind::Decision => 0.3,
        NodeKind::Won | NodeKind::Lost => 0.5,
        NodeKind::Stage(_) => 0.7,
    };
    let f = 0.5 + (t - 0.5) * spread;
    match side {
        Side::Left | Side::Right => {
            let y = r.y + r.height * f;
            let reach = match node.kind {
                // The diamond's border narrows away from its middle.
                NodeKind::Decision => r.width / 2.0 * (1.0 - ((y - c.y).abs() / (r.height / 2.0)).min(1.0)),
                // The pill's ends are half circles.
                NodeKind::Won => {
                    let radius = r.height / 2.0;
                    r.width / 2.0 - radius + (radius * radius - (y - c.y).powi(2)).max(0.0).sqrt()
                }
                _ => r.width / 2.0,
            };
            let x = if side == Side::Left { c.x - reach } else { c.x + reach };
            Point { x, y }
        }
        Side::Top | Side::Bottom => {
            let x = match node.kind {
                NodeKind::Won => {
                    let radius = r.height / 2.0;
                    (r.x + radius) + (r.width - 2.0 * radius).max(0.0) * f
                }
                _ => r.x + r.width * f,
            };
            let reach = match node.kind {
                NodeKind::Decision => r.height / 2.0 * (1.0 - ((x - c.x).abs() / (r.width / 2.0)).min(1.0)),
                _ => r.height / 2.0,
            };
            let y = if side == Side::Top { c.y - reach } else { c.y + reach };
            Point { x, y }
        }
    }
}

/// Where the editor shows each node: its stored position when it has one; a node without
/// (added through the API or an import) goes where the automatic layout puts it, moved by as
/// much as a placed neighbour was moved from its automatic place (else as the placed nodes were
/// on average), then down until it overlaps no other box. Without any stored position this is
/// the automatic layout. Boxes are sized as in [`auto`].
pub fn editor_boxes(def: &ProcessDefinition) -> BTreeMap<String, Rect> {
    let auto = auto(def);
    if def.positions.is_empty() {
        return auto.nodes;
    }
    let mut out: BTreeMap<String, Rect> = BTreeMap::new();
    let mut shifts = Vec::new();
    for node in &def.nodes {
        if let (Some(p), Some(r)) = (def.positions.get(&node.id), auto.nodes.get(&node.id)) {
            out.insert(node.id.clone(), Rect { x: p.x, y: p.y, ..*r });
            shifts.push((p.x - r.x, p.y - r.y));
        }
    }
    let mean = if shifts.is_empty() {
        (0.0, 0.0)
    } else {
        let k = shifts.len() as f64;
        (shifts.iter().map(|s| s.0).sum::<f64>() / k, shifts.iter().map(|s| s.1).sum::<f64>() / k)
    };
    for node in def.nodes.iter().filter(|n| !def.positions.contains_key(&n.id)) {
        let Some(r) = auto.nodes.get(&node.id).copied() else { continue };
        let neighbour = def
            .edges
            .iter()
            .filter_map(|e| {
                if e.from == node.id {
                    Some(&e.to)
                } else if e.to == node.id {
                    Some(&e.from)
                } else {
                    None
                }
            })
            .find_map(|id| Some((out.get(id)?, auto.nodes.get(id)?)));
        let (sx, sy) = neighbour.map_or(mean, |(now, was)| (now.x - was.x, now.y - was.y));
        let mut place = Rect { x: r.x + sx, y: r.y + sy, ..r };
        let pad = 12.0;
        for _ in 0..500 {
            let hit = out.values().find(|o| {
                place.x < o.x + o.width + pad
                    && o.x < place.x + place.width + pad
                    && place.y < o.y + o.height + pad
                    && o.y < place.y + place.height + pad
            });
            match hit {
                Some(o) => place.y = o.y + o.height + pad + 0.5,
                None => break,
            }
        }
        out.insert(node.id.clone(), place);
    }
    out
}

/// Drops repeated points and the middle of three collinear ones.
fn points_dedup(points: Vec<Point>) -> Vec<Point> {
    let mut out: Vec<Point> = Vec::with_capacity(points.len());
    for p in points {
        if out.last().is_some_and(|q| (q.x - p.x).abs() < 0.01 && (q.y - p.y).abs() < 0.01) {
            continue;
        }
        if out.len() >= 2 {
            let (a, b) = (out[out.len() - 2], out[out.len() - 1]);
            let same_x = (a.x - b.x).abs() < 0.01 && (b.x - p.x).abs() < 0.01;
            let same_y = (a.y - b.y).abs() < 0.01 && (b.y - p.y).abs() < 0.01;
            if same_x || same_y {
                out.pop();
            }
        }
        out.push(p);
    }
    out
}

/// Where a vertical line at `x` meets the bottom border of `node`'s shape.
fn bottom_at(node: &Node, r: &Rect, x: f64) -> f64 {
    match node.kind {
        NodeKind::Decision => {
            let c = r.center();
            c.y + r.height / 2.0 * (1.0 - ((x - c.x).abs() / (r.width / 2.0)).min(1.0))
        }
        _ => r.y + r.height,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use salesflow_domain::templates;

    fn overlap(a: &Rect, b: &Rect) -> bool {
        a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height
    }

    #[test]
    fn boxes_never_overlap_and_stay_inside() {
        for def in templates::all() {
            let l = layout(&def);
            assert_eq!(l.nodes.len(), def.nodes.len());
            assert_eq!(l.edges.len(), def.edges.len());
            let boxes: Vec<_> = l.nodes.iter().collect();
            for (i, (a, ra)) in boxes.iter().enumerate() {
                assert!(
                    ra.x >= 0.0 && ra.y >= 0.0 && ra.x + ra.width <= l.width && ra.y + ra.height <= l.height,
                    "{}: {a}",
                    def.key
                );
                for (b, rb) in &boxes[i + 1..] {
                    assert!(!overlap(ra, rb), "{}: {a} overlaps {b}", def.key);
                }
            }
        }
    }

    #[test]
    fn the_main_path_is_one_row_and_loops_run_below_it() {
        for def in templates::all() {
            let st = structure(&def);
            let l = layout(&def);
            let main: Vec<&Rect> = st.main.iter().map(|&i| &l.nodes[&def.nodes[i].id]).collect();
            assert!(def.nodes[*st.main.last().unwrap()].kind == NodeKind::Won, "{}: main path ends in Won", def.key);
            assert!(main.len() >= 4, "{}", def.key);
            assert!(main.windows(2).all(|w| w[0].center().y == w[1].center().y && w[0].x < w[1].x), "{}", def.key);
            let main_bottom = main.iter().map(|r| r.y + r.height).fold(0.0, f64::max);
            let mut loops = 0;
            for e in &def.edges {
                let path = &l.edges[&e.id];
                let to_lost = def.node(&e.to).is_some_and(|n| n.kind == NodeKind::Lost);
                if !path.back && !to_lost {
                    continue;
                }
                loops += usize::from(path.back);
                let segments = path.points.len() - 1;
                for (k, w) in path.points.windows(2).enumerate() {
                    for (&i, r) in st.main.iter().zip(&main) {
                        let id = &def.nodes[i].id;
                        // The first and last segments leave and enter their own (diamond) shapes.
                        let own = (k == 0 && *id == e.from) || (k + 1 == segments && *id == e.to);
                        assert!(own || !crosses(w[0], w[1], r), "{}: edge {} crosses {id}", def.key, e.id);
                    }
                }
                for p in &path.points[1..path.points.len() - 1] {
                    assert!(p.y > main_bottom, "{}: edge {} turns at {p:?}, not below the main row", def.key, e.id);
                }
            }
            assert!(loops >= 1, "{}: every shipped template has a loop", def.key);
        }
    }

    #[test]
    fn the_seed_loop_is_found_and_lost_sits_bottom_right() {
        let def = templates::get("seed-five-stage.zh-CN").unwrap();
        let l = layout(&def);
        assert!(l.edges["renegotiate"].back);
        assert_eq!(l.edges.values().filter(|e| e.back).count(), 1);
        let lost = l.nodes["lost"];
        assert!(l.nodes.values().all(|r| r.y <= lost.y && r.x + r.width <= lost.x + lost.width + 0.1));
        let st = structure(&def);
        let main: Vec<&str> = st.main.iter().map(|&i| def.nodes[i].id.as_str()).collect();
        assert_eq!(
            main,
            [
                "lead_identification",
                "needs_analysis",
                "recommendation",
                "negotiation",
                "quote_decision",
                "signing",
                "won"
            ]
        );
    }

    #[test]
    fn edges_start_and_end_on_their_boxes() {
        for def in templates::all() {
            let l = layout(&def);
            for e in &def.edges {
                let path = &l.edges[&e.id];
                let (a, b) = (l.nodes[&e.from], l.nodes[&e.to]);
                let on = |p: &Point, r: &Rect| {
                    p.x >= r.x - 0.5 && p.x <= r.x + r.width + 0.5 && p.y >= r.y - 0.5 && p.y <= r.y + r.height + 0.5
                };
                assert!(on(&path.points[0], &a), "{}: {} starts off its source", def.key, e.id);
                assert!(on(path.points.last().unwrap(), &b), "{}: {} ends off its target", def.key, e.id);
                // Orthogonal: every segment is horizontal or vertical.
                for w in path.points.windows(2) {
                    assert!(w[0].x == w[1].x || w[0].y == w[1].y, "{}: {} has a slanted segment", def.key, e.id);
                }
            }
        }
    }

    #[test]
    fn odd_drafts_do_not_panic() {
        let mut def = templates::get("seed-five-stage.en").unwrap();
        def.edges.push(salesflow_domain::process::Edge {
            id: "x".into(),
            from: "lost".into(),
            to: "lead_identification".into(),
            label: "?".into(),
        });
        def.edges.push(salesflow_domain::process::Edge {
            id: "y".into(),
            from: "signing".into(),
            to: "signing".into(),
            label: "self".into(),
        });
        def.edges.push(salesflow_domain::process::Edge {
            id: "z".into(),
            from: "nowhere".into(),
            to: "signing".into(),
            label: "ghost".into(),
        });
        let l = layout(&def);
        assert!(l.edges.contains_key("y"));
        def.nodes.clear();
        layout(&def);
    }
}
