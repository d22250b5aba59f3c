//! A chart's SVG rasterised to PNG with resvg, using the DejaVu Sans built into the binary
//! (`crates/server/fonts`): no system fonts are read, so the picture is the same on every
//! server.

use std::sync::{Arc, LazyLock};

use resvg::{tiny_skia, usvg};

use crate::error::{Error, Result};

static FONTS: LazyLock<Arc<usvg::fontdb::Database>> = LazyLock::new(|| {
    let mut db = usvg::fontdb::Database::new();
    db.load_font_data(include_bytes!("../../fonts/DejaVuSans.ttf").to_vec());
    db.load_font_data(include_bytes!("../../fonts/DejaVuSans-Bold.ttf").to_vec());
    db.set_sans_serif_family("DejaVu Sans");
    Arc::new(db)
});

/// Renders `svg` at `scale` (2.0 for a sharp picture on a slide) to PNG bytes.
pub fn render(svg: &str, scale: f32) -> Result<Vec<u8>> {
    let options = usvg::Options {
        fontdb: FONTS.clone(),
        font_family: "DejaVu Sans".into(),
        ..Default::default()
    };
    let tree = usvg::Tree::from_str(svg, &options)
        .map_err(|e| Error::Corrupt(format!("chart SVG does not parse: {e}")))?;
    let size = tree.size();
    let (w, h) = (
        (size.width() * scale).ceil() as u32,
        (size.height() * scale).ceil() as u32,
    );
    let mut pixmap = tiny_skia::Pixmap::new(w.max(1), h.max(1))
        .ok_or_else(|| Error::Corrupt(format!("a chart of {w}×{h} pixels cannot be drawn")))?;
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| Error::Corrupt(format!("PNG encoding: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::{svg, tests::sample};

    #[test]
    fn a_chart_becomes_a_png_with_its_text_drawn() {
        let chart = sample();
        let png = render(&svg::render(&chart), 1.0).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        // The same chart without its texts draws fewer dark pixels: the labels were drawn
        // with the bundled font (no system font is loaded).
        let decoded = tiny_skia::Pixmap::decode_png(&png).unwrap();
        let dark = |p: &tiny_skia::Pixmap| {
            p.pixels()
                .iter()
                .filter(|c| c.red() < 80 && c.green() < 80 && c.blue() < 80)
                .count()
        };
        let mut silent = chart.clone();
        silent.title.clear();
        silent.categories = vec![String::new(); 2];
        for s in &mut silent.series {
            s.name.clear();
        }
        let bare =
            tiny_skia::Pixmap::decode_png(&render(&svg::render(&silent), 1.0).unwrap()).unwrap();
        assert_eq!(decoded.width(), 820);
        assert!(
            dark(&decoded) > dark(&bare) + 500,
            "{} dark pixels with text, {} without",
            dark(&decoded),
            dark(&bare)
        );
    }
}
