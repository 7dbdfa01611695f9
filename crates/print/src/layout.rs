//! Laying a document out on A4 pages (first into drawing operations per page, so that every
//! page can carry "n / total"), then drawing them with krilla.

use krilla::Document as Pdf;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font as PdfFont, TextDirection};
use ttf_parser::Face;

use crate::fonts::{Font, FontError};
use crate::{Block, Document};

const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const LEFT: f32 = 56.0;
const RIGHT: f32 = PAGE_W - 56.0;
const TOP: f32 = 60.0;
const BOTTOM: f32 = PAGE_H - 64.0;
const BODY: f32 = 10.0;
const LEADING: f32 = 1.45;
const INK: (u8, u8, u8) = (20, 24, 31);
const MUTED: (u8, u8, u8) = (96, 104, 116);
const RULE: (u8, u8, u8) = (200, 205, 212);

enum Op {
    Text { x: f32, y: f32, size: f32, text: String, color: (u8, u8, u8) },
    Rule { x1: f32, x2: f32, y: f32, width: f32 },
}

/// Text widths in points, from the font's horizontal advances.
struct Metrics<'a> {
    face: Face<'a>,
    per_unit: f32,
}

impl Metrics<'_> {
    fn width(&self, text: &str, size: f32) -> f32 {
        let units: u32 = text
            .chars()
            .map(|c| self.face.glyph_index(c).and_then(|g| self.face.glyph_hor_advance(g)).unwrap_or(0) as u32)
            .sum();
        units as f32 * self.per_unit * size
    }

    /// `text` broken into lines no wider than `max`: at spaces between Latin words, between
    /// any two Chinese characters, never before closing punctuation; a word wider than a line
    /// is cut. Line breaks in the text are kept.
    fn wrap(&self, text: &str, size: f32, max: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for para in text.lines() {
            let mut line = String::new();
            for unit in units(para) {
                let candidate = format!("{line}{unit}");
                if self.width(candidate.trim_end(), size) <= max {
                    line = candidate;
                    continue;
                }
                if !line.trim().is_empty() {
                    lines.push(line.trim_end().to_string());
                }
                line = String::new();
                for c in unit.trim_start().chars() {
                    if !line.is_empty() && self.width(&format!("{line}{c}"), size) > max {
                        lines.push(std::mem::take(&mut line));
                    }
                    line.push(c);
                }
            }
            lines.push(line.trim_end().to_string());
        }
        if lines.is_empty() {
            lines.push(String::new());
        }
        lines
    }
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x2E80..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF | 0x20000..=0x2FA1F)
}

fn closes(c: char) -> bool {
    "，。、；：！？）》」』】〕,.;:!?)%％".contains(c)
}

/// Pieces a line may break between: a Latin word with the spaces after it, or one Chinese
/// character; closing punctuation stays with what it follows.
fn units(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if closes(c) {
            match (word.is_empty(), out.last_mut()) {
                (true, Some(last)) if !last.ends_with(' ') => last.push(c),
                _ => word.push(c),
            }
        } else if is_cjk(c) {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            out.push(c.to_string());
        } else if c == ' ' {
            word.push(c);
            out.push(std::mem::take(&mut word));
        } else {
            if word.ends_with(' ') {
                out.push(std::mem::take(&mut word));
            }
            word.push(c);
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

struct Pages<'a> {
    m: Metrics<'a>,
    pages: Vec<Vec<Op>>,
    y: f32,
}

impl Pages<'_> {
    fn ops(&mut self) -> &mut Vec<Op> {
        self.pages.last_mut().expect("a page")
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP;
    }

    /// Starts a new page unless `height` more points fit on this one.
    fn room(&mut self, height: f32) -> bool {
        if self.y + height > BOTTOM {
            self.new_page();
            return false;
        }
        true
    }

    fn text(&mut self, x: f32, y: f32, size: f32, text: &str, color: (u8, u8, u8)) {
        if !text.is_empty() {
            self.ops().push(Op::Text { x, y, size, text: text.to_string(), color });
        }
    }

    fn right(&mut self, right: f32, y: f32, size: f32, text: &str, color: (u8, u8, u8)) {
        let x = right - self.m.width(text, size);
        self.text(x, y, size, text, color);
    }

    fn rule(&mut self, y: f32, width: f32) {
        self.ops().push(Op::Rule { x1: LEFT, x2: RIGHT, y, width });
    }

    /// Wrapped lines at `x`, as wide as `max`, starting a new page when they run out of room.
    fn lines(&mut self, x: f32, max: f32, size: f32, text: &str, color: (u8, u8, u8)) {
        for line in self.m.wrap(text, size, max) {
            self.room(size * LEADING);
            self.y += size * LEADING;
            let y = self.y - size * 0.3;
            self.text(x, y, size, &line, color);
        }
    }

    fn block(&mut self, b: &Block) {
        match b {
            Block::Heading(h) => {
                self.room(14.0 * LEADING + 4.0 * BODY * LEADING);
                self.y += 10.0;
                self.lines(LEFT, RIGHT - LEFT, 12.5, h, INK);
                self.y += 3.0;
                let y = self.y;
                self.rule(y, 0.8);
                self.y += 4.0;
            }
            Block::Fields(rows) => {
                let label_w = rows.iter().map(|(l, _)| self.m.width(l, BODY)).fold(60.0, f32::max).min(160.0) + 14.0;
                let line_h = BODY * LEADING;
                for (label, value) in rows {
                    let labels = self.m.wrap(label, BODY, label_w - 10.0);
                    let values = self.m.wrap(value, BODY, RIGHT - LEFT - label_w);
                    self.room(labels.len().max(values.len()) as f32 * line_h);
                    for (x, lines, color) in [(LEFT, &labels, MUTED), (LEFT + label_w, &values, INK)] {
                        for (n, line) in lines.iter().enumerate() {
                            let y = self.y + (n + 1) as f32 * line_h - BODY * 0.3;
                            self.text(x, y, BODY, line, color);
                        }
                    }
                    self.y += labels.len().max(values.len()) as f32 * line_h + 2.0;
                }
            }
            Block::Table { header, rows, widths, right } => self.table(header, rows, widths, right),
            Block::Totals(rows) => {
                self.y += 4.0;
                for (i, (label, amount)) in rows.iter().enumerate() {
                    let size = if i + 1 == rows.len() { 12.0 } else { BODY };
                    self.room(size * LEADING);
                    self.y += size * LEADING;
                    let y = self.y - size * 0.3;
                    self.right(RIGHT - 130.0, y, size, label, MUTED);
                    self.right(RIGHT, y, size, amount, INK);
                }
            }
            Block::Paragraph(text) => {
                self.lines(LEFT, RIGHT - LEFT, BODY, text, INK);
                self.y += 4.0;
            }
        }
    }

    fn table(&mut self, header: &[String], rows: &[Vec<String>], widths: &[f32], right: &[bool]) {
        let total: f32 = widths.iter().sum::<f32>().max(f32::EPSILON);
        let cols: Vec<f32> = widths.iter().map(|w| w / total * (RIGHT - LEFT)).collect();
        let pad = 4.0;
        let size = 9.5;
        let line_h = size * LEADING;
        let layout = |m: &Metrics, cells: &[String]| -> Vec<Vec<String>> {
            cols.iter()
                .enumerate()
                .map(|(i, w)| m.wrap(cells.get(i).map_or("", String::as_str), size, w - 2.0 * pad))
                .collect()
        };
        let header_cells = layout(&self.m, header);
        let draw = |p: &mut Pages, cells: &[Vec<String>], color| {
            let height = cells.iter().map(Vec::len).max().unwrap_or(1) as f32 * line_h + 2.0 * pad;
            let mut x = LEFT;
            for (i, lines) in cells.iter().enumerate() {
                for (n, line) in lines.iter().enumerate() {
                    let y = p.y + pad + (n + 1) as f32 * line_h - size * 0.3;
                    if right.get(i).copied().unwrap_or(false) {
                        p.right(x + cols[i] - pad, y, size, line, color);
                    } else {
                        p.text(x + pad, y, size, line, color);
                    }
                }
                x += cols[i];
            }
            p.y += height;
            let y = p.y;
            p.rule(y, 0.4);
        };
        let header_h = header_cells.iter().map(Vec::len).max().unwrap_or(1) as f32 * line_h + 2.0 * pad;
        self.room(header_h + line_h + 2.0 * pad);
        self.y += 4.0;
        draw(self, &header_cells, MUTED);
        for row in rows {
            let cells = layout(&self.m, row);
            let height = cells.iter().map(Vec::len).max().unwrap_or(1) as f32 * line_h + 2.0 * pad;
            if !self.room(height) {
                draw(self, &header_cells, MUTED);
            }
            draw(self, &cells, INK);
        }
    }
}

pub fn render(doc: &Document, font: &Font) -> Result<Vec<u8>, FontError> {
    let face = Face::parse(&font.data, font.index).map_err(|e| FontError::Pdf(format!("font: {e}")))?;
    let per_unit = 1.0 / face.units_per_em() as f32;
    let mut p = Pages { m: Metrics { face, per_unit }, pages: Vec::new(), y: TOP };
    p.new_page();
    p.lines(LEFT, RIGHT - LEFT, 18.0, &doc.title, INK);
    if !doc.subtitle.is_empty() {
        p.lines(LEFT, RIGHT - LEFT, BODY, &doc.subtitle, MUTED);
    }
    p.y += 6.0;
    for b in &doc.blocks {
        p.block(b);
    }
    let count = p.pages.len();
    for (i, ops) in p.pages.iter_mut().enumerate() {
        let y = PAGE_H - 36.0;
        ops.push(Op::Text { x: LEFT, y, size: 8.0, text: doc.footer.clone(), color: MUTED });
        let number = format!("{} / {count}", i + 1);
        let x = RIGHT - p.m.width(&number, 8.0);
        ops.push(Op::Text { x, y, size: 8.0, text: number, color: MUTED });
    }

    let pdf_font = PdfFont::new(font.data.clone().into(), font.index)
        .ok_or_else(|| FontError::Pdf("the font cannot be embedded".into()))?;
    let mut pdf = Pdf::new();
    pdf.set_metadata(Metadata::new().title(doc.title.clone()).language(doc.language.clone()));
    for ops in &p.pages {
        let mut page = pdf.start_page_with(PageSettings::from_wh(PAGE_W, PAGE_H).expect("A4"));
        let mut surface = page.surface();
        for op in ops {
            match op {
                Op::Text { x, y, size, text, color } if !text.is_empty() => {
                    let paint = rgb::Color::new(color.0, color.1, color.2).into();
                    surface.set_fill(Some(Fill { paint, ..Default::default() }));
                    surface.set_stroke(None);
                    let at = Point::from_xy(*x, *y);
                    surface.draw_text(at, pdf_font.clone(), *size, text, false, TextDirection::Auto);
                }
                Op::Text { .. } => {}
                Op::Rule { x1, x2, y, width } => {
                    let mut path = PathBuilder::new();
                    path.move_to(*x1, *y);
                    path.line_to(*x2, *y);
                    if let Some(path) = path.finish() {
                        surface.set_fill(None);
                        let paint = rgb::Color::new(RULE.0, RULE.1, RULE.2).into();
                        surface.set_stroke(Some(Stroke { paint, width: *width, ..Default::default() }));
                        surface.draw_path(&path);
                    }
                }
            }
        }
        surface.finish();
        page.finish();
    }
    pdf.finish().map_err(|e| FontError::Pdf(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::units;

    #[test]
    fn breaks_between_chinese_characters_and_latin_words_but_not_before_closing_punctuation() {
        assert_eq!(units("报表，月底"), ["报", "表，", "月", "底"]);
        assert_eq!(units("Net 30 days."), ["Net ", "30 ", "days."]);
        assert_eq!(units("CRM 专业版"), ["CRM ", "专", "业", "版"]);
    }
}
