//! Loaders: the plain-text format ([`text`]), Excel workbooks (`.xlsx` and `.xls`, [`xlsx`]),
//! and pyxform's CSV ([`csv`]) and Markdown ([`markdown`]) layouts, all to [`Sheets`]; then
//! [`build`] checks the sheets and makes a [`Form`](crate::Form). Forms load as their authors
//! publish them: no conversion step.

mod build;
pub mod csv;
pub mod markdown;
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
/// written (`Label::Français (fr)` → `label::Français (fr)`). pyxform's other spellings map
/// to the XLSForm name (`bind:relevant` → `relevant`, `bind:jr:constraintMsg` →
/// `constraint_message`, `readonly` → `read_only`, `requiredMsg` → `required_message`, …),
/// since older published forms use them.
pub fn normalize_header(h: &str) -> String {
    let h = h.trim();
    // `bind:` / `control:` prefixes name the XForm attribute a column becomes
    let lower = h.to_lowercase();
    let h = ["bind::", "bind:", "control::", "control:"]
        .iter()
        .find(|p| lower.starts_with(*p))
        .map_or(h, |p| h[p.len()..].trim_start());
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
    let base = base.trim().to_lowercase().replace(' ', "_");
    let base = match base.as_str() {
        "list" => "list_name",
        "readonly" => "read_only",
        "relevance" => "relevant",
        "calculate" => "calculation",
        "jr:constraintmsg" | "constraining_message" => "constraint_message",
        "jr:requiredmsg" | "requiredmsg" => "required_message",
        "jr:count" | "count" => "repeat_count",
        "caption" => "label",
        "command" => "type",
        other => other,
    };
    match lang {
        Some(l) => format!("{base}::{l}"),
        None => base.to_string(),
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

/// Load a form from the bytes of an `.xls` (Excel 97–2003) workbook.
pub fn load_xls(bytes: &[u8]) -> Result<crate::Form, crate::FormErrors> {
    build(&xlsx::read_xls(bytes)?)
}

/// Load a form from the bytes of a workbook, `.xlsx` or `.xls`, told apart by their first
/// bytes (a zip archive or an OLE compound file), whatever the file is called.
pub fn load_workbook(bytes: &[u8]) -> Result<crate::Form, crate::FormErrors> {
    const OLE: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    if bytes.starts_with(OLE) {
        load_xls(bytes)
    } else {
        load_xlsx(bytes)
    }
}

/// Load a form from pyxform's CSV layout (every sheet in one `.csv`; see [`csv`]).
pub fn load_csv(src: &str) -> Result<crate::Form, crate::FormErrors> {
    build(&csv::parse(src)?)
}

/// Load a form from pyxform's Markdown table layout (see [`markdown`]).
pub fn load_markdown(src: &str) -> Result<crate::Form, crate::FormErrors> {
    build(&markdown::parse(src)?)
}
