//! Loaders: the plain-text format ([`text`]), Excel workbooks (`.xlsx` and `.xls`, [`xlsx`]),
//! and pyxform's CSV ([`csv`]) and Markdown ([`markdown`]) layouts, all to [`Sheets`]; then
//! [`build`] checks the sheets and makes a [`Form`](crate::Form). Forms load as their authors
//! publish them: no conversion step.

mod build;
pub mod csv;
pub mod markdown;
pub mod text;
pub mod xlsx;

pub use build::{build, build_with};

/// Files attached to a form (its "media"), by file name, as bytes: the CSV files of
/// `select_one_from_file`, `pulldata()` and `search()` are read; others are ignored.
pub type Attachments = std::collections::BTreeMap<String, Vec<u8>>;

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

/// The XLSForm sheets this engine reads (any may be missing; `survey` is required by
/// [`build`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sheets {
    pub survey: Option<Sheet>,
    pub choices: Option<Sheet>,
    pub settings: Option<Sheet>,
    /// pyxform's `external_choices` sheet: the lists of `select_one_external` questions.
    pub external_choices: Option<Sheet>,
}

/// The sheet names read, in the order they are written.
pub const SHEET_NAMES: [&str; 4] = ["survey", "choices", "settings", "external_choices"];

impl Sheets {
    /// The place of a sheet by its (lower-case) name, `None` for a sheet this engine ignores.
    pub fn slot(&mut self, name: &str) -> Option<&mut Option<Sheet>> {
        match name {
            "survey" => Some(&mut self.survey),
            "choices" => Some(&mut self.choices),
            "settings" => Some(&mut self.settings),
            "external_choices" => Some(&mut self.external_choices),
            _ => None,
        }
    }

    pub fn get(&self, name: &str) -> Option<&Sheet> {
        match name {
            "survey" => self.survey.as_ref(),
            "choices" => self.choices.as_ref(),
            "settings" => self.settings.as_ref(),
            "external_choices" => self.external_choices.as_ref(),
            _ => None,
        }
    }
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

/// [`load_text`] with the files attached to the form.
pub fn load_text_with(src: &str, files: &Attachments) -> Result<crate::Form, crate::FormErrors> {
    build_with(&text::parse(src)?, files)
}

/// [`load_workbook`] with the files attached to the form.
pub fn load_workbook_with(
    bytes: &[u8],
    files: &Attachments,
) -> Result<crate::Form, crate::FormErrors> {
    const OLE: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    let sheets = if bytes.starts_with(OLE) {
        xlsx::read_xls(bytes)?
    } else {
        xlsx::read(bytes)?
    };
    build_with(&sheets, files)
}

/// [`load_csv`] with the files attached to the form.
pub fn load_csv_with(src: &str, files: &Attachments) -> Result<crate::Form, crate::FormErrors> {
    build_with(&csv::parse(src)?, files)
}

/// [`load_markdown`] with the files attached to the form.
pub fn load_markdown_with(
    src: &str,
    files: &Attachments,
) -> Result<crate::Form, crate::FormErrors> {
    build_with(&markdown::parse(src)?, files)
}
