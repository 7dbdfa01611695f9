//! The flowchart as Mermaid (`flowchart LR`) for Markdown documents and wikis. Node ids are
//! generated (`n0`, `n1`, …) so no process id can collide with Mermaid keywords such as `end`
//! or the `o`/`x` edge endings; every label is quoted and escaped.

use std::collections::BTreeMap;
use std::fmt::Write;

use salesflow_domain::process::{NodeKind, ProcessDefinition};

use crate::layout;

/// A label as a Mermaid quoted string (with the quotes). Characters Mermaid would read
/// (`"`, `#`, markup, backticks, `|`) become its `#…;` entity codes; line breaks become spaces.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.trim().chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '&' => out.push_str("#amp;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '`' => out.push_str("#96;"),
            '|' => out.push_str("#124;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `def` as a Mermaid flowchart, left to right. Loops are dotted arrows.
pub fn export(def: &ProcessDefinition) -> String {
    let ids: BTreeMap<&str, String> =
        def.nodes.iter().enumerate().map(|(i, n)| (n.id.as_str(), format!("n{i}"))).collect();
    let mut s = String::from("flowchart LR\n");
    let title: String = def.name.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let _ = writeln!(s, "    %% {}", title.trim());
    let mut classes: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for node in &def.nodes {
        let id = &ids[node.id.as_str()];
        let name = quote(&node.name);
        let (shape, class) = match node.kind {
            NodeKind::Stage(_) => (format!("[{name}]"), "stage"),
            NodeKind::Decision => (format!("{{{name}}}"), "decision"),
            NodeKind::Won => (format!("([{name}])"), "won"),
            NodeKind::Lost => (format!("([{name}])"), "lost"),
        };
        let _ = writeln!(s, "    {id}{shape}");
        classes.entry(class).or_default().push(id);
    }
    let back = layout::structure(def).back;
    for (i, e) in def.edges.iter().enumerate() {
        let (Some(a), Some(b)) = (ids.get(e.from.as_str()), ids.get(e.to.as_str())) else { continue };
        let arrow = if back.contains(&i) { "-.->" } else { "-->" };
        let _ = writeln!(s, "    {a} {arrow}|{}| {b}", quote(&e.label));
    }
    for (class, style) in [
        ("stage", "fill:#eff6ff,stroke:#3b82f6,color:#1e293b"),
        ("decision", "fill:#fef3c7,stroke:#d97706,color:#92400e"),
        ("won", "fill:#dcfce7,stroke:#16a34a,color:#166534"),
        ("lost", "fill:#fee2e2,stroke:#dc2626,color:#991b1b"),
    ] {
        if let Some(members) = classes.get(class) {
            let _ = writeln!(s, "    classDef {class} {style}");
            let _ = writeln!(s, "    class {} {class}", members.join(","));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use salesflow_domain::templates;

    #[test]
    fn the_seed_process() {
        let def = templates::get("seed-five-stage.zh-CN").unwrap();
        let m = export(&def);
        assert!(m.starts_with("flowchart LR\n"));
        assert!(m.contains("    n0[\"潜在客户识别\"]\n"), "{m}");
        assert!(m.contains("    n4{\"报价是否接受?\"}\n"), "{m}");
        assert!(m.contains("    n7([\"赢单\"])\n"), "{m}");
        assert!(m.contains("    n8([\"输单\"])\n"), "{m}");
        assert!(m.contains("    n0 -->|\"确认为潜在客户\"| n1\n"), "{m}");
        // The loop is dotted.
        assert!(m.contains("    n5 -.->|\"重新谈判\"| n3\n"), "{m}");
        assert_eq!(m.matches("-->").count() + m.matches("-.->").count(), def.edges.len());
        // Node ids never appear; only n0… do.
        assert!(!m.contains("negotiation"));
    }

    #[test]
    fn labels_cannot_break_out_of_their_quotes() {
        let mut def = templates::get("seed-five-stage.en").unwrap();
        def.nodes[0].id = "end".into();
        def.edges.iter_mut().filter(|e| e.from == "lead_identification").for_each(|e| e.from = "end".into());
        def.nodes[0].name = "end".into();
        def.nodes[1].name = "o\"] --> x[\"#pwn <b>&`".into();
        def.nodes[2].name = "xray\nline".into();
        def.edges[0].label = "say \"yes\" | no".into();
        let m = export(&def);
        assert!(m.contains("    n0[\"end\"]\n"));
        assert!(m.contains("    n1[\"o#quot;] --#gt; x[#quot;#35;pwn #lt;b#gt;#amp;#96;\"]\n"), "{m}");
        assert!(m.contains("    n2[\"xray line\"]\n"), "{m}");
        assert!(m.contains("    n0 -->|\"say #quot;yes#quot; #124; no\"| n1\n"), "{m}");
        for line in m.lines().skip(1).filter(|l| !l.trim_start().starts_with("%%")) {
            // Every quote in a line is one that opens or closes a label.
            assert!(line.matches('"').count() % 2 == 0, "{line}");
        }
    }
}
