//! The plain-text form format (see the crate documentation for the specification).

use super::{Row, Sheet, Sheets};
use crate::error::{ErrorKind, FormError, FormErrors};

/// Splits a row into trimmed cells. An escape other than `\|`, `\\`, `\n`, `\t`, `\#`, `\[`
/// is refused (with its character position), so a stray backslash never becomes data.
fn split_cells(line: &str) -> Result<Vec<String>, String> {
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().enumerate();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next().map(|(_, e)| e) {
                Some('n') => cur.push('\n'),
                Some('t') => cur.push('\t'),
                Some(e @ ('|' | '\\' | '#' | '[')) => cur.push(e),
                Some(other) => {
                    return Err(format!(
                        "character {}: unknown escape '\\{other}' (use \\| \\\\ \\n \\t \\# or \\[)",
                        i + 1
                    ));
                }
                None => {
                    return Err(format!(
                        "character {}: a lone '\\' ends the line (write \\\\ for a backslash)",
                        i + 1
                    ));
                }
            },
            '|' => cells.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    cells.push(cur);
    Ok(cells.into_iter().map(|c| c.trim().to_string()).collect())
}

fn escape(cell: &str) -> String {
    let mut s = String::with_capacity(cell.len());
    for (i, c) in cell.chars().enumerate() {
        match c {
            '\\' => s.push_str("\\\\"),
            '|' => s.push_str("\\|"),
            '\n' => s.push_str("\\n"),
            '\t' => s.push_str("\\t"),
            '#' if i == 0 => s.push_str("\\#"),
            '[' if i == 0 => s.push_str("\\["),
            _ => s.push(c),
        }
    }
    s
}

/// Parse the text format into sheets. Errors: unknown section, rows before any section.
pub fn parse(src: &str) -> Result<Sheets, FormErrors> {
    let mut sheets = Sheets::default();
    let mut errors = Vec::new();
    let mut current: Option<(String, Sheet, bool)> = None; // (name, sheet, has_header)
    let finish = |cur: Option<(String, Sheet, bool)>, sheets: &mut Sheets| {
        if let Some((name, sheet, _)) = cur
            && let Some(slot) = sheets.slot(&name)
        {
            *slot = Some(sheet);
        }
    };
    for (i, raw) in src.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') && line.ends_with(']') {
            let name = line[1..line.len() - 1].trim().to_lowercase();
            finish(current.take(), &mut sheets);
            if super::SHEET_NAMES.contains(&name.as_str()) {
                current = Some((name, Sheet::default(), false));
            } else {
                errors.push(FormError::new(
                    "text",
                    Some(line_no),
                    None,
                    ErrorKind::Invalid(format!(
                        "unknown section [{name}] (expected [survey], [choices], [settings] or [external_choices])"
                    )),
                ));
            }
            continue;
        }
        let Some((_, sheet, has_header)) = current.as_mut() else {
            errors.push(FormError::new(
                "text",
                Some(line_no),
                None,
                ErrorKind::Invalid("row outside a section: start with [survey]".into()),
            ));
            continue;
        };
        let cells = match split_cells(line) {
            Ok(cells) => cells,
            Err(reason) => {
                errors.push(FormError::new(
                    "text",
                    Some(line_no),
                    None,
                    ErrorKind::Invalid(reason),
                ));
                continue;
            }
        };
        if *has_header {
            sheet.rows.push(Row {
                row: line_no,
                cells,
            });
        } else {
            sheet.headers = cells;
            sheet.header_row = line_no;
            *has_header = true;
        }
    }
    finish(current, &mut sheets);
    if errors.is_empty() {
        Ok(sheets)
    } else {
        Err(FormErrors(errors))
    }
}

fn write_sheet(out: &mut String, name: &str, sheet: &Sheet) {
    out.push_str(&format!("[{name}]\n"));
    let line = |cells: &[String]| {
        let mut cells: Vec<String> = cells.iter().map(|c| escape(c.trim())).collect();
        while cells.last().is_some_and(String::is_empty) {
            cells.pop();
        }
        let mut s = cells.join(" | ");
        s.truncate(s.trim_end().len());
        s.push('\n');
        s
    };
    out.push_str(&line(&sheet.headers));
    for r in &sheet.rows {
        if r.cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        out.push_str(&line(&r.cells));
    }
}

/// Write sheets in the text format (empty rows dropped, trailing empty cells trimmed).
pub fn write(sheets: &Sheets) -> String {
    let mut out = String::new();
    for name in super::SHEET_NAMES {
        if let Some(s) = sheets.get(name) {
            if !out.is_empty() {
                out.push('\n');
            }
            write_sheet(&mut out, name, s);
        }
    }
    out
}
