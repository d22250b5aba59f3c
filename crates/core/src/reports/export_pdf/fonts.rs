//! The PDF export's fonts: DejaVu Sans and DejaVu Sans Bold, shipped in `crates/core/fonts/`
//! (licence and provenance there), embedded in each PDF as a subset holding only the glyphs the
//! report uses.
//!
//! Each font is written as a Type 0 font with `Identity-H` encoding: the text strings are
//! 2-byte glyph ids of the subset, `CIDToGIDMap` is the identity, and a ToUnicode map gives
//! each glyph its character back, so that text copied or searched in a reader is the text
//! that was typed. Glyph ids, advances and the font's global metrics come from `ttf-parser`;
//! the subset from `subsetter` (both also used by Typst for the same job).

use std::collections::HashMap;
use std::io::Write;
use std::sync::LazyLock;

use flate2::Compression;
use flate2::write::ZlibEncoder;
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Filter, Finish, Name, Pdf, Rect, Ref, Str};
use sha2::{Digest, Sha256};
use subsetter::GlyphRemapper;
use ttf_parser::{Face, GlyphId};

static REGULAR_TTF: &[u8] = include_bytes!("../../../fonts/DejaVuSans.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../../../fonts/DejaVuSans-Bold.ttf");

/// The shipped fonts, parsed once. A font that does not parse is a build defect, caught by the
/// tests; `None` here turns it into an export error rather than a crash.
static REGULAR: LazyLock<Option<Face<'static>>> =
    LazyLock::new(|| Face::parse(REGULAR_TTF, 0).ok());
static BOLD: LazyLock<Option<Face<'static>>> = LazyLock::new(|| Face::parse(BOLD_TTF, 0).ok());

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Font {
    Regular,
    Bold,
}

impl Font {
    pub(super) const ALL: [Font; 2] = [Font::Regular, Font::Bold];

    /// The name of the font in each page's resources.
    pub(super) fn resource(self) -> Name<'static> {
        match self {
            Font::Regular => Name(b"F1"),
            Font::Bold => Name(b"F2"),
        }
    }

    fn data(self) -> &'static [u8] {
        match self {
            Font::Regular => REGULAR_TTF,
            Font::Bold => BOLD_TTF,
        }
    }

    fn face(self) -> Option<&'static Face<'static>> {
        match self {
            Font::Regular => REGULAR.as_ref(),
            Font::Bold => BOLD.as_ref(),
        }
    }

    /// The PostScript name, as the base of the subset's name.
    fn postscript_name(self) -> &'static str {
        match self {
            Font::Regular => "DejaVuSans",
            Font::Bold => "DejaVuSans-Bold",
        }
    }

    /// Whether the font can be parsed (it always can: the files are shipped with the code).
    pub(super) fn loads(self) -> bool {
        self.face().is_some()
    }

    /// Whether the font has a glyph for `c`.
    pub(super) fn has(self, c: char) -> bool {
        self.face()
            .and_then(|f| f.glyph_index(c))
            .is_some_and(|g| g.0 != 0)
    }

    /// The width of `c` in thousandths of the font size (0 for a character without a glyph).
    pub(super) fn advance(self, c: char) -> f32 {
        let Some(face) = self.face() else {
            return 0.0;
        };
        let units = face
            .glyph_index(c)
            .and_then(|g| face.glyph_hor_advance(g))
            .unwrap_or(0);
        f32::from(units) * 1000.0 / f32::from(face.units_per_em())
    }

    /// The width of `text` in points at `size`.
    pub(super) fn width(self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.advance(c)).sum::<f32>() * size / 1000.0
    }

    /// Scales font units to thousandths of the font size, as PDF font dictionaries take them.
    fn scale(self, units: impl Into<f32>) -> f32 {
        let em = self.face().map_or(1000, |f| f.units_per_em());
        units.into() * 1000.0 / f32::from(em)
    }
}

/// The glyphs one font has set so far in a document: each character's glyph in the subset
/// (numbered from 1 in the order of first use; 0 is `.notdef`), for the text strings, the
/// widths and the ToUnicode map.
pub(super) struct FontUse {
    font: Font,
    remapper: GlyphRemapper,
    /// Character → glyph id in the subset.
    glyphs: HashMap<char, u16>,
    /// Subset glyph id → the character it shows and its advance (thousandths of the size).
    used: Vec<(u16, char, f32)>,
}

impl FontUse {
    pub(super) fn new(font: Font) -> Self {
        FontUse {
            font,
            remapper: GlyphRemapper::new(),
            glyphs: HashMap::new(),
            used: Vec::new(),
        }
    }

    /// `text` as a PDF string of 2-byte subset glyph ids. Characters must have been checked
    /// with [`Font::has`]; one without a glyph is set as `.notdef` (a visible box).
    pub(super) fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let id = match self.glyphs.get(&c) {
                Some(&id) => id,
                None => {
                    let original = self
                        .font
                        .face()
                        .and_then(|f| f.glyph_index(c))
                        .unwrap_or(GlyphId(0));
                    let known = self.remapper.get(original.0).is_some();
                    let id = self.remapper.remap(original.0);
                    self.glyphs.insert(c, id);
                    // a glyph shared by two characters (a space and a no-break space) maps
                    // back to the first
                    if !known {
                        self.used.push((id, c, self.font.advance(c)));
                    }
                    id
                }
            };
            out.extend_from_slice(&id.to_be_bytes());
        }
        out
    }

    /// Writes the font (Type 0 font, CID font, descriptor, subset font file, ToUnicode map) at
    /// five consecutive ids from `first`. An error says why the subset could not be made.
    pub(super) fn write(mut self, pdf: &mut Pdf, first: Ref) -> Result<(), String> {
        let face = self
            .font
            .face()
            .ok_or_else(|| format!("the font {} does not load", self.font.postscript_name()))?;
        let [type0_id, cid_id, descriptor_id, file_id, cmap_id] =
            std::array::from_fn(|i| Ref::new(first.get() + i as i32));
        let subset = subsetter::subset(self.font.data(), 0, &self.remapper)
            .map_err(|e| format!("the font could not be subset: {e:?}"))?;
        self.used.sort_by_key(|(id, _, _)| *id);

        // The subset's tag: six capital letters derived from the glyphs it holds, so that the
        // same report gives the same file and two different subsets never share a name.
        let mut hash = Sha256::new();
        for (id, c, _) in &self.used {
            hash.update(id.to_be_bytes());
            hash.update(u32::from(*c).to_be_bytes());
        }
        let digest = hash.finalize();
        let tag: String = digest[..6]
            .iter()
            .map(|b| char::from(b'A' + b % 26))
            .collect();
        let base_name = format!("{tag}+{}", self.font.postscript_name());
        let base_name = Name(base_name.as_bytes());

        let system_info = SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        };

        pdf.type0_font(type0_id)
            .base_font(base_name)
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid_id)
            .to_unicode(cmap_id);

        let mut cid = pdf.cid_font(cid_id);
        cid.subtype(CidFontType::Type2)
            .base_font(base_name)
            .system_info(system_info)
            .font_descriptor(descriptor_id)
            .default_width(0.0)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        {
            let mut widths = cid.widths();
            for (id, _, advance) in &self.used {
                widths.consecutive(*id, [*advance]);
            }
        }
        cid.finish();

        let bbox = face.global_bounding_box();
        let mut flags = FontFlags::NON_SYMBOLIC;
        if self.font == Font::Bold {
            flags |= FontFlags::FORCE_BOLD;
        }
        let cap_height = face.capital_height().unwrap_or(face.ascender());
        pdf.font_descriptor(descriptor_id)
            .name(base_name)
            .flags(flags)
            .bbox(Rect::new(
                self.font.scale(bbox.x_min),
                self.font.scale(bbox.y_min),
                self.font.scale(bbox.x_max),
                self.font.scale(bbox.y_max),
            ))
            .italic_angle(face.italic_angle())
            .ascent(self.font.scale(face.ascender()))
            .descent(self.font.scale(face.descender()))
            .cap_height(self.font.scale(cap_height))
            .stem_v(if self.font == Font::Bold { 120.0 } else { 80.0 })
            .font_file2(file_id);

        let compressed = deflate(&subset);
        pdf.stream(file_id, &compressed)
            .filter(Filter::FlateDecode)
            .pair(Name(b"Length1"), subset.len() as i32);

        let mut cmap = UnicodeCmap::new(Name(b"Custom"), system_info);
        for (id, c, _) in &self.used {
            cmap.pair(*id, *c);
        }
        let cmap = cmap.finish();
        pdf.cmap(cmap_id, &deflate(&cmap))
            .filter(Filter::FlateDecode);
        Ok(())
    }
}

/// Zlib-compressed bytes (writing to a `Vec` cannot fail).
pub(super) fn deflate(data: &[u8]) -> Vec<u8> {
    let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
    let _ = z.write_all(data);
    z.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_fonts_load_and_cover_latin_greek_and_cyrillic() {
        for font in Font::ALL {
            assert!(font.loads(), "{font:?}");
            for c in "AzÀÿĀžƀɏΑωЀӿŁłĞğŞşİıŐőŒœ€–—…«»“”‘’\u{A0}".chars()
            {
                assert!(font.has(c), "{font:?} has no glyph for {c:?}");
            }
            assert!(!font.has('中'));
            assert!(!font.has('🦆'));
        }
        // DejaVu Sans: 2048 units per em, "H" 1540 units wide (regular)
        assert!((Font::Regular.advance('H') - 1540.0 * 1000.0 / 2048.0).abs() < 0.01);
        assert!(Font::Bold.advance('H') > Font::Regular.advance('H'));
        assert!((Font::Regular.width("HH", 10.0) - 2.0 * 15.40 * 1000.0 / 2048.0).abs() < 0.01);
    }

    #[test]
    fn glyphs_are_numbered_in_order_of_first_use_and_each_twice_the_same() {
        let mut used = FontUse::new(Font::Regular);
        let a = used.encode("Łó");
        let b = used.encode("óŁ");
        assert_eq!(a, [0, 1, 0, 2]);
        assert_eq!(b, [0, 2, 0, 1]);
        assert_eq!(used.used.len(), 2);
        assert_eq!(used.used[0].1, 'Ł');
    }
}
