//! The PDFs read back by poppler (`pdftotext`, `pdffonts`, `pdfinfo`): the text as laid out,
//! Chinese included, the font embedded, a long table running onto more pages.

use std::path::Path;
use std::process::Command;

use salesflow_print::{Block, Document, pdf};

/// A poppler tool's output for `file` (pdftotext writes to the file `-`: standard output).
fn poppler(tool: &str, file: &Path, args: &[&str]) -> Option<String> {
    let mut cmd = Command::new(tool);
    cmd.args(args).arg(file);
    if tool == "pdftotext" {
        cmd.arg("-");
    }
    match cmd.output() {
        Ok(out) => {
            assert!(out.status.success(), "{tool}: {}", String::from_utf8_lossy(&out.stderr));
            Some(String::from_utf8(out.stdout).expect("utf-8"))
        }
        Err(_) if std::env::var("CI").is_err() => {
            eprintln!("skipped: {tool} (poppler-utils) is not installed; .ci/run installs it");
            None
        }
        Err(e) => panic!("{tool} is needed in CI: {e}"),
    }
}

fn quote(rows: usize) -> Document {
    Document {
        title: "报价单 BJ-42-2".into(),
        subtitle: "第 2 版 · 有效期至 2026年12月31日".into(),
        language: "zh-CN".into(),
        footer: "星云软件 · 商机 #42".into(),
        blocks: vec![
            Block::Fields(vec![
                ("客户".into(), "上海示例科技有限公司".into()),
                ("付款方式".into(), "签约后 30 日内支付 50%，上线验收后支付余款。".repeat(3)),
            ]),
            Block::Heading("标准版（推荐）".into()),
            Block::Table {
                header: vec!["产品".into(), "数量".into(), "单价".into(), "金额".into()],
                rows: (1..=rows)
                    .map(|i| vec![format!("CRM 标准版 第{i}项"), "2".into(), "¥40,000.00".into(), "¥80,000.00".into()])
                    .collect(),
                widths: vec![4.0, 1.0, 2.0, 2.0],
                right: vec![false, true, true, true],
            },
            Block::Totals(vec![("税额".into(), "¥4,800.00".into()), ("合计".into(), "¥84,800.00".into())]),
            Block::Heading("After-sales".into()),
            Block::Paragraph("Support on working days, 9:00–18:00. 工作日 9:00–18:00 在线支持。".into()),
        ],
    }
}

#[test]
fn a_chinese_quote_reads_back_with_its_text_font_and_pages() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("quote.pdf");
    let bytes = match pdf(&quote(60)) {
        Ok(b) => b,
        Err(e) if std::env::var("CI").is_err() => return eprintln!("skipped: {e}"),
        Err(e) => panic!("{e}"),
    };
    assert!(bytes.starts_with(b"%PDF-"), "a PDF file");
    std::fs::write(&file, &bytes).unwrap();
    let Some(text) = poppler("pdftotext", &file, &["-layout"]) else { return };
    for expected in
        ["报价单 BJ-42-2", "上海示例科技有限公司", "标准版（推荐）", "CRM 标准版 第60项", "¥84,800.00", "工作日"]
    {
        assert!(text.contains(expected), "`{expected}` in the text:\n{text}");
    }
    // Sixty rows do not fit one page: the header comes again and every page is numbered.
    let pages = text.matches('\u{c}').count();
    assert!(pages >= 2, "{pages} pages");
    let packed: String = text.chars().filter(|c| *c != ' ').collect();
    assert!(packed.contains(&format!("1/{pages}")) && packed.contains(&format!("{pages}/{pages}")), "{text}");
    assert_eq!(text.matches("单价").count(), pages, "the table's header on every page");
    // The long payment terms wrap instead of running off the page.
    let longest = text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!(longest < 120, "a line of {longest} characters");

    let fonts = poppler("pdffonts", &file, &[]).unwrap();
    let font_rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!font_rows.is_empty(), "{fonts}");
    for row in font_rows {
        // name type encoding emb sub uni object ID: embedded, subset, with a ToUnicode map.
        let cols: Vec<&str> = row.split_whitespace().collect();
        let n = cols.len();
        assert_eq!(&cols[n - 5..n - 2], ["yes", "yes", "yes"], "embedded subset with Unicode: {row}");
    }
    assert!(bytes.len() < 400_000, "a subset, not the whole font: {} bytes", bytes.len());
}

#[test]
fn a_short_english_document_is_one_page() {
    let doc = Document {
        title: "Contract HT-7-1".into(),
        language: "en".into(),
        blocks: vec![Block::Fields(vec![("Seller".into(), "Nebula Software".into())])],
        ..Default::default()
    };
    let bytes = match pdf(&doc) {
        Ok(b) => b,
        Err(e) if std::env::var("CI").is_err() => return eprintln!("skipped: {e}"),
        Err(e) => panic!("{e}"),
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.pdf");
    std::fs::write(&file, &bytes).unwrap();
    let Some(text) = poppler("pdftotext", &file, &[]) else { return };
    assert!(
        text.contains("Contract HT-7-1") && text.contains("Nebula Software") && text.replace(' ', "").contains("1/1"),
        "{text}"
    );
}
