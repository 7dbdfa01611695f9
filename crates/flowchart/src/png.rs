//! The drawing as a PNG image, rasterised in-process by resvg (pure Rust, no browser). Text needs
//! fonts: the caller hands in a font database (the web server loads the system's fonts once;
//! with `fonts-wqy-microhei` installed, Chinese names render). Nothing here reads files.

use std::sync::Arc;

pub use resvg::usvg::fontdb;
use resvg::{tiny_skia, usvg};

/// Pixels per SVG unit: twice the drawing's size, sharp on high-density screens and in documents.
pub const SCALE: f32 = 2.0;

/// The largest image produced (either side, in pixels); larger drawings are scaled down to fit.
pub const MAX_SIDE: u32 = 8000;

/// Renders the standalone SVG from [`crate::svg::render`] to PNG bytes on a white background.
pub fn from_svg(svg: &str, fonts: Arc<fontdb::Database>) -> Result<Vec<u8>, String> {
    let options = usvg::Options { fontdb: fonts, ..usvg::Options::default() };
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| format!("the drawing does not parse: {e}"))?;
    let size = tree.size();
    let longest = size.width().max(size.height()).max(1.0);
    let scale = SCALE.min(MAX_SIDE as f32 / longest);
    let (w, h) = ((size.width() * scale).ceil() as u32, (size.height() * scale).ceil() as u32);
    let mut pixmap = tiny_skia::Pixmap::new(w.max(1), h.max(1)).ok_or("the drawing has no area")?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(&tree, tiny_skia::Transform::from_scale(scale, scale), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| format!("PNG encoding failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_rasterises_at_twice_its_size() {
        let fonts = Arc::new(fontdb::Database::new());
        for def in salesflow_domain::templates::all() {
            let layout = crate::layout(&def);
            let svg = crate::svg::render(&def, &layout, &Default::default());
            let png = from_svg(&svg, fonts.clone()).expect(&def.key);
            assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{}", def.key);
            let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
            assert_eq!(width, (layout.width as f32 * SCALE).ceil() as u32, "{}", def.key);
        }
    }
}
