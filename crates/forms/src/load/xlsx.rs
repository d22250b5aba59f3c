//! Excel workbooks, read from bytes with calamine: `.xlsx` here, the older binary `.xls`
//! (Excel 97–2003, as many published XLSForms still are) through [`read_xls`]. Extra sheets
//! and columns are ignored.

use super::{Row, Sheet, Sheets};
use crate::error::{ErrorKind, FormError, FormErrors};
use calamine::{Data, Reader, Xls, Xlsx, open_workbook_from_rs};
use std::io::Cursor;

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => crate::expr::format_number(*f),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => {
            // Excel serial date: days since 1899-12-30.
            let days = dt.as_f64().floor() as i64;
            crate::expr::Date(days - 25_569).to_string()
        }
    }
}

fn fail(m: String) -> FormErrors {
    FormErrors(vec![FormError::new(
        "workbook",
        None,
        None,
        ErrorKind::Invalid(m),
    )])
}

/// Read the survey, choices and settings sheets of an `.xlsx` workbook (sheet names compared
/// case-insensitively).
pub fn read(bytes: &[u8]) -> Result<Sheets, FormErrors> {
    let wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec()))
        .map_err(|e| fail(format!("not a readable .xlsx workbook: {e}")))?;
    sheets_of(wb)
}

/// Read the survey, choices and settings sheets of an `.xls` (Excel 97–2003) workbook.
pub fn read_xls(bytes: &[u8]) -> Result<Sheets, FormErrors> {
    let wb: Xls<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec()))
        .map_err(|e| fail(format!("not a readable .xls workbook: {e}")))?;
    sheets_of(wb)
}

fn sheets_of<RS, R>(mut wb: R) -> Result<Sheets, FormErrors>
where
    RS: std::io::Read + std::io::Seek,
    R: Reader<RS>,
    R::Error: std::fmt::Display,
{
    let mut sheets = Sheets::default();
    for name in wb.sheet_names() {
        let key = name.trim().to_lowercase();
        if sheets.slot(&key).is_none() {
            continue;
        }
        let range = wb
            .worksheet_range(&name)
            .map_err(|e| fail(format!("sheet '{name}': {e}")))?;
        let (row0, col0) = range.start().unwrap_or((0, 0));
        let mut sheet = Sheet::default();
        let mut have_header = false;
        for (i, r) in range.rows().enumerate() {
            let row_no = row0 as usize + i + 1;
            let mut cells = vec![String::new(); col0 as usize];
            cells.extend(r.iter().map(cell_text));
            if !have_header {
                if cells.iter().all(|c| c.trim().is_empty()) {
                    continue;
                }
                sheet.headers = cells;
                sheet.header_row = row_no;
                have_header = true;
            } else {
                sheet.rows.push(Row { row: row_no, cells });
            }
        }
        *sheets.slot(&key).expect("a sheet this engine reads") = Some(sheet);
    }
    Ok(sheets)
}
