//! `ecommunity form check FILE [--json]`: what a form author at the Secretariat runs before
//! publishing a report form. Uses the same `stopover-forms` loader the app and the server do,
//! so a form that passes here loads everywhere.

use serde_json::json;
use stopover_forms::{Form, FormErrors, load_csv, load_markdown, load_text, load_workbook};

use super::args::FormCheck;
use crate::error::{Error, Result};

pub fn check(args: FormCheck) -> Result<()> {
    let file = args.file.display().to_string();
    let bytes = std::fs::read(&args.file).map_err(|e| Error::FormUnreadable {
        file: file.clone(),
        reason: e.to_string(),
    })?;
    // As form authors save them: a workbook (.xlsx or the older .xls), pyxform's one-file
    // CSV or Markdown layouts, or the plain-text sheets of the shipped forms.
    let extension = args
        .file
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let loaded: std::result::Result<Form, FormErrors> =
        if matches!(extension.as_str(), "xlsx" | "xls") {
            load_workbook(&bytes)
        } else {
            let text = std::str::from_utf8(&bytes).map_err(|e| Error::FormUnreadable {
                file: file.clone(),
                reason: format!(
                    "not UTF-8 text (byte {}); is it an .xlsx with another name?",
                    e.valid_up_to()
                ),
            })?;
            match extension.as_str() {
                "csv" => load_csv(text),
                "md" => load_markdown(text),
                _ => load_text(text),
            }
        };
    match loaded {
        Ok(form) => {
            let s = form.summary();
            if args.json {
                println!(
                    "{}",
                    json!({
                        "file": file,
                        "form_id": s.form_id,
                        "version": s.version,
                        "questions": s.questions,
                        "groups": s.groups,
                        "repeats": s.repeats,
                        "choice_lists": s.choice_lists,
                        "languages": s.languages,
                        "errors": [],
                    })
                );
            } else {
                println!(
                    "{file}: OK — form {} version {}: {} questions, {} groups, {} repeats, {} choice lists; languages: {}",
                    s.form_id.as_deref().unwrap_or("(no form_id)"),
                    s.version.as_deref().unwrap_or("(no version)"),
                    s.questions,
                    s.groups,
                    s.repeats,
                    s.choice_lists,
                    s.languages.join(", ")
                );
            }
            Ok(())
        }
        Err(errors) => {
            if args.json {
                println!(
                    "{}",
                    json!({
                        "file": file,
                        "questions": 0,
                        "groups": 0,
                        "repeats": 0,
                        "languages": [],
                        "errors": errors.0,
                    })
                );
            } else {
                for e in &errors.0 {
                    println!("{file}: {e}");
                }
            }
            Err(Error::FormInvalid {
                file,
                count: errors.0.len(),
            })
        }
    }
}
