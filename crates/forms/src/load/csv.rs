//! pyxform's CSV layout of an XLSForm: one `.csv` file holds every sheet. A row whose first
//! cell is not empty starts a sheet (`survey`, `choices`, `settings`; others are ignored);
//! the following rows leave the first cell empty and hold the header, then the data:
//!
//! ```text
//! survey,,,
//! ,type,name,label:English
//! ,text,your_name,What is your name?
//! choices,,,
//! ,list name,name,label:English
//! ```
//!
//! Fields follow RFC 4180 (`"…"` quotes, `""` for a quote, line breaks inside quotes). Error
//! rows are the line numbers where records start.

use super::{Row, Sheet, Sheets};
use crate::error::{ErrorKind, FormError, FormErrors};

fn error(line: usize, message: String) -> FormErrors {
    FormErrors(vec![FormError::new(
        "csv",
        Some(line),
        None,
        ErrorKind::Invalid(message),
    )])
}

/// Split CSV text into records, each with the line it starts on.
pub fn records(src: &str) -> Result<Vec<(usize, Vec<String>)>, FormErrors> {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let mut out = Vec::new();
    let mut chars = src.chars().peekable();
    let (mut line, mut start) = (1, 1);
    let mut record: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut quoted = false; // inside "…"
    let mut quote_line = 0;
    let mut any = false; // the record has content (so a final line without '\n' counts)
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => {
                quoted = true;
                quote_line = line;
                any = true;
            }
            ',' => {
                record.push(std::mem::take(&mut field));
                any = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                record.push(std::mem::take(&mut field));
                out.push((start, std::mem::take(&mut record)));
                line += 1;
                start = line;
                any = false;
            }
            _ => {
                field.push(c);
                any = true;
            }
        }
    }
    if quoted {
        return Err(error(
            quote_line,
            "a quoted field is never closed (missing '\"')".into(),
        ));
    }
    if any {
        record.push(field);
        out.push((start, record));
    }
    Ok(out)
}

/// Parse the CSV layout into sheets.
pub fn parse(src: &str) -> Result<Sheets, FormErrors> {
    let mut sheets = Sheets::default();
    // (name, sheet, has header); `None` name: a sheet this engine ignores
    let mut current: Option<(Option<String>, Sheet, bool)> = None;
    let finish = |cur: Option<(Option<String>, Sheet, bool)>, sheets: &mut Sheets| {
        if let Some((Some(name), sheet, _)) = cur
            && let Some(slot) = sheets.slot(&name)
        {
            *slot = Some(sheet);
        }
    };
    for (line, cells) in records(src)? {
        let first = cells.first().map_or("", |c| c.trim());
        let content: Vec<String> = cells.iter().skip(1).map(|c| c.trim().to_string()).collect();
        let has_content = content.iter().any(|c| !c.is_empty());
        if !first.is_empty() {
            finish(current.take(), &mut sheets);
            let name = first.to_lowercase();
            let known = super::SHEET_NAMES.contains(&name.as_str());
            current = Some((known.then_some(name), Sheet::default(), false));
        }
        if !has_content {
            continue;
        }
        let Some((_, sheet, has_header)) = current.as_mut() else {
            return Err(error(
                line,
                "a row before any sheet name: the first column names the sheet (survey, choices, settings)"
                    .into(),
            ));
        };
        if *has_header {
            sheet.rows.push(Row {
                row: line,
                cells: content,
            });
        } else {
            sheet.headers = content;
            sheet.header_row = line;
            *has_header = true;
        }
    }
    finish(current, &mut sheets);
    Ok(sheets)
}
