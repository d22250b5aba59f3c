//! PDF export of a draft for sign-off, printing and the e-mail route. What it says is decided in
//! [`super::export_model`] (the same as the DOCX export); this file lays it out on A4 pages:
//! the title, the cycle line and the notice that the document is a drafting aid on the first
//! page, then the sections, questions (each with its place in the official format, in grey) and
//! answers, matrices as tables, and a footer of the report's title and "Page n / N".
//!
//! Text is set in DejaVu Sans, embedded as a subset (`export_pdf/fonts.rs`): Latin with its
//! extensions, Greek and Cyrillic print as typed ("Łódź – Кыргызстан – Türkiye ğş"), and a
//! ToUnicode map makes the text searchable and copyable as typed. Text is normalised to NFC
//! first, so an accent typed as a combining mark is one letter. Lines are wrapped with the
//! font's own widths. Right-to-left scripts (Arabic, Hebrew, …) are out of scope: they would
//! need bidirectional layout and shaping, so the export refuses them and names the question,
//! as it does for a character the font lacks (an emoji, Chinese), rather than print something
//! else than what was typed. The DOCX export keeps every character.

mod fonts;
#[cfg(test)]
mod wrap_props;

use pdf_writer::{Content, Date, Filter, Finish, Pdf, Rect, Ref, Str, TextStr};
use unicode_bidi::{BidiClass, bidi_class};
use unicode_normalization::UnicodeNormalization;

use self::fonts::{Font, FontUse, deflate};
use super::export_model::{self, Block, Document, MatrixRow};
use crate::ErrorCode;
use crate::{Core, Error, Result};

/// A4 in points.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
/// 20 mm on every side; the footer sits in the bottom margin.
const MARGIN: f32 = 56.69;
const TEXT_W: f32 = PAGE_W - 2.0 * MARGIN;
const FOOTER_BASELINE: f32 = 30.0;
/// Grey of references, the footer and the notice's border (0 black, 1 white).
const GREY: f32 = 0.4;
/// Fill behind the notice and a matrix's header row.
const TINT: f32 = 0.93;

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
    size: 17.0,
    leading: 21.0,
    space_before: 0.0,
    indent: 0.0,
    together: true,
};
const META: Style = Style {
    font: Font::Regular,
    size: 9.5,
    leading: 12.5,
    space_before: 4.0,
    indent: 0.0,
    together: true,
};
const NOTICE: Style = Style {
    font: Font::Regular,
    size: 8.5,
    leading: 11.0,
    space_before: 10.0,
    indent: 8.0,
    together: true,
};
const SECTION: Style = Style {
    font: Font::Bold,
    size: 13.0,
    leading: 17.0,
    space_before: 18.0,
    indent: 0.0,
    together: true,
};
const HEADING: Style = Style {
    font: Font::Bold,
    size: 11.0,
    leading: 14.5,
    space_before: 10.0,
    indent: 0.0,
    together: true,
};
const QUESTION: Style = Style {
    font: Font::Bold,
    size: 9.5,
    leading: 12.5,
    space_before: 8.0,
    indent: 0.0,
    together: true,
};
const ANSWER: Style = Style {
    font: Font::Regular,
    size: 9.5,
    leading: 12.5,
    space_before: 1.0,
    indent: 12.0,
    together: false,
};
/// References after a label, the footer and a matrix's header.
const SMALL: f32 = 8.0;
const FOOTER_SIZE: f32 = 8.0;
/// A matrix: its cells' text, padding and the share of the width its question column takes.
const CELL_SIZE: f32 = 8.5;
const CELL_LEADING: f32 = 11.0;
const CELL_PAD: f32 = 4.0;
const QUESTION_COLUMN: f32 = 0.42;

/// A character the PDF cannot show as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unshowable {
    /// A letter of a right-to-left script.
    RightToLeft(char),
    /// A character the font has no glyph for.
    Missing(char),
}

/// `text` as it is set: NFC, tabs as spaces, invisible marks (soft hyphen, zero-width spaces,
/// direction marks, emoji variation selectors) and control characters left out, spaces the font
/// lacks as spaces. Refuses right-to-left letters and characters `font` has no glyph for.
fn prepare(text: &str, font: Font) -> std::result::Result<String, Unshowable> {
    let mut out = String::with_capacity(text.len());
    for c in text.nfc() {
        let c = match c {
            '\n' => '\n',
            '\t' => ' ',
            '\u{AD}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}' => continue,
            c if c.is_control() => continue,
            c if matches!(bidi_class(c), BidiClass::R | BidiClass::AL | BidiClass::AN) => {
                return Err(Unshowable::RightToLeft(c));
            }
            c if font.has(c) => c,
            // spaces of other widths: the French narrow no-break space must not break a line
            '\u{202F}' | '\u{2007}' => '\u{A0}',
            '\u{2000}'..='\u{200A}' | '\u{205F}' | '\u{3000}' => ' ',
            c => return Err(Unshowable::Missing(c)),
        };
        out.push(c);
    }
    Ok(out)
}

/// Refused text as the error the person sees: what, and in which question.
fn refusal(unshowable: Unshowable, question: &str) -> Error {
    let question = question.trim();
    match unshowable {
        Unshowable::RightToLeft(c) => Error::invalid(
            ErrorCode::PdfRightToLeft,
            format!(
                "the PDF export cannot print right-to-left text yet (“{c}” in “{question}”); export as DOCX, which keeps it"
            ),
        )
        .with("question", question)
        .with("character", c.to_string()),
        Unshowable::Missing(c) => Error::invalid(
            ErrorCode::PdfCharacterMissing,
            format!(
                "the PDF font has no “{c}” (U+{:04X}, in “{question}”); export as DOCX, which keeps it, or remove the character",
                u32::from(c)
            ),
        )
        .with("question", question)
        .with("character", c.to_string())
        .with("code_point", format!("U+{:04X}", u32::from(c))),
    }
}

/// `text` cut into lines no wider than `max` points: at spaces, at the line breaks the user
/// typed, and inside a word only when the word alone is wider than a line (a long URL). The
/// spaces at a break are dropped; a line is blank only where the user typed a blank line.
fn wrap(text: &str, font: Font, size: f32, max: f32) -> Vec<String> {
    let space = font.width(" ", size);
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut line_w = 0.0;
        let mut started = false;
        for word in paragraph.split(' ') {
            let word_w = font.width(word, size);
            if started && line_w + space + word_w <= max {
                line.push(' ');
                line.push_str(word);
                line_w += space + word_w;
                continue;
            }
            if started {
                // the spaces at a break are dropped: they would start the next line, or
                // make a blank line of the leading spaces of a typed line
                if word.is_empty() {
                    continue;
                }
                if line.chars().all(|c| c == ' ') {
                    line.clear();
                } else {
                    lines.push(std::mem::take(&mut line));
                }
                line_w = 0.0;
            }
            started = true;
            if word_w <= max {
                line.push_str(word);
                line_w = word_w;
                continue;
            }
            for c in word.chars() {
                let w = font.advance(c) * size / 1000.0;
                if !line.is_empty() && line_w + w > max {
                    lines.push(std::mem::take(&mut line));
                    line_w = 0.0;
                }
                line.push(c);
                line_w += w;
            }
        }
        lines.push(line);
    }
    lines
}

/// `text` cut with "…" to fit `max` points (footers are one line).
fn fit(text: &str, font: Font, size: f32, max: f32) -> String {
    if font.width(text, size) <= max {
        return text.to_string();
    }
    let ellipsis = font.width("…", size);
    let mut out = String::new();
    let mut w = 0.0;
    for c in text.chars() {
        let cw = font.advance(c) * size / 1000.0;
        if w + cw + ellipsis > max {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push('…');
    out
}

/// What is drawn on a page.
#[derive(Debug, Clone, PartialEq)]
enum Mark {
    /// One line of text at its place.
    Text {
        font: Font,
        size: f32,
        x: f32,
        baseline: f32,
        grey: bool,
        text: String,
    },
    /// A filled rectangle (`gray` 0 black to 1 white) behind text.
    Fill { rect: [f32; 4], gray: f32 },
    /// A thin line.
    Rule { from: (f32, f32), to: (f32, f32) },
}

impl Mark {
    #[cfg(test)]
    fn text(&self) -> Option<&str> {
        match self {
            Mark::Text { text, .. } => Some(text),
            _ => None,
        }
    }
}

/// Fills pages top to bottom.
struct Pager {
    pages: Vec<Vec<Mark>>,
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

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = PAGE_H - MARGIN;
    }

    /// Starts a new page unless `height` more points fit on this one.
    fn need(&mut self, height: f32) {
        if !self.at_top() && self.y - height < MARGIN {
            self.new_page();
        }
    }

    fn push(&mut self, mark: Mark) {
        if let Some(page) = self.pages.last_mut() {
            page.push(mark);
        }
    }

    /// The baseline of a line whose box (`leading` high) starts at `top`, glyphs centred in it.
    fn baseline(top: f32, style_size: f32, leading: f32) -> f32 {
        top - (leading - style_size) / 2.0 - 0.8 * style_size
    }

    /// Places `lines` in `style`, the first one after the style's space. `keep` is how much of
    /// what follows must share the page with the lines, so that a heading or a question is
    /// never left alone at the foot of a page.
    fn place(&mut self, lines: Vec<String>, style: &Style, keep: f32) {
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
            let baseline = Self::baseline(self.y, style.size, style.leading);
            self.y -= style.leading;
            self.push(Mark::Text {
                font: style.font,
                size: style.size,
                x: MARGIN + style.indent,
                baseline,
                grey: false,
                text,
            });
        }
    }

    /// `text` wrapped to the width left by the style's indent, then placed, followed by the
    /// `reference` in small grey type on its last line (or under it, when the line is full).
    fn text(
        &mut self,
        text: &str,
        style: &Style,
        keep: f32,
        reference: Option<&str>,
    ) -> std::result::Result<(), Unshowable> {
        let text = prepare(text, style.font)?;
        let max = TEXT_W - style.indent;
        let mut lines = wrap(&text, style.font, style.size, max);
        let reference = match reference {
            Some(r) => Some(format!("[{}]", prepare(r, Font::Regular)?)),
            None => None,
        };
        let gap = style.font.width("  ", style.size);
        let ref_w = reference
            .as_deref()
            .map_or(0.0, |r| Font::Regular.width(r, SMALL));
        let ends_line = reference.is_some()
            && lines
                .last()
                .is_some_and(|l| style.font.width(l, style.size) + gap + ref_w > max);
        if ends_line {
            // the reference takes a line of its own; placed with the rest so they stay together
            lines.push(String::new());
        }
        self.place(lines, style, keep);
        let Some(reference) = reference else {
            return Ok(());
        };
        let last = if ends_line {
            // the empty line placed for the reference: it takes its place
            self.pages.last_mut().and_then(Vec::pop)
        } else {
            self.pages.last().and_then(|p| p.last()).cloned()
        };
        if let Some(Mark::Text {
            text: last,
            baseline,
            x,
            ..
        }) = last
        {
            let x = if last.is_empty() {
                x
            } else {
                x + style.font.width(&last, style.size) + gap
            };
            self.push(Mark::Text {
                font: Font::Regular,
                size: SMALL,
                x,
                baseline,
                grey: true,
                text: reference,
            });
        }
        Ok(())
    }

    /// The notice on a tinted band with a grey bar at its left.
    fn notice(&mut self, text: &str) -> std::result::Result<(), Unshowable> {
        let text = prepare(text, NOTICE.font)?;
        let lines = wrap(
            &text,
            NOTICE.font,
            NOTICE.size,
            TEXT_W - 2.0 * NOTICE.indent,
        );
        let pad = 5.0;
        let height = lines.len() as f32 * NOTICE.leading + 2.0 * pad;
        self.need(NOTICE.space_before + height);
        if !self.at_top() {
            self.y -= NOTICE.space_before;
        }
        let top = self.y;
        self.push(Mark::Fill {
            rect: [MARGIN, top - height, TEXT_W, height],
            gray: TINT,
        });
        self.push(Mark::Fill {
            rect: [MARGIN, top - height, 2.0, height],
            gray: GREY,
        });
        self.y -= pad;
        for line in lines {
            let baseline = Self::baseline(self.y, NOTICE.size, NOTICE.leading);
            self.y -= NOTICE.leading;
            self.push(Mark::Text {
                font: NOTICE.font,
                size: NOTICE.size,
                x: MARGIN + NOTICE.indent,
                baseline,
                grey: false,
                text: line,
            });
        }
        self.y -= pad;
        Ok(())
    }

    /// A matrix as a table: a header row of the choices, then a row per question with an "X"
    /// in the chosen column. A row never splits; the header is repeated on a new page.
    fn matrix(
        &mut self,
        columns: &[String],
        rows: &[MatrixRow],
        words: &export_model::Words,
    ) -> std::result::Result<(), (Unshowable, String)> {
        let q_w = TEXT_W * QUESTION_COLUMN;
        let c_w = (TEXT_W - q_w) / columns.len().max(1) as f32;
        let cell = |text: &str, font: Font, size: f32, width: f32| -> Vec<String> {
            wrap(text, font, size, width - 2.0 * CELL_PAD)
        };
        let mut labels = Vec::with_capacity(columns.len());
        for c in columns {
            labels.push(prepare(c, Font::Bold).map_err(|u| (u, c.clone()))?);
        }
        // the header's type is made smaller (down to 6 pt) rather than cut a word of a choice
        let widest = labels
            .iter()
            .flat_map(|l| l.split(' '))
            .map(|w| Font::Bold.width(w, CELL_SIZE))
            .fold(0.0, f32::max);
        let room = c_w - 2.0 * CELL_PAD;
        let head_size = if widest > room {
            (CELL_SIZE * room / widest).max(6.0)
        } else {
            CELL_SIZE
        };
        let mut header: Vec<Vec<String>> = vec![cell(words.question, Font::Bold, head_size, q_w)];
        for l in &labels {
            header.push(cell(l, Font::Bold, head_size, c_w));
        }
        let height = |cells: &[Vec<String>]| {
            cells.iter().map(Vec::len).max().unwrap_or(1) as f32 * CELL_LEADING + 2.0 * CELL_PAD
        };
        let header_h = height(&header);
        let mut body = Vec::with_capacity(rows.len());
        for row in rows {
            let q = prepare(&row.question, Font::Regular).map_err(|u| (u, row.question.clone()))?;
            body.push(cell(&q, Font::Regular, CELL_SIZE, q_w));
        }

        let draw_header = |pager: &mut Pager| {
            let top = pager.y;
            pager.push(Mark::Fill {
                rect: [MARGIN, top - header_h, TEXT_W, header_h],
                gray: TINT,
            });
            for (i, lines) in header.iter().enumerate() {
                let (x, width) = if i == 0 {
                    (MARGIN, q_w)
                } else {
                    (MARGIN + q_w + (i - 1) as f32 * c_w, c_w)
                };
                for (n, line) in lines.iter().enumerate() {
                    let line_top = top - CELL_PAD - n as f32 * CELL_LEADING;
                    let centred = if i == 0 {
                        x + CELL_PAD
                    } else {
                        x + (width - Font::Bold.width(line, head_size)) / 2.0
                    };
                    pager.push(Mark::Text {
                        font: Font::Bold,
                        size: head_size,
                        x: centred,
                        baseline: Pager::baseline(line_top, head_size, CELL_LEADING),
                        grey: false,
                        text: line.clone(),
                    });
                }
            }
            pager.y -= header_h;
            pager.push(Mark::Rule {
                from: (MARGIN, pager.y),
                to: (MARGIN + TEXT_W, pager.y),
            });
        };

        let first_row = body
            .first()
            .map_or(0.0, |b| height(std::slice::from_ref(b)));
        self.need(6.0 + header_h + first_row);
        if !self.at_top() {
            self.y -= 6.0;
        }
        draw_header(self);
        for (row, lines) in rows.iter().zip(&body) {
            let h = height(std::slice::from_ref(lines));
            if self.y - h < MARGIN {
                self.new_page();
                draw_header(self);
            }
            let top = self.y;
            for (n, line) in lines.iter().enumerate() {
                self.push(Mark::Text {
                    font: Font::Regular,
                    size: CELL_SIZE,
                    x: MARGIN + CELL_PAD,
                    baseline: Pager::baseline(
                        top - CELL_PAD - n as f32 * CELL_LEADING,
                        CELL_SIZE,
                        CELL_LEADING,
                    ),
                    grey: false,
                    text: line.clone(),
                });
            }
            let (mark, x) = match row.chosen {
                Some(i) => (
                    words.chosen,
                    MARGIN + q_w + i as f32 * c_w + c_w / 2.0
                        - Font::Bold.width(words.chosen, CELL_SIZE) / 2.0,
                ),
                // unanswered: "—" in the question's column, after the label
                None => (
                    export_model::MISSING,
                    MARGIN + q_w + c_w / 2.0
                        - Font::Bold.width(export_model::MISSING, CELL_SIZE) / 2.0,
                ),
            };
            self.push(Mark::Text {
                font: Font::Bold,
                size: CELL_SIZE,
                x,
                baseline: Pager::baseline(top - CELL_PAD, CELL_SIZE, CELL_LEADING),
                grey: row.chosen.is_none(),
                text: mark.to_string(),
            });
            self.y -= h;
            self.push(Mark::Rule {
                from: (MARGIN, self.y),
                to: (MARGIN + TEXT_W, self.y),
            });
        }
        Ok(())
    }
}

/// The body of the report laid out on pages.
fn layout(report: &Document) -> Result<Vec<Vec<Mark>>> {
    let mut pager = Pager::new();
    let title = report.title.as_str();
    pager
        .text(title, &TITLE, 0.0, None)
        .map_err(|u| refusal(u, title))?;
    pager
        .text(&report.meta, &META, 0.0, None)
        .map_err(|u| refusal(u, title))?;
    pager
        .notice(&report.notice)
        .map_err(|u| refusal(u, title))?;
    // a heading keeps at least a question and the first line of its answer with it
    let first_answer = QUESTION.space_before + QUESTION.leading + ANSWER.leading;
    for block in &report.blocks {
        match block {
            Block::Section { label, reference } => pager
                .text(label, &SECTION, first_answer, reference.as_deref())
                .map_err(|u| refusal(u, label))?,
            Block::Heading { label, reference } => pager
                .text(label, &HEADING, first_answer, reference.as_deref())
                .map_err(|u| refusal(u, label))?,
            Block::Answer {
                question,
                reference,
                answer,
            } => {
                pager
                    .text(
                        question,
                        &QUESTION,
                        ANSWER.space_before + ANSWER.leading,
                        reference.as_deref(),
                    )
                    .map_err(|u| refusal(u, question))?;
                pager
                    .text(answer, &ANSWER, 0.0, None)
                    .map_err(|u| refusal(u, question))?;
            }
            Block::Matrix {
                label,
                reference,
                columns,
                rows,
            } => {
                let keep = 3.0 * CELL_LEADING + 4.0 * CELL_PAD;
                match label {
                    Some(label) => pager
                        .text(label, &HEADING, keep, reference.as_deref())
                        .map_err(|u| refusal(u, label))?,
                    None => pager.need(keep),
                }
                pager
                    .matrix(columns, rows, &report.words)
                    .map_err(|(u, question)| refusal(u, &question))?;
            }
        }
    }
    Ok(pager.pages)
}

/// Draws `marks` and the footer into a page's content stream; text goes through `fonts`.
fn draw(marks: &[Mark], footer: (&str, &str), fonts: &mut [FontUse; 2]) -> Content {
    let mut content = Content::new();
    let mut show =
        |content: &mut Content, font: Font, size: f32, x: f32, y: f32, grey: bool, text: &str| {
            let used = match font {
                Font::Regular => &mut fonts[0],
                Font::Bold => &mut fonts[1],
            };
            let encoded = used.encode(text);
            // one text object per line, so extractors see each line as a line
            if grey {
                content.set_fill_gray(GREY);
            }
            content
                .begin_text()
                .set_font(font.resource(), size)
                .next_line(x, y)
                .show(Str(&encoded))
                .end_text();
            if grey {
                content.set_fill_gray(0.0);
            }
        };
    for mark in marks {
        match mark {
            Mark::Text {
                font,
                size,
                x,
                baseline,
                grey,
                text,
            } => show(&mut content, *font, *size, *x, *baseline, *grey, text),
            Mark::Fill { rect, gray } => {
                content
                    .set_fill_gray(*gray)
                    .rect(rect[0], rect[1], rect[2], rect[3])
                    .fill_nonzero()
                    .set_fill_gray(0.0);
            }
            Mark::Rule { from, to } => {
                content
                    .set_stroke_gray(0.75)
                    .set_line_width(0.5)
                    .move_to(from.0, from.1)
                    .line_to(to.0, to.1)
                    .stroke();
            }
        }
    }
    let (title, number) = footer;
    let number_w = Font::Regular.width(number, FOOTER_SIZE);
    let footer_title = fit(title, Font::Regular, FOOTER_SIZE, TEXT_W - number_w - 24.0);
    show(
        &mut content,
        Font::Regular,
        FOOTER_SIZE,
        MARGIN,
        FOOTER_BASELINE,
        true,
        &footer_title,
    );
    show(
        &mut content,
        Font::Regular,
        FOOTER_SIZE,
        PAGE_W - MARGIN - number_w,
        FOOTER_BASELINE,
        true,
        number,
    );
    content
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

fn failed(why: impl std::fmt::Display) -> Error {
    Error::invalid(
        ErrorCode::ExportFailed,
        format!("the report could not be written as PDF: {why}"),
    )
    .with("format", "pdf")
}

/// The draft as a PDF document (A4), labels in `lang` (`en`, `fr` or `es`), with the same
/// contents as [`super::export_docx`].
///
/// The date printed under the title is the day the draft was last changed, so the same draft
/// always gives the same bytes. Refuses (naming the question) text the PDF cannot show as
/// typed: right-to-left scripts and characters the font lacks.
pub fn export_pdf(core: &Core, draft_id: &str, lang: &str) -> Result<Vec<u8>> {
    let report = export_model::build(core, draft_id, lang)?;
    render(&report)
}

pub(crate) fn render(report: &Document) -> Result<Vec<u8>> {
    if !Font::ALL.iter().all(|f| f.loads()) {
        return Err(failed("the embedded font does not load"));
    }
    let pages = layout(report)?;

    let catalog_id = Ref::new(1);
    let tree_id = Ref::new(2);
    let info_id = Ref::new(3);
    // five objects per font
    let font_ids = [Ref::new(4), Ref::new(9)];
    // then a page and its content stream for each page
    let page_ids: Vec<(Ref, Ref)> = (0..pages.len())
        .map(|i| {
            let n = 14 + 2 * i as i32;
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
    let mut info = pdf.document_info(info_id);
    info.title(TextStr(&report.title))
        .author(TextStr(&report.author))
        .creator(TextStr("Stopover"));
    if let Some(date) = pdf_date(&report.created_at) {
        info.creation_date(date);
    }
    if let Some(date) = pdf_date(&report.updated_at) {
        info.modified_date(date);
    }
    info.finish();

    let mut fonts = [FontUse::new(Font::Regular), FontUse::new(Font::Bold)];
    let total = pages.len();
    // the footer's title is checked like the body's (the title was, on the first page)
    let footer_title =
        prepare(&report.title, Font::Regular).map_err(|u| refusal(u, &report.title))?;
    for (i, (marks, (page_id, content_id))) in pages.iter().zip(&page_ids).enumerate() {
        let mut page = pdf.page(*page_id);
        page.parent(tree_id)
            .media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H))
            .contents(*content_id);
        page.resources()
            .fonts()
            .pair(Font::Regular.resource(), font_ids[0])
            .pair(Font::Bold.resource(), font_ids[1]);
        page.finish();

        let number = format!("{} {} / {total}", report.words.page, i + 1);
        let content = draw(marks, (&footer_title, &number), &mut fonts);
        let data = content.finish().into_vec();
        pdf.stream(*content_id, &deflate(&data))
            .filter(Filter::FlateDecode);
    }
    let [regular, bold] = fonts;
    regular.write(&mut pdf, font_ids[0]).map_err(failed)?;
    bold.write(&mut pdf, font_ids[1]).map_err(failed)?;
    Ok(pdf.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_greek_and_cyrillic_are_kept_and_right_to_left_or_missing_characters_refused() {
        let typed =
            "Łódź – Кыргызстан – Türkiye ğş · Ελλάδα · é è ê ë à â ç ô û ù ñ ¿ ¡ œ æ « » ’ €";
        assert_eq!(prepare(typed, Font::Regular).unwrap(), typed);
        assert_eq!(prepare(typed, Font::Bold).unwrap(), typed);
        // decomposed accents are composed (NFC)
        assert_eq!(
            prepare(
                "Re\u{301}sume\u{301} n\u{303} Lo\u{301}dz\u{301}",
                Font::Regular
            )
            .unwrap(),
            "Résumé ñ Lódź"
        );
        assert_eq!(
            prepare("مرحبا", Font::Regular),
            Err(Unshowable::RightToLeft('م'))
        );
        assert_eq!(
            prepare("ok שלום", Font::Regular),
            Err(Unshowable::RightToLeft('ש'))
        );
        assert_eq!(
            prepare("canard 🦆", Font::Regular),
            Err(Unshowable::Missing('🦆'))
        );
        assert_eq!(
            prepare("北京", Font::Regular),
            Err(Unshowable::Missing('北'))
        );
        // spaces, invisible marks and direction marks
        assert_eq!(
            prepare(
                "a\u{202F}:\tb\u{2009}c\u{AD}d\u{200B}e\u{200E}f\u{FE0F}\r\ng",
                Font::Regular
            )
            .unwrap(),
            "a\u{202F}: b\u{2009}cdef\ng"
        );
    }

    #[test]
    fn refusals_name_the_question_and_the_character() {
        let e = refusal(Unshowable::RightToLeft('م'), " Nom commun ");
        assert_eq!(e.code(), ErrorCode::PdfRightToLeft);
        let e = refusal(Unshowable::Missing('🦆'), "Nom commun");
        assert_eq!(e.code(), ErrorCode::PdfCharacterMissing);
        assert!(e.to_string().contains("U+1F986"), "{e}");
    }

    #[test]
    fn wrapping_fills_lines_without_overflowing_and_keeps_every_word() {
        let para = "Les zones humides côtières accueillent chaque hiver des milliers d’oiseaux \
                    migrateurs ; leur protection dépend d’une coopération régionale étroite.";
        let max = 150.0;
        let lines = wrap(para, Font::Regular, 10.0, max);
        assert!(lines.len() > 2, "{lines:?}");
        for (i, line) in lines.iter().enumerate() {
            let w = Font::Regular.width(line, 10.0);
            assert!(w <= max, "line {i} is {w} pt wide");
            // greedy: the next line's first word would not have fitted on this one
            if let Some(next) = lines.get(i + 1) {
                let first = next.split(' ').next().unwrap();
                assert!(
                    w + Font::Regular.width(" ", 10.0) + Font::Regular.width(first, 10.0) > max
                );
            }
        }
        assert_eq!(
            lines.join(" "),
            para,
            "only the spaces at breaks are dropped"
        );

        // typed line breaks are kept, empty lines too; a word longer than a line is cut
        let lines = wrap("one\n\ntwo", Font::Regular, 10.0, max);
        assert_eq!(lines, ["one", "", "two"]);
        let long = "Кыргызстан".repeat(10);
        let lines = wrap(&long, Font::Regular, 10.0, max);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| Font::Regular.width(l, 10.0) <= max));
        assert_eq!(lines.concat(), long);

        // the spaces at a break do not make a blank line or start the next line (found by
        // the property test in `wrap_props`)
        let word = "Кыргызстан";
        let narrow = Font::Regular.width(word, 10.0);
        assert_eq!(
            wrap(&format!("  {word}"), Font::Regular, 10.0, narrow),
            [word]
        );
        assert_eq!(
            wrap(&format!("{word}   {word} "), Font::Regular, 10.0, narrow),
            [word, word]
        );
    }

    #[test]
    fn a_long_title_is_cut_with_an_ellipsis_in_the_footer() {
        let title = "Rapport national ".repeat(20);
        let cut = fit(&title, Font::Regular, 8.0, 200.0);
        assert!(Font::Regular.width(&cut, 8.0) <= 200.0);
        assert!(cut.ends_with('…'));
        assert_eq!(fit("short", Font::Regular, 8.0, 200.0), "short");
    }

    #[test]
    fn headings_and_questions_are_not_left_alone_at_the_foot_of_a_page() {
        let mut pager = Pager::new();
        // fill the page until less than a question and its first answer line is left
        while pager.y - 20.0 >= MARGIN {
            pager.text("filler", &ANSWER, 0.0, None).unwrap();
        }
        let pages = pager.pages.len();
        let keep = ANSWER.space_before + ANSWER.leading;
        pager
            .text("Question ?", &QUESTION, keep, Some("I"))
            .unwrap();
        pager.text("Réponse", &ANSWER, 0.0, None).unwrap();
        assert_eq!(
            pager.pages.len(),
            pages + 1,
            "the question moved to a new page"
        );
        let last = pager.pages.last().unwrap();
        let texts: Vec<&str> = last.iter().filter_map(Mark::text).collect();
        assert_eq!(texts, ["Question ?", "[I]", "Réponse"]);

        // a long answer starts under its question and runs on over the next page
        while pager.y - MARGIN >= 50.0 {
            pager.text("filler", &ANSWER, 0.0, None).unwrap();
        }
        let pages = pager.pages.len();
        pager.text("Question ?", &QUESTION, keep, None).unwrap();
        pager
            .text(&"ligne\n".repeat(10), &ANSWER, 0.0, None)
            .unwrap();
        assert_eq!(pager.pages.len(), pages + 1);
        let before: Vec<&str> = pager.pages[pages - 1]
            .iter()
            .filter_map(Mark::text)
            .collect();
        let question = before.iter().rposition(|l| *l == "Question ?").unwrap();
        assert_eq!(before[question + 1], "ligne");
        assert!(pager.pages[pages].iter().any(|l| l.text() == Some("ligne")));
    }

    #[test]
    fn a_reference_goes_on_the_last_line_or_under_it_when_the_line_is_full() {
        let mut pager = Pager::new();
        pager
            .text("Short", &QUESTION, 0.0, Some("III · T13"))
            .unwrap();
        // as many words as fit on one line: no room left for the reference
        let mut full = String::from("Wide");
        while Font::Bold.width(&format!("{full} Wide"), QUESTION.size) <= TEXT_W {
            full.push_str(" Wide");
        }
        pager
            .text(&full, &QUESTION, 0.0, Some("III · T13"))
            .unwrap();
        let marks = &pager.pages[0];
        let places: Vec<(f32, f32, &str)> = marks
            .iter()
            .filter_map(|m| match m {
                Mark::Text {
                    x, baseline, text, ..
                } => Some((*x, *baseline, text.as_str())),
                _ => None,
            })
            .collect();
        // after "Short", on its line
        assert_eq!(places[1].2, "[III · T13]");
        assert_eq!(places[1].1, places[0].1);
        assert!(places[1].0 > MARGIN + Font::Bold.width("Short", QUESTION.size));
        // after a full line: at the margin, on a line of its own
        let last = places.last().unwrap();
        assert_eq!(last.2, "[III · T13]");
        assert_eq!(last.0, MARGIN);
        assert!(last.1 < places[places.len() - 2].1);
        for (x, _, text) in &places {
            let font = if text.starts_with('[') {
                Font::Regular
            } else {
                Font::Bold
            };
            let size = if text.starts_with('[') {
                SMALL
            } else {
                QUESTION.size
            };
            assert!(
                x + font.width(text, size) <= MARGIN + TEXT_W + 0.01,
                "{text}"
            );
        }
    }

    #[test]
    fn stored_timestamps_become_pdf_dates() {
        assert!(pdf_date("2025-03-01T12:34:56.789Z").is_some());
        assert!(pdf_date("soon").is_none());
        assert!(pdf_date("2025-03").is_none());
    }
}
