//! Printable documents as PDF: a quote or a contract is described as a [`Document`] (title,
//! label/value fields, item tables, totals, paragraphs) and laid out here on A4 pages with page
//! numbers, in one system font that covers every character of the document (for Chinese a CJK
//! font such as WenQuanYi Micro Hei or Noto Sans CJK must be installed). The font is embedded as
//! a subset, so the file reads the same everywhere. krilla writes the PDF.
//!
//! Lines wrap at spaces in Latin text and between any two characters in Chinese, never before
//! closing punctuation (，。、). Tables repeat their header on every page they run onto.

mod fonts;
mod layout;

pub use fonts::FontError;

/// One printable document, top to bottom.
#[derive(Debug, Clone, Default)]
pub struct Document {
    /// Shown large at the top and stored as the PDF's title.
    pub title: String,
    /// A smaller line under the title (number, date).
    pub subtitle: String,
    /// BCP 47 language of the text (`zh-CN`, `en`), stored in the PDF.
    pub language: String,
    pub blocks: Vec<Block>,
    /// Printed at the foot of every page before the page number.
    pub footer: String,
}

#[derive(Debug, Clone)]
pub enum Block {
    /// A section heading.
    Heading(String),
    /// Label and value rows (parties, dates); values wrap.
    Fields(Vec<(String, String)>),
    /// Items: one header row, then rows of cells; `widths` are relative, `right` marks the
    /// columns aligned right (amounts).
    Table { header: Vec<String>, rows: Vec<Vec<String>>, widths: Vec<f32>, right: Vec<bool> },
    /// Label and amount rows aligned right under a table; the last one is printed bold-sized.
    Totals(Vec<(String, String)>),
    /// Running text; line breaks in it are kept.
    Paragraph(String),
}

/// The document as a PDF file.
pub fn pdf(doc: &Document) -> Result<Vec<u8>, FontError> {
    let font = fonts::covering(&doc.all_text())?;
    layout::render(doc, &font)
}

impl Document {
    fn all_text(&self) -> String {
        let mut all = format!("{}{}{}0123456789/ ", self.title, self.subtitle, self.footer);
        for b in &self.blocks {
            match b {
                Block::Heading(t) | Block::Paragraph(t) => all.push_str(t),
                Block::Fields(rows) | Block::Totals(rows) => rows.iter().for_each(|(a, b)| {
                    all.push_str(a);
                    all.push_str(b);
                }),
                Block::Table { header, rows, .. } => {
                    header.iter().chain(rows.iter().flatten()).for_each(|c| all.push_str(c));
                }
            }
        }
        all
    }
}
