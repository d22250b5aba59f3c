//! `ecommunity form check FILE [--json]`: what a form author at the Secretariat runs before
//! publishing a report form. Uses the same `stopover-forms` loader the app and the server do,
//! so a form that passes here loads everywhere.
//!
//! The CSV files a form reads (`select_one_from_file`, `pulldata()`) are looked for where the
//! content pack keeps them, in a folder named after the form (`forms/<id>.txt` →
//! `forms/<id>/`), else beside the form file (where ODK tools keep a form's media).

use std::path::Path;

use serde_json::json;
use stopover_forms::{
    Attachments, Form, FormErrors, load_csv_with, load_markdown_with, load_text_with,
    load_workbook_with,
};

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
    let text = if matches!(extension.as_str(), "xlsx" | "xls") {
        None
    } else {
        Some(
            std::str::from_utf8(&bytes).map_err(|e| Error::FormUnreadable {
                file: file.clone(),
                reason: format!(
                    "not UTF-8 text (byte {}); is it an .xlsx with another name?",
                    e.valid_up_to()
                ),
            })?,
        )
    };
    let load = |files: &Attachments| -> std::result::Result<Form, FormErrors> {
        match (text, extension.as_str()) {
            (None, _) => load_workbook_with(&bytes, files),
            (Some(t), "csv") => load_csv_with(t, files),
            (Some(t), "md") => load_markdown_with(t, files),
            (Some(t), _) => load_text_with(t, files),
        }
    };
    // once to learn which files the form reads, then with those found on disk
    let mut loaded = load(&Attachments::new());
    if let Ok(form) = &loaded
        && !form.needs_files.is_empty()
    {
        let files = attached_files(&args.file, form);
        if !files.is_empty() {
            loaded = load(&files);
        }
    }
    match loaded {
        Ok(form) => {
            let s = form.summary();
            let warnings = &form.warnings;
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
                        "warnings": warnings,
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
                for w in warnings {
                    println!("{file}: warning: {w}");
                }
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
                        "warnings": [],
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

/// The files `form` reads that exist on disk: in `<dir>/<stem>/` (the content pack's layout)
/// or else in `<dir>/`, beside the form file.
fn attached_files(form_file: &Path, form: &Form) -> Attachments {
    let dir = form_file.parent().unwrap_or(Path::new("."));
    let stem = form_file.file_stem().unwrap_or_default();
    let mut out = Attachments::new();
    for name in &form.needs_files {
        for candidate in [dir.join(stem).join(name), dir.join(name)] {
            if let Ok(bytes) = std::fs::read(&candidate) {
                out.insert(name.clone(), bytes);
                break;
            }
        }
    }
    out
}
