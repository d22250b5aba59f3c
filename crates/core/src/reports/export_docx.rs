//! DOCX export of a draft for sign-off, printing and the e-mail route. What it says is decided in
//! [`super::export_model`]; this file only lays it out as Word paragraphs and styles.

use std::io::Cursor;

use docx_rs::{BreakType, Docx, Paragraph, Run, Style, StyleType};

use super::export_model::{self, Block};
use crate::ErrorCode;
use crate::{Core, Error, Result};

/// A paragraph of one run; line breaks in `text` become line breaks in the document.
fn text_paragraph(text: &str, bold: bool) -> Paragraph {
    let mut run = Run::new();
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            run = run.add_break(BreakType::TextWrapping);
        }
        run = run.add_text(line.trim_end_matches('\r'));
    }
    if bold {
        run = run.bold();
    }
    Paragraph::new().add_run(run)
}

fn styled(style: &str, text: &str) -> Paragraph {
    Paragraph::new()
        .style(style)
        .add_run(Run::new().add_text(text))
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

/// The draft as a Word document (`.docx` bytes), labels in `lang` (`en`, `fr` or `es`).
///
/// The date printed under the title is the day the draft was last changed, so the same draft
/// always gives the same document.
pub fn export_docx(core: &Core, draft_id: &str, lang: &str) -> Result<Vec<u8>> {
    let report = export_model::build(core, draft_id, lang)?;
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
        .created_at(&report.created_at)
        .updated_at(&report.updated_at)
        .add_paragraph(styled("Title", &report.title))
        .add_paragraph(text_paragraph(&report.meta, false));

    for block in &report.blocks {
        doc = match block {
            Block::Section(label) => doc.add_paragraph(styled("Heading1", label)),
            Block::Heading(label) => doc.add_paragraph(styled("Heading2", label)),
            Block::Answer { question, answer } => doc
                .add_paragraph(text_paragraph(question, true))
                .add_paragraph(text_paragraph(answer, false)),
        };
    }

    let mut out = Cursor::new(Vec::new());
    doc.pack(&mut out).map_err(|e| {
        Error::invalid(
            ErrorCode::ExportFailed,
            format!("the report could not be written as DOCX: {e}"),
        )
        .with("format", "docx")
    })?;
    Ok(out.into_inner())
}
