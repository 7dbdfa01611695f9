//! Writes the seed template with a sample heat-map overlay (fills, captions, edge widths) to
//! look at: `cargo run -p salesflow-flowchart --example overlay_sample [DIR]`.

use salesflow_flowchart::svg::{EdgeOverlay, NodeOverlay, Overlay, render};

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "/tmp/flowcharts".into());
    std::fs::create_dir_all(&dir).expect("create the output directory");
    for key in ["seed-five-stage.zh-CN", "seed-five-stage.en"] {
        let def = salesflow_domain::templates::get(key).expect("template");
        let mut overlay = Overlay::default();
        let fills = ["#fee2e2", "#fecaca", "#fca5a5", "#f87171", "#fde68a", "#bbf7d0"];
        for (i, n) in def.nodes.iter().enumerate() {
            overlay.nodes.insert(
                n.id.clone(),
                NodeOverlay {
                    fill: Some(fills[i % fills.len()].into()),
                    caption: Some(format!("转化 {}% · 中位 {}.5 天", 90 - i * 7, i + 2)),
                },
            );
        }
        for (i, e) in def.edges.iter().enumerate() {
            overlay.edges.insert(
                e.id.clone(),
                EdgeOverlay { width: Some(1.0 + (i % 5) as f64 * 2.0), caption: Some(format!("{} 单", 120 - i * 9)) },
            );
        }
        let svg = render(&def, &salesflow_flowchart::layout(&def), &overlay);
        let path = format!("{dir}/{key}.overlay.svg");
        std::fs::write(&path, svg).expect("write the SVG");
        println!("{path}");
    }
}
