//! pyxform's Markdown layout of an XLSForm, as its own test suite writes forms: one table
//! whose first column names the sheet on the row that starts it, e.g.
//!
//! ```text
//! | survey  |              |       |           |
//! |         | type         | name  | label     |
//! |         | text         | a     | A         |
//! | choices |              |       |           |
//! |         | list_name    | name  | label     |
//! ```
//!
//! As in pyxform: lines starting with `#` are comments, a trailing `# …` after the last `|` is
//! dropped, `|---|` separator lines and empty rows are skipped, `\|` is a literal bar. Sheets
//! other than survey, choices and settings are ignored. Error rows are line numbers.

use super::{Row, Sheet, Sheets};
use crate::error::FormErrors;

/// Split the inside of a table line on bars not preceded by a backslash.
fn cells(inner: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                chars.next();
                cur.push('|');
            }
            '|' => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter().map(|c| c.trim().to_string()).collect()
}

/// The table row on a line, if it is one: the text between the first and the last `|`.
fn table_row(line: &str) -> Option<&str> {
    let trimmed = line.trim_start();
    if !trimmed.starts_with('|') {
        return None; // prose and `#` comment lines
    }
    let line = trimmed;
    // an inline comment: '#' after the last '|'
    let last_bar = line.rfind('|')?;
    let line = match line[last_bar..].find('#') {
        Some(h) => &line[..last_bar + h],
        None => line,
    };
    let first = line.find('|')?;
    let last = line.rfind('|')?;
    (last > first).then(|| &line[first + 1..last])
}

/// Parse the Markdown layout into sheets.
pub fn parse(src: &str) -> Result<Sheets, FormErrors> {
    let mut sheets = Sheets::default();
    let mut current: Option<(Option<String>, Sheet, bool)> = None;
    let finish = |cur: Option<(Option<String>, Sheet, bool)>, sheets: &mut Sheets| {
        if let Some((Some(name), sheet, _)) = cur
            && let Some(slot) = sheets.slot(&name)
        {
            *slot = Some(sheet);
        }
    };
    for (i, line) in src.lines().enumerate() {
        let Some(inner) = table_row(line) else {
            continue;
        };
        if inner.chars().all(|c| c == '|' || c == '-') {
            continue; // |---|---| separator
        }
        let row = cells(inner);
        let first = row.first().map_or("", String::as_str);
        let content: Vec<String> = row.iter().skip(1).cloned().collect();
        if !first.is_empty() {
            finish(current.take(), &mut sheets);
            let name = first.to_lowercase();
            let known = super::SHEET_NAMES.contains(&name.as_str());
            current = Some((known.then_some(name), Sheet::default(), false));
        }
        if content.iter().all(String::is_empty) {
            continue;
        }
        // rows before any sheet name have no sheet: pyxform drops them too
        let Some((_, sheet, has_header)) = current.as_mut() else {
            continue;
        };
        if *has_header {
            sheet.rows.push(Row {
                row: i + 1,
                cells: content,
            });
        } else {
            sheet.headers = content;
            sheet.header_row = i + 1;
            *has_header = true;
        }
    }
    finish(current, &mut sheets);
    Ok(sheets)
}
