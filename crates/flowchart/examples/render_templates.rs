//! Writes every shipped template as SVG into the directory given (default `/tmp/flowcharts`),
//! for looking at the drawings: `cargo run -p salesflow-flowchart --example render_templates`.

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "/tmp/flowcharts".into());
    std::fs::create_dir_all(&dir).expect("create the output directory");
    for def in salesflow_domain::templates::all() {
        let layout = salesflow_flowchart::layout(&def);
        let svg = salesflow_flowchart::svg::render(&def, &layout, &Default::default());
        let path = format!("{dir}/{}.svg", def.key);
        std::fs::write(&path, svg).expect("write the SVG");
        println!("{path} {}x{}", layout.width, layout.height);
    }
}
