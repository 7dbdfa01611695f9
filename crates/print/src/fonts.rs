//! Choosing the system font a document is printed in.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use fontdb::{Database, ID, Style, Weight};

/// Families tried first, in this order: CJK fonts that also carry Latin, then plain Latin ones.
const PREFERRED: &[&str] = &[
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
    "Noto Sans",
    "DejaVu Sans",
    "Liberation Sans",
];

#[derive(Debug, thiserror::Error)]
pub enum FontError {
    #[error("no installed font has the characters {missing} (install a CJK font such as fonts-wqy-microhei)")]
    NoFont { missing: String },
    #[error("the PDF could not be written: {0}")]
    Pdf(String),
}

/// A font file's bytes and the face in it.
#[derive(Clone)]
pub struct Font {
    pub data: Arc<Vec<u8>>,
    pub index: u32,
}

fn database() -> &'static Database {
    static DB: OnceLock<Database> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = Database::new();
        db.load_system_fonts();
        db
    })
}

/// Upright regular faces of the preferred families first, then every other face.
fn candidates(db: &Database) -> Vec<ID> {
    let rank = |f: &fontdb::FaceInfo| {
        let family = f.families.first().map(|(name, _)| name.as_str()).unwrap_or("");
        let preferred = PREFERRED.iter().position(|p| p.eq_ignore_ascii_case(family)).unwrap_or(PREFERRED.len());
        let plain = f.style == Style::Normal && f.weight == Weight::NORMAL;
        (!plain, preferred, family.to_string(), f.index)
    };
    let mut faces: Vec<_> = db.faces().collect();
    faces.sort_by_key(|f| rank(f));
    faces.into_iter().map(|f| f.id).collect()
}

fn load(db: &Database, id: ID) -> Option<Font> {
    static LOADED: OnceLock<Mutex<HashMap<ID, Font>>> = OnceLock::new();
    let cache = LOADED.get_or_init(Default::default);
    if let Some(f) = cache.lock().expect("font cache").get(&id) {
        return Some(f.clone());
    }
    let font = db.with_face_data(id, |data, index| Font { data: Arc::new(data.to_vec()), index })?;
    cache.lock().expect("font cache").insert(id, font.clone());
    Some(font)
}

/// The first candidate face with a glyph for every character of `text`.
pub fn covering(text: &str) -> Result<Font, FontError> {
    let wanted: BTreeSet<char> = text.chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect();
    let db = database();
    let mut best: Option<(usize, ID)> = None;
    for id in candidates(db) {
        let missing = db
            .with_face_data(id, |data, index| {
                let face = ttf_parser::Face::parse(data, index).ok()?;
                Some(wanted.iter().filter(|c| face.glyph_index(**c).is_none()).count())
            })
            .flatten();
        match missing {
            Some(0) => return load(db, id).ok_or_else(|| FontError::NoFont { missing: String::new() }),
            Some(n) if best.is_none_or(|(m, _)| n < m) => best = Some((n, id)),
            _ => {}
        }
    }
    let missing: String = match best {
        Some((_, id)) => db
            .with_face_data(id, |data, index| {
                let face = ttf_parser::Face::parse(data, index).ok();
                wanted.iter().filter(|c| face.as_ref().is_none_or(|f| f.glyph_index(**c).is_none())).take(12).collect()
            })
            .unwrap_or_default(),
        None => wanted.iter().take(12).collect(),
    };
    Err(FontError::NoFont { missing })
}
