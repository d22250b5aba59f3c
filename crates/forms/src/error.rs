//! Load errors: each names the sheet, row, column and reason.

use std::fmt;

/// Why a form was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    #[error("unknown question type '{0}'")]
    UnknownType(String),
    #[error("missing type")]
    MissingType,
    #[error("missing name")]
    MissingName,
    #[error("invalid name '{0}' (use letters, digits, '_', '-', '.'; start with a letter or '_')")]
    InvalidName(String),
    #[error("duplicate name '{name}' (first used on row {first_row})")]
    DuplicateName { name: String, first_row: usize },
    #[error("unknown choice list '{0}'")]
    UnknownChoiceList(String),
    #[error("{found} without a matching {expected}")]
    Unmatched { found: String, expected: String },
    #[error("{kind} '{name}' is never closed (missing {expected})")]
    Unclosed {
        kind: String,
        name: String,
        expected: String,
    },
    #[error("unknown reference ${{{0}}}")]
    UnknownReference(String),
    #[error("ambiguous reference ${{{0}}}: several questions have that name")]
    AmbiguousReference(String),
    #[error("cycle in calculations: {}", .0.join(" -> "))]
    Cycle(Vec<String>),
    #[error("syntax error at character {position}: {message}")]
    Syntax { position: usize, message: String },
    #[error("missing sheet '{0}'")]
    MissingSheet(String),
    #[error("missing column '{0}'")]
    MissingColumn(String),
    /// Something XLSForm allows that this engine deliberately does not support (external
    /// CSV files, pyxform loops, …), with the reason and what to write instead.
    #[error("not supported: {0}")]
    Unsupported(String),
    #[error("{0}")]
    Invalid(String),
    /// Not an error: something pyxform accepts but a form author should fix.
    #[error("{0}")]
    Warning(String),
}

/// One error in a form, located as a spreadsheet shows it (row 1-based; for the text format,
/// the line number in the file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError {
    pub sheet: String,
    pub row: Option<usize>,
    pub column: Option<String>,
    pub kind: ErrorKind,
}

impl FormError {
    pub fn new(sheet: &str, row: Option<usize>, column: Option<&str>, kind: ErrorKind) -> Self {
        Self {
            sheet: sheet.to_string(),
            row,
            column: column.map(str::to_string),
            kind,
        }
    }
}

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.sheet)?;
        if let Some(r) = self.row {
            write!(f, " row {r}")?;
        }
        if let Some(c) = &self.column {
            write!(f, " column {c}")?;
        }
        write!(f, ": {}", self.kind)
    }
}

impl std::error::Error for FormError {}

/// JSON shape for tools (`ecommunity form check --json`): sheet, row, column, message.
impl serde::Serialize for FormError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("FormError", 5)?;
        st.serialize_field("sheet", &self.sheet)?;
        st.serialize_field("row", &self.row)?;
        st.serialize_field("column", &self.column)?;
        st.serialize_field("message", &self.kind.to_string())?;
        st.serialize_field("text", &self.to_string())?;
        st.end()
    }
}

/// All the errors found in a form (never empty when returned as an `Err`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormErrors(pub Vec<FormError>);

impl fmt::Display for FormErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for FormErrors {}
