//! Writing quote PDFs: a typical quote (three options of a few lines, terms) and a long one
//! (200 lines over several pages), in Chinese, font choice included after the first call.
//!
//! `cargo bench -p salesflow-print --bench pdf`

use salesflow_print::{Block, Document, pdf};

fn quote(options: usize, lines: usize) -> Document {
    let mut blocks = vec![Block::Fields(vec![
        ("客户".into(), "华东制造集团有限公司".into()),
        ("付款方式".into(), "签约后 10 个工作日内支付 50%，上线验收后支付 50%".into()),
    ])];
    for o in 0..options {
        blocks.push(Block::Heading(format!("方案 {}：星云 CRM 标准版", o + 1)));
        blocks.push(Block::Table {
            header: ["项目", "数量", "单价", "折扣", "金额"].map(String::from).to_vec(),
            rows: (0..lines)
                .map(|i| {
                    vec![
                        format!("星云 CRM 标准版 / 套/年 第{i}项"),
                        "20".into(),
                        "¥68,000.00".into(),
                        "5.00%".into(),
                        "¥1,292,000.00".into(),
                    ]
                })
                .collect(),
            widths: vec![5.0, 1.2, 2.2, 1.3, 2.4],
            right: vec![false, true, true, true, true],
        });
        blocks.push(Block::Totals(vec![
            ("小计".into(), "¥1,292,000.00".into()),
            ("税额".into(), "¥167,960.00".into()),
            ("合计".into(), "¥1,459,960.00".into()),
        ]));
    }
    blocks.push(Block::Paragraph("一年免费远程支持，工作日 4 小时内响应；现场服务按次收费。".repeat(3)));
    Document {
        title: "报价单 · 第 2 版".into(),
        subtitle: "有效期至 2026年12月31日".into(),
        language: "zh-CN".into(),
        blocks,
        footer: "报价单 #42-2".into(),
    }
}

fn main() {
    // The first document pays for reading the system's fonts; the benchmarks measure the rest.
    pdf(&quote(1, 1)).expect("a CJK font is installed");
    divan::main();
}

#[divan::bench]
fn typical_quote_three_options(b: divan::Bencher) {
    let doc = quote(3, 3);
    b.bench(|| pdf(divan::black_box(&doc)).unwrap().len());
}

#[divan::bench]
fn long_quote_200_lines(b: divan::Bencher) {
    let doc = quote(1, 200);
    b.bench(|| pdf(divan::black_box(&doc)).unwrap().len());
}
