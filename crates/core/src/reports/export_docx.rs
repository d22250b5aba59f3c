//! DOCX export of a draft for sign-off, printing and the e-mail route. What it says is decided in
//! [`super::export_model`]; this file lays it out as Word paragraphs, styles and tables.
//!
//! Besides the body, the file says what Word needs to treat it well: its title and author (the
//! signed-in person, else "Stopover") in the document properties, and the export's language as
//! the default language of the text, so that Word checks French spelling as French. `docx-rs`
//! writes neither, so they are added to the packed file (`docProps/core.xml`,
//! `word/styles.xml`).

use std::io::{Cursor, Read, Write};

use docx_rs::{
    BreakType, Docx, Paragraph, Run, Shading, Style, StyleType, Table, TableCell, TableRow,
    WidthType,
};

use super::export_model::{self, Block, Document, MatrixRow};
use crate::ErrorCode;
use crate::{Core, Error, Result};

/// The text width of an A4 page with docx-rs's default margins, in twentieths of a point.
const TEXT_TWIPS: usize = 11906 - 2 * 1701;
/// Grey of the references and the notice (hex RGB).
const GREY: &str = "666666";

/// The language tag Word reads for spelling and grammar.
fn word_language(lang: &str) -> &'static str {
    match lang {
        "fr" => "fr-FR",
        "es" => "es-ES",
        _ => "en-GB",
    }
}

/// A run of `text`; line breaks in it become line breaks in the document.
fn text_run(text: &str) -> Run {
    let mut run = Run::new();
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            run = run.add_break(BreakType::TextWrapping);
        }
        run = run.add_text(line.trim_end_matches('\r'));
    }
    run
}

fn text_paragraph(text: &str, bold: bool) -> Paragraph {
    let run = text_run(text);
    Paragraph::new().add_run(if bold { run.bold() } else { run })
}

/// The reference to the official format after a label: " [III · T13]", small and grey.
fn reference_run(reference: &str) -> Run {
    Run::new()
        .add_text(format!(" [{reference}]"))
        .size(16)
        .color(GREY)
}

fn labelled(style: Option<&str>, label: &str, bold: bool, reference: Option<&str>) -> Paragraph {
    let mut p = Paragraph::new();
    if let Some(style) = style {
        p = p.style(style);
    }
    let run = text_run(label);
    p = p.add_run(if bold { run.bold() } else { run });
    match reference {
        Some(r) => p.add_run(reference_run(r)),
        None => p,
    }
}

fn heading_style(id: &str, name: &str, size: usize, level: usize) -> Style {
    Style::new(id, StyleType::Paragraph)
        .name(name)
        .based_on("Normal")
        .next("Normal")
        .size(size)
        .bold()
        .outline_lvl(level)
}

/// A matrix as a Word table: a header row of the choices, a row per question, "X" in the
/// chosen column (or "—" in the question's cell when unanswered).
fn matrix_table(columns: &[String], rows: &[MatrixRow], words: &export_model::Words) -> Table {
    let question_w = TEXT_TWIPS * 2 / 5;
    let column_w = (TEXT_TWIPS - question_w) / columns.len().max(1);
    let header_cell = |text: &str, width: usize| {
        TableCell::new()
            .width(width, WidthType::Dxa)
            .shading(Shading::new().fill("EDEDED"))
            .add_paragraph(Paragraph::new().add_run(Run::new().add_text(text).bold().size(18)))
    };
    let mut header = vec![header_cell(words.question, question_w)];
    header.extend(columns.iter().map(|c| header_cell(c, column_w)));
    let mut table_rows = vec![TableRow::new(header).cant_split()];
    for row in rows {
        let mut label = Paragraph::new().add_run(text_run(&row.question).size(18));
        if row.chosen.is_none() {
            label = label.add_run(
                Run::new()
                    .add_text(format!(" {}", export_model::MISSING))
                    .size(18)
                    .color(GREY),
            );
        }
        let mut cells = vec![
            TableCell::new()
                .width(question_w, WidthType::Dxa)
                .add_paragraph(label),
        ];
        for i in 0..columns.len() {
            let mark = if row.chosen == Some(i) {
                words.chosen
            } else {
                ""
            };
            cells.push(
                TableCell::new()
                    .width(column_w, WidthType::Dxa)
                    .add_paragraph(
                        Paragraph::new()
                            .align(docx_rs::AlignmentType::Center)
                            .add_run(Run::new().add_text(mark).bold().size(18)),
                    ),
            );
        }
        table_rows.push(TableRow::new(cells).cant_split());
    }
    let mut grid = vec![question_w];
    grid.extend(std::iter::repeat_n(column_w, columns.len()));
    Table::new(table_rows)
        .set_grid(grid)
        .width(TEXT_TWIPS, WidthType::Dxa)
}

fn failed(why: impl std::fmt::Display) -> Error {
    Error::invalid(
        ErrorCode::ExportFailed,
        format!("the report could not be written as DOCX: {why}"),
    )
    .with("format", "docx")
}

/// The draft as a Word document (`.docx` bytes), labels in `lang` (`en`, `fr` or `es`).
///
/// The date printed under the title is the day the draft was last changed, so the same draft
/// always gives the same document.
pub fn export_docx(core: &Core, draft_id: &str, lang: &str) -> Result<Vec<u8>> {
    let report = export_model::build(core, draft_id, lang)?;
    render(&report)
}

pub(crate) fn render(report: &Document) -> Result<Vec<u8>> {
    let mut doc = Docx::new()
        .add_style(
            Style::new("Title", StyleType::Paragraph)
                .name("Title")
                .based_on("Normal")
                .next("Normal")
                .size(40)
                .bold(),
        )
        .add_style(heading_style("Heading1", "heading 1", 32, 0))
        .add_style(heading_style("Heading2", "heading 2", 26, 1))
        .add_style(
            Style::new("Notice", StyleType::Paragraph)
                .name("Notice")
                .based_on("Normal")
                .next("Normal")
                .size(18)
                .italic()
                .color(GREY),
        )
        .created_at(&report.created_at)
        .updated_at(&report.updated_at)
        .add_paragraph(labelled(Some("Title"), &report.title, false, None))
        .add_paragraph(text_paragraph(&report.meta, false))
        .add_paragraph(labelled(Some("Notice"), &report.notice, false, None));

    for block in &report.blocks {
        doc = match block {
            Block::Section { label, reference } => doc.add_paragraph(labelled(
                Some("Heading1"),
                label,
                false,
                reference.as_deref(),
            )),
            Block::Heading { label, reference } => doc.add_paragraph(labelled(
                Some("Heading2"),
                label,
                false,
                reference.as_deref(),
            )),
            Block::Answer {
                question,
                reference,
                answer,
            } => doc
                .add_paragraph(labelled(None, question, true, reference.as_deref()))
                .add_paragraph(text_paragraph(answer, false)),
            Block::Matrix {
                label,
                reference,
                columns,
                rows,
            } => {
                if let Some(label) = label {
                    doc = doc.add_paragraph(labelled(
                        Some("Heading2"),
                        label,
                        false,
                        reference.as_deref(),
                    ));
                }
                doc.add_table(matrix_table(columns, rows, &report.words))
                    .add_paragraph(Paragraph::new())
            }
        };
    }

    let mut out = Cursor::new(Vec::new());
    doc.pack(&mut out).map_err(failed)?;
    with_properties(&out.into_inner(), report).map_err(failed)
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// `core.xml` with the title, author and language.
fn core_properties(xml: &str, report: &Document) -> std::result::Result<String, String> {
    let author = xml_escape(&report.author);
    let mut xml = xml
        .replace(
            "<dc:creator>unknown</dc:creator>",
            &format!("<dc:creator>{author}</dc:creator>"),
        )
        .replace(
            "<cp:lastModifiedBy>unknown</cp:lastModifiedBy>",
            &format!("<cp:lastModifiedBy>{author}</cp:lastModifiedBy>"),
        );
    let end = xml
        .rfind("</cp:coreProperties>")
        .ok_or("docProps/core.xml has no end")?;
    xml.insert_str(
        end,
        &format!(
            "<dc:title>{}</dc:title><dc:language>{}</dc:language>",
            xml_escape(&report.title),
            word_language(report.lang)
        ),
    );
    Ok(xml)
}

/// `styles.xml` with the export's language as the default of every run.
fn styles_language(xml: &str, lang: &str) -> std::result::Result<String, String> {
    let tag = word_language(lang);
    let lang_el = format!(r#"<w:lang w:val="{tag}" w:eastAsia="{tag}" w:bidi="ar-SA" />"#);
    let start = xml
        .find("<w:rPrDefault>")
        .ok_or("word/styles.xml has no default run properties")?;
    let rest = &xml[start..];
    // the element right after <w:rPrDefault>: empty, or holding properties
    let (pos, len, text) = if rest.find("<w:rPr />").is_some_and(|i| i < 40) {
        let i = rest.find("<w:rPr />").unwrap_or_default();
        (
            start + i,
            "<w:rPr />".len(),
            format!("<w:rPr>{lang_el}</w:rPr>"),
        )
    } else if rest.find("<w:rPr>").is_some_and(|i| i < 40) {
        let i = rest.find("<w:rPr>").unwrap_or_default();
        (start + i, "<w:rPr>".len(), format!("<w:rPr>{lang_el}"))
    } else {
        return Err("word/styles.xml: unexpected default run properties".into());
    };
    let mut out = String::with_capacity(xml.len() + text.len());
    out.push_str(&xml[..pos]);
    out.push_str(&text);
    out.push_str(&xml[pos + len..]);
    Ok(out)
}

/// The packed document again, with [`core_properties`] and [`styles_language`] applied and
/// every entry dated the day the draft last changed (the same draft, the same bytes).
fn with_properties(docx: &[u8], report: &Document) -> std::result::Result<Vec<u8>, String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(docx)).map_err(|e| e.to_string())?;
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip_time(&report.updated_at));
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| e.to_string())?;
        let name = entry.name().to_string();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).map_err(|e| e.to_string())?;
        let data = match name.as_str() {
            "docProps/core.xml" => {
                core_properties(&String::from_utf8_lossy(&data), report)?.into_bytes()
            }
            "word/styles.xml" => {
                styles_language(&String::from_utf8_lossy(&data), report.lang)?.into_bytes()
            }
            _ => data,
        };
        out.start_file(name, options).map_err(|e| e.to_string())?;
        out.write_all(&data).map_err(|e| e.to_string())?;
    }
    Ok(out.finish().map_err(|e| e.to_string())?.into_inner())
}

/// A ZIP entry date from a stored timestamp (`2025-03-01T12:34:56.789Z`); 1980-01-01 (the
/// earliest ZIP date) when it does not read as one.
pub(crate) fn zip_time(stamp: &str) -> zip::DateTime {
    let part = |range: std::ops::Range<usize>| stamp.get(range)?.parse::<u8>().ok();
    let parsed = (|| {
        let year = stamp.get(0..4)?.parse::<u16>().ok()?;
        zip::DateTime::from_date_and_time(
            year,
            part(5..7)?,
            part(8..10)?,
            part(11..13)?,
            part(14..16)?,
            part(17..19)?,
        )
        .ok()
    })();
    parsed.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_run_language_is_set_in_either_spelling_of_the_styles() {
        let empty = "<w:docDefaults><w:rPrDefault><w:rPr /></w:rPrDefault></w:docDefaults>";
        let out = styles_language(empty, "fr").unwrap();
        assert!(
            out.contains(r#"<w:rPrDefault><w:rPr><w:lang w:val="fr-FR""#),
            "{out}"
        );
        let full = "<w:rPrDefault><w:rPr><w:sz w:val=\"20\" /></w:rPr></w:rPrDefault>";
        let out = styles_language(full, "es").unwrap();
        assert!(out.contains(r#"<w:rPr><w:lang w:val="es-ES""#), "{out}");
        assert!(out.contains("<w:sz w:val=\"20\" /></w:rPr>"));
        assert!(styles_language("<w:styles/>", "en").is_err());
    }

    #[test]
    fn zip_dates_come_from_the_stored_timestamp() {
        let t = zip_time("2026-12-07T10:11:12.000Z");
        assert_eq!((t.year(), t.month(), t.day()), (2026, 12, 7));
        assert_eq!((t.hour(), t.minute(), t.second()), (10, 11, 12));
        assert_eq!(zip_time("soon"), zip::DateTime::default());
    }
}
