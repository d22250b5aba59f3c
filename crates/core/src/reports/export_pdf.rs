//! PDF export of a draft for sign-off, printing and the e-mail route. What it says is decided in
//! [`super::export_model`] (the same as the DOCX export); this file lays it out on A4 pages with
//! a footer of the report's title and "Page n / N".
//!
//! Text is set in Helvetica and Helvetica-Bold, two of the 14 standard fonts every PDF reader
//! has, with WinAnsiEncoding: Latin-1 plus œ Œ € ‘ ’ “ ” – — … covers French and Spanish, and no
//! font file is embedded, which keeps both the app and the file small. Readers map WinAnsi codes
//! back to Unicode, so copied or searched text comes out as typed. Lines are wrapped with the
//! fonts' own widths (`export_pdf/helvetica.rs`), so they fit the page in every reader.

mod helvetica;

use std::io::Write;

use flate2::Compression;
use flate2::write::ZlibEncoder;
use pdf_writer::{Content, Date, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use super::export_model::{self, Block, Document};
use crate::{Core, Result};

/// A4 in points.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
/// 20 mm on every side; the footer sits in the bottom margin.
const MARGIN: f32 = 56.69;
const TEXT_W: f32 = PAGE_W - 2.0 * MARGIN;
const FOOTER_BASELINE: f32 = 30.0;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Font {
    Regular,
    Bold,
}

impl Font {
    /// The name of the font in each page's resources.
    fn resource(self) -> Name<'static> {
        match self {
            Font::Regular => Name(b"F1"),
            Font::Bold => Name(b"F2"),
        }
    }

    fn widths(self) -> &'static [u16; 256] {
        match self {
            Font::Regular => &helvetica::REGULAR,
            Font::Bold => &helvetica::BOLD,
        }
    }
}

/// How one kind of line is set.
struct Style {
    font: Font,
    size: f32,
    /// Height of a line, baseline to baseline.
    leading: f32,
    /// Space above the first line (none at the top of a page).
    space_before: f32,
    indent: f32,
    /// Whether all lines must share a page (headings, questions); an answer may run on.
    together: bool,
}

const TITLE: Style = Style {
    font: Font::Bold,
    size: 18.0,
    leading: 22.0,
    space_before: 0.0,
    indent: 0.0,
    together: true,
};
const META: Style = Style {
    font: Font::Regular,
    size: 10.0,
    leading: 13.0,
    space_before: 4.0,
    indent: 0.0,
    together: true,
};
const SECTION: Style = Style {
    font: Font::Bold,
    size: 14.0,
    leading: 18.0,
    space_before: 18.0,
    indent: 0.0,
    together: true,
};
const HEADING: Style = Style {
    font: Font::Bold,
    size: 11.5,
    leading: 15.0,
    space_before: 10.0,
    indent: 0.0,
    together: true,
};
const QUESTION: Style = Style {
    font: Font::Bold,
    size: 10.0,
    leading: 13.0,
    space_before: 8.0,
    indent: 0.0,
    together: true,
};
const ANSWER: Style = Style {
    font: Font::Regular,
    size: 10.0,
    leading: 13.0,
    space_before: 1.0,
    indent: 12.0,
    together: false,
};
const FOOTER_SIZE: f32 = 8.0;

/// The WinAnsiEncoding code of `c`, if it has one.
fn winansi(c: char) -> Option<u8> {
    Some(match c {
        ' '..='~' | '\u{A0}'..='\u{FF}' => c as u8,
        '€' => 0x80,
        '‚' => 0x82,
        'ƒ' => 0x83,
        '„' => 0x84,
        '…' => 0x85,
        '†' => 0x86,
        '‡' => 0x87,
        'ˆ' => 0x88,
        '‰' => 0x89,
        'Š' => 0x8A,
        '‹' => 0x8B,
        'Œ' => 0x8C,
        'Ž' => 0x8E,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '˜' => 0x98,
        '™' => 0x99,
        'š' => 0x9A,
        '›' => 0x9B,
        'œ' => 0x9C,
        'ž' => 0x9E,
        'Ÿ' => 0x9F,
        _ => return None,
    })
}

/// `base` followed by the combining `mark`, as one WinAnsi letter: text pasted from some
/// sources (macOS file names, some PDFs) spells "é" as "e" + U+0301.
fn compose(base: u8, mark: char) -> Option<u8> {
    let pairs = match mark {
        '\u{300}' => "AÀEÈIÌOÒUÙaàeèiìoòuù",
        '\u{301}' => "AÁEÉIÍOÓUÚYÝaáeéiíoóuúyý",
        '\u{302}' => "AÂEÊIÎOÔUÛaâeêiîoôuû",
        '\u{303}' => "AÃNÑOÕaãnñoõ",
        '\u{308}' => "AÄEËIÏOÖUÜYŸaäeëiïoöuüyÿ",
        '\u{30A}' => "AÅaå",
        '\u{30C}' => "SŠZŽsšzž",
        '\u{327}' => "CÇcç",
        _ => return None,
    };
    let mut it = pairs.chars();
    while let (Some(b), Some(composed)) = (it.next(), it.next()) {
        if b as u32 == u32::from(base) {
            return winansi(composed);
        }
    }
    None
}

/// `text` as WinAnsi bytes, line breaks kept as `\n` for [`wrap`].
///
/// WinAnsi has no Cyrillic, Greek, Arabic, CJK or emoji: such a character is printed as `?`,
/// visibly, rather than dropped or failing the export (the DOCX and JSON exports keep it).
/// Spaces of other widths become spaces, and invisible marks (soft hyphen, zero-width spaces,
/// direction marks, emoji variation selectors) are left out.
fn encode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        let byte = match c {
            '\n' => b'\n',
            '\t' => b' ',
            '\u{AD}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2060}'..='\u{2064}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}' => continue,
            c if c.is_control() => continue,
            // the narrow no-break space of French typography (« oui », « ; ») and the figure
            // space must not break a line either
            '\u{202F}' | '\u{2007}' => 0xA0,
            '\u{2000}'..='\u{200A}' | '\u{205F}' | '\u{3000}' => b' ',
            '\u{2010}' | '\u{2011}' | '\u{2212}' => b'-',
            '\u{300}'..='\u{36F}' => {
                if let Some(last) = out.last_mut()
                    && let Some(composed) = compose(*last, c)
                {
                    *last = composed;
                    continue;
                }
                b'?'
            }
            c => winansi(c).unwrap_or(b'?'),
        };
        out.push(byte);
    }
    out
}

/// Width of WinAnsi `text` in points.
fn width(text: &[u8], font: Font, size: f32) -> f32 {
    let widths = font.widths();
    let units: u32 = text
        .iter()
        .map(|&b| u32::from(widths[usize::from(b)]))
        .sum();
    units as f32 * size / 1000.0
}

/// `text` cut into lines no wider than `max` points: at spaces, at the line breaks the user
/// typed, and inside a word only when the word alone is wider than a line (a long URL).
fn wrap(text: &[u8], font: Font, size: f32, max: f32) -> Vec<Vec<u8>> {
    let space = width(b" ", font, size);
    let mut lines = Vec::new();
    for paragraph in text.split(|&b| b == b'\n') {
        let mut line: Vec<u8> = Vec::new();
        let mut line_w = 0.0;
        let mut started = false;
        for word in paragraph.split(|&b| b == b' ') {
            let word_w = width(word, font, size);
            if started && line_w + space + word_w <= max {
                line.push(b' ');
                line.extend_from_slice(word);
                line_w += space + word_w;
                continue;
            }
            if started {
                lines.push(std::mem::take(&mut line));
                line_w = 0.0;
            }
            started = true;
            if word_w <= max {
                line.extend_from_slice(word);
                line_w = word_w;
                continue;
            }
            for &b in word {
                let w = width(&[b], font, size);
                if !line.is_empty() && line_w + w > max {
                    lines.push(std::mem::take(&mut line));
                    line_w = 0.0;
                }
                line.push(b);
                line_w += w;
            }
        }
        lines.push(line);
    }
    lines
}

/// One line of text at its place on a page.
struct Placed {
    font: Font,
    size: f32,
    x: f32,
    baseline: f32,
    text: Vec<u8>,
}

/// Fills pages top to bottom.
struct Pager {
    pages: Vec<Vec<Placed>>,
    /// Top of the next line.
    y: f32,
}

impl Pager {
    fn new() -> Self {
        Pager {
            pages: vec![Vec::new()],
            y: PAGE_H - MARGIN,
        }
    }

    fn at_top(&self) -> bool {
        self.pages.last().is_none_or(Vec::is_empty)
    }

    /// Starts a new page unless `height` more points fit on this one.
    fn need(&mut self, height: f32) {
        if !self.at_top() && self.y - height < MARGIN {
            self.pages.push(Vec::new());
            self.y = PAGE_H - MARGIN;
        }
    }

    /// Places `lines` in `style`, the first one after the style's space. `keep` is how much of
    /// what follows must share the page with the lines, so that a heading or a question is
    /// never left alone at the foot of a page.
    fn place(&mut self, lines: Vec<Vec<u8>>, style: &Style, keep: f32) {
        let kept = if style.together {
            lines.len().max(1)
        } else {
            1
        };
        self.need(style.space_before + style.leading * kept as f32 + keep);
        if !self.at_top() {
            self.y -= style.space_before;
        }
        for text in lines {
            self.need(style.leading);
            // the line's box is `leading` high with the glyphs centred in it
            let baseline = self.y - (style.leading - style.size) / 2.0 - 0.8 * style.size;
            self.y -= style.leading;
            if let Some(page) = self.pages.last_mut() {
                page.push(Placed {
                    font: style.font,
                    size: style.size,
                    x: MARGIN + style.indent,
                    baseline,
                    text,
                });
            }
        }
    }

    /// `text` wrapped to the width left by the style's indent, then placed.
    fn text(&mut self, text: &str, style: &Style, keep: f32) {
        let lines = wrap(&encode(text), style.font, style.size, TEXT_W - style.indent);
        self.place(lines, style, keep);
    }
}

/// The body of the report laid out on pages.
fn layout(report: &Document) -> Vec<Vec<Placed>> {
    let mut pager = Pager::new();
    pager.text(&report.title, &TITLE, 0.0);
    pager.text(&report.meta, &META, 0.0);
    // a heading keeps at least a question and the first line of its answer with it
    let first_answer = QUESTION.space_before + QUESTION.leading + ANSWER.leading;
    for block in &report.blocks {
        match block {
            Block::Section(label) => pager.text(label, &SECTION, first_answer),
            Block::Heading(label) => pager.text(label, &HEADING, first_answer),
            Block::Answer { question, answer } => {
                pager.text(question, &QUESTION, ANSWER.space_before + ANSWER.leading);
                pager.text(answer, &ANSWER, 0.0);
            }
        }
    }
    pager.pages
}

/// `text` cut with "…" to fit `max` points (footers are one line).
fn fit(text: &[u8], font: Font, size: f32, max: f32) -> Vec<u8> {
    if width(text, font, size) <= max {
        return text.to_vec();
    }
    let ellipsis = width(&[0x85], font, size);
    let mut out = Vec::new();
    let mut w = 0.0;
    for &b in text {
        let bw = width(&[b], font, size);
        if w + bw + ellipsis > max {
            break;
        }
        out.push(b);
        w += bw;
    }
    out.push(0x85);
    out
}

fn show(content: &mut Content, font: Font, size: f32, x: f32, y: f32, text: &[u8]) {
    // one text object per line, so extractors see each line as a line
    content
        .begin_text()
        .set_font(font.resource(), size)
        .next_line(x, y)
        .show(Str(text))
        .end_text();
}

/// A page's drawing operations, compressed when that works (it always does for a `Vec`, but an
/// uncompressed stream is as valid).
fn write_content(pdf: &mut Pdf, id: Ref, content: Content) {
    let data = content.finish().into_vec();
    let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
    match z.write_all(&data).and_then(|()| z.finish()) {
        Ok(deflated) => {
            pdf.stream(id, &deflated).filter(Filter::FlateDecode);
        }
        Err(_) => {
            pdf.stream(id, &data);
        }
    }
}

/// A PDF date from a stored timestamp (`2025-03-01T12:34:56.789Z`), if it reads as one.
fn pdf_date(stamp: &str) -> Option<Date> {
    let part = |range: std::ops::Range<usize>| stamp.get(range)?.parse::<u8>().ok();
    let year = stamp.get(0..4)?.parse::<u16>().ok()?;
    Some(
        Date::new(year)
            .month(part(5..7)?)
            .day(part(8..10)?)
            .hour(part(11..13)?)
            .minute(part(14..16)?)
            .second(part(17..19)?)
            .utc_offset_hour(0)
            .utc_offset_minute(0),
    )
}

/// The draft as a PDF document (A4), labels in `lang` (`en`, `fr` or `es`), with the same
/// contents as [`super::export_docx`].
///
/// The date printed under the title is the day the draft was last changed, so the same draft
/// always gives the same bytes.
pub fn export_pdf(core: &Core, draft_id: &str, lang: &str) -> Result<Vec<u8>> {
    let report = export_model::build(core, draft_id, lang)?;
    let pages = layout(&report);

    let catalog_id = Ref::new(1);
    let tree_id = Ref::new(2);
    let regular_id = Ref::new(3);
    let bold_id = Ref::new(4);
    let info_id = Ref::new(5);
    // then a page and its content stream for each page
    let page_ids: Vec<(Ref, Ref)> = (0..pages.len())
        .map(|i| {
            let n = 6 + 2 * i as i32;
            (Ref::new(n), Ref::new(n + 1))
        })
        .collect();

    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id)
        .pages(tree_id)
        .lang(TextStr(report.lang));
    pdf.pages(tree_id)
        .kids(page_ids.iter().map(|(page, _)| *page))
        .count(pages.len() as i32);
    pdf.type1_font(regular_id)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold_id)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    let mut info = pdf.document_info(info_id);
    info.title(TextStr(&report.title))
        .creator(TextStr("Stopover"));
    if let Some(date) = pdf_date(&report.created_at) {
        info.creation_date(date);
    }
    if let Some(date) = pdf_date(&report.updated_at) {
        info.modified_date(date);
    }
    info.finish();

    let total = pages.len();
    let title = encode(&report.title);
    for (i, (lines, (page_id, content_id))) in pages.iter().zip(&page_ids).enumerate() {
        let mut page = pdf.page(*page_id);
        page.parent(tree_id)
            .media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H))
            .contents(*content_id);
        page.resources()
            .fonts()
            .pair(Font::Regular.resource(), regular_id)
            .pair(Font::Bold.resource(), bold_id);
        page.finish();

        let mut content = Content::new();
        for line in lines {
            show(
                &mut content,
                line.font,
                line.size,
                line.x,
                line.baseline,
                &line.text,
            );
        }
        let number = encode(&format!("{} {} / {total}", report.words.page, i + 1));
        let number_w = width(&number, Font::Regular, FOOTER_SIZE);
        let footer_title = fit(&title, Font::Regular, FOOTER_SIZE, TEXT_W - number_w - 24.0);
        show(
            &mut content,
            Font::Regular,
            FOOTER_SIZE,
            MARGIN,
            FOOTER_BASELINE,
            &footer_title,
        );
        show(
            &mut content,
            Font::Regular,
            FOOTER_SIZE,
            PAGE_W - MARGIN - number_w,
            FOOTER_BASELINE,
            &number,
        );
        write_content(&mut pdf, *content_id, content);
    }
    Ok(pdf.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: &[u8]) -> String {
        // WinAnsi → Unicode for the codes these tests use
        bytes
            .iter()
            .map(|&b| match b {
                0x80 => '€',
                0x85 => '…',
                0x92 => '’',
                0x9C => 'œ',
                _ => char::from(b),
            })
            .collect()
    }

    #[test]
    fn french_and_spanish_text_is_winansi_and_the_rest_is_a_visible_question_mark() {
        let latin = "é è ê ë à â ç ô û ù ñ ¿ ¡ æ « » Ñ É";
        assert_eq!(text(&encode(latin)), latin);
        assert_eq!(
            encode("œ ’ €"),
            [0x9C, b' ', 0x92, b' ', 0x80],
            "codes from the WinAnsi table, not Latin-1"
        );
        // decomposed accents are composed; an uncomposable mark is shown as "?"
        assert_eq!(text(&encode("Re\u{301}sume\u{301} n\u{303}")), "Résumé ñ");
        assert_eq!(text(&encode("w\u{301}")), "w?");
        assert_eq!(text(&encode("\u{301}x")), "?x");
        // outside WinAnsi: one "?" per character, emoji variation selectors left out
        assert_eq!(text(&encode("Москва ❤\u{FE0F} 🦆 ok")), "?????? ? ? ok");
        // spaces, hyphens and invisible marks
        assert_eq!(
            encode("a\u{202F}:\tb\u{2009}c\u{AD}d\u{200B}e\u{2011}f\r\ng"),
            b"a\xA0: b cde-f\ng"
        );
    }

    #[test]
    fn widths_are_the_adobe_metrics() {
        // H 722 + e 556 + l 222 + l 222 + o 556 = 2278 thousandths
        assert!((width(b"Hello", Font::Regular, 10.0) - 22.78).abs() < 1e-3);
        // bold: H 722 + e 556 + l 278 + l 278 + o 611 = 2445
        assert!((width(b"Hello", Font::Bold, 10.0) - 24.45).abs() < 1e-3);
        assert_eq!(helvetica::REGULAR[0x9C], 944, "œ");
        assert_eq!(helvetica::REGULAR[0x80], 556, "€");
        assert_eq!(helvetica::REGULAR[usize::from(b'i')], 222);
        // every code encode() can produce has a width
        for c in (' '..='~')
            .chain('\u{A0}'..='\u{FF}')
            .chain("€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ".chars())
        {
            let b = winansi(c).unwrap();
            assert!(helvetica::REGULAR[usize::from(b)] > 0, "{c}");
            assert!(helvetica::BOLD[usize::from(b)] > 0, "{c}");
        }
    }

    #[test]
    fn wrapping_fills_lines_without_overflowing_and_keeps_every_word() {
        let para = "Les zones humides côtières accueillent chaque hiver des milliers d’oiseaux \
                    migrateurs ; leur protection dépend d’une coopération régionale étroite.";
        let encoded = encode(para);
        let max = 150.0;
        let lines = wrap(&encoded, Font::Regular, 10.0, max);
        assert!(lines.len() > 2, "{lines:?}");
        for (i, line) in lines.iter().enumerate() {
            let w = width(line, Font::Regular, 10.0);
            assert!(w <= max, "line {i} is {w} pt wide");
            // greedy: the next line's first word would not have fitted on this one
            if let Some(next) = lines.get(i + 1) {
                let first = next.split(|&b| b == b' ').next().unwrap();
                assert!(
                    w + width(b" ", Font::Regular, 10.0) + width(first, Font::Regular, 10.0) > max
                );
            }
        }
        assert_eq!(
            lines.join(&b' '),
            encoded,
            "only the spaces at breaks are dropped"
        );

        // typed line breaks are kept, empty lines too; a word longer than a line is cut
        let lines = wrap(b"one\n\ntwo", Font::Regular, 10.0, max);
        assert_eq!(lines, [b"one".to_vec(), vec![], b"two".to_vec()]);
        let long = [b'm'; 100];
        let lines = wrap(&long, Font::Regular, 10.0, max);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| width(l, Font::Regular, 10.0) <= max));
        assert_eq!(lines.concat(), long);
    }

    #[test]
    fn a_long_title_is_cut_with_an_ellipsis_in_the_footer() {
        let title = encode(&"Rapport national ".repeat(20));
        let cut = fit(&title, Font::Regular, 8.0, 200.0);
        assert!(width(&cut, Font::Regular, 8.0) <= 200.0);
        assert_eq!(cut.last(), Some(&0x85));
        assert_eq!(fit(b"short", Font::Regular, 8.0, 200.0), b"short");
    }

    #[test]
    fn headings_and_questions_are_not_left_alone_at_the_foot_of_a_page() {
        let mut pager = Pager::new();
        // fill the page until less than a question and its first answer line is left
        while pager.y - 20.0 >= MARGIN {
            pager.text("filler", &ANSWER, 0.0);
        }
        let pages = pager.pages.len();
        pager.text(
            "Question ?",
            &QUESTION,
            ANSWER.space_before + ANSWER.leading,
        );
        pager.text("Réponse", &ANSWER, 0.0);
        assert_eq!(
            pager.pages.len(),
            pages + 1,
            "the question moved to a new page"
        );
        let last = pager.pages.last().unwrap();
        assert_eq!(last.len(), 2);
        assert_eq!(last[0].text, b"Question ?");
        assert!(last[0].baseline > last[1].baseline);
        assert!(last[1].baseline > MARGIN);

        // a long answer starts under its question and runs on over the next page: fill the
        // page until just more than a question and one answer line (35 pt) is left
        while pager.y - MARGIN >= 50.0 {
            pager.text("filler", &ANSWER, 0.0);
        }
        let pages = pager.pages.len();
        pager.text(
            "Question ?",
            &QUESTION,
            ANSWER.space_before + ANSWER.leading,
        );
        pager.text(&"ligne\n".repeat(10), &ANSWER, 0.0);
        assert_eq!(pager.pages.len(), pages + 1);
        let before = &pager.pages[pages - 1];
        let question = before
            .iter()
            .rposition(|l| l.text == b"Question ?")
            .unwrap();
        assert_eq!(before[question + 1].text, b"ligne");
        assert!(before.iter().all(|l| l.baseline > MARGIN - 3.0));
        assert!(pager.pages[pages].iter().any(|l| l.text == b"ligne"));
    }

    #[test]
    fn stored_timestamps_become_pdf_dates() {
        assert!(pdf_date("2025-03-01T12:34:56.789Z").is_some());
        assert!(pdf_date("soon").is_none());
        assert!(pdf_date("2025-03").is_none());
    }
}
