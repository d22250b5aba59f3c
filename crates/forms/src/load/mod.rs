//! Loaders: the plain-text format ([`text`]) and `.xlsx` ([`xlsx`]), both to [`Sheets`], then
//! [`build`] checks the sheets and makes a [`Form`](crate::Form).

mod build;
pub mod text;
pub mod xlsx;

pub use build::build;

/// One row of a sheet: its row number (as a spreadsheet shows it, or the line in a text file)
/// and its cells, aligned with the headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub row: usize,
    pub cells: Vec<String>,
}

/// A sheet: a header row and data rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sheet {
    pub headers: Vec<String>,
    pub header_row: usize,
    pub rows: Vec<Row>,
}

impl Sheet {
    /// The index of a column, by normalised header.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.headers
            .iter()
            .position(|h| normalize_header(h) == name)
    }

    /// A cell by column index, trimmed ("" when absent).
    pub fn cell<'a>(&self, row: &'a Row, col: Option<usize>) -> &'a str {
        col.and_then(|c| row.cells.get(c)).map_or("", |s| s.trim())
    }
}

/// The three XLSForm sheets (any may be missing; `survey` is required by [`build`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sheets {
    pub survey: Option<Sheet>,
    pub choices: Option<Sheet>,
    pub settings: Option<Sheet>,
}

/// Normalise a header: trimmed, lower-case base name, spaces to `_`, language suffix kept as
/// written (`Label::Français (fr)` → `label::Français (fr)`).
pub fn normalize_header(h: &str) -> String {
    let h = h.trim();
    let (base, lang) = match h.split_once("::") {
        Some((b, l)) => (b, Some(l.trim())),
        None => match h.split_once(':') {
            // old style `label:English`, but not `jr:` / `media:` prefixes
            Some((b, l)) if is_translatable(&b.trim().to_lowercase().replace(' ', "_")) => {
                (b, Some(l.trim()))
            }
            _ => (h, None),
        },
    };
    let mut base = base.trim().to_lowercase().replace(' ', "_");
    if base == "list" {
        base = "list_name".into();
    }
    match lang {
        Some(l) => format!("{base}::{l}"),
        None => base,
    }
}

fn is_translatable(base: &str) -> bool {
    matches!(
        base,
        "label"
            | "hint"
            | "required_message"
            | "constraint_message"
            | "form_title"
            | "guidance_hint"
    )
}

/// Load a form from the plain-text format.
pub fn load_text(src: &str) -> Result<crate::Form, crate::FormErrors> {
    build(&text::parse(src)?)
}

/// Load a form from the bytes of an `.xlsx` workbook.
pub fn load_xlsx(bytes: &[u8]) -> Result<crate::Form, crate::FormErrors> {
    build(&xlsx::read(bytes)?)
}
