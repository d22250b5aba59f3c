//! The submission package: one ZIP that carries a report whole, for the e-mail route and for
//! the archive. Inside, under one folder named after the report (`cms-national-report-COP15/`):
//!
//! - the report as PDF, DOCX, CSV and JSON (the PDF left out, and the reason written down, when
//!   the report holds text the PDF cannot show; the DOCX keeps everything);
//! - `attachments/`: every file recorded by a `file` question of the report that this device
//!   holds (under the data folder, content-addressed by SHA-256), under its own name;
//! - `manifest.json`: the report, each file with its SHA-256 and size, each attachment with the
//!   question it answers and whether it is included (a file this device does not hold, or that
//!   changed since it was attached, is listed as missing);
//! - `README.txt`: the drafting-aid notice and what is inside, in the export language;
//! - `SHA256SUMS`: the SHA-256 of every other file, in the format `sha256sum -c` checks.
//!
//! Every entry is dated the day the draft last changed, so the same draft gives the same bytes.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};
use std::path::PathBuf;

use rusqlite::OptionalExtension;
use serde::Serialize;
use sha2::{Digest, Sha256};
use stopover_forms::QuestionType;
use stopover_protocol::files::hex;

use super::drafts::load;
use super::export_docx::zip_time;
use super::export_model::{self, Document};
use super::{evaluate, instances, load_form};
use crate::sync::attachments::ATTACHMENTS_DIR;
use crate::{Core, Error, ErrorCode, Result, check_language};

/// A `file` answer: `name sha256:<64 hex digits>`.
fn parse_file_answer(value: &str) -> Option<(&str, &str)> {
    let (name, sha) = value.trim().rsplit_once(" sha256:")?;
    let ok = sha.len() == 64
        && sha
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    ok.then_some((name.trim(), sha))
}

/// A name safe inside the archive: no folders, no leading dots, nothing a file system refuses.
fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    if cleaned.is_empty() {
        "attachment".to_string()
    } else {
        cleaned.chars().take(120).collect()
    }
}

/// `name`, or `name (2).ext`, `name (3).ext`… when `taken` has it.
fn unique(name: String, taken: &mut std::collections::BTreeSet<String>) -> String {
    if taken.insert(name.to_lowercase()) {
        return name;
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_string(), format!(".{e}")),
        _ => (name.clone(), String::new()),
    };
    for n in 2.. {
        let candidate = format!("{stem} ({n}){ext}");
        if taken.insert(candidate.to_lowercase()) {
            return candidate;
        }
    }
    unreachable!("an unbounded range always yields a free name")
}

/// Keeps letters, digits, `-`, `_` and `.` of a file name part (a cycle may hold anything).
pub fn file_part(s: &str) -> String {
    let cleaned: String = s
        .trim()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let cleaned = cleaned.trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        "report".into()
    } else {
        cleaned
    }
}

/// One file of the package, as the manifest lists it.
#[derive(Debug, Clone, Serialize)]
struct FileEntry {
    path: String,
    sha256: String,
    size: u64,
}

/// One attachment of the report, as the manifest lists it.
#[derive(Debug, Clone, Serialize)]
struct AttachmentEntry {
    /// The answer's path (`general_info/map`, `appendix_i/app1_species[2]/photo`).
    answer: String,
    /// The question's label in the export language.
    question: String,
    /// The name the file was attached under.
    file_name: String,
    sha256: String,
    /// Where it is in the package; `None` when missing.
    included_as: Option<String>,
    /// Why it is missing: `not_on_this_device` or `changed_since_attached`.
    missing: Option<&'static str>,
}

#[derive(Serialize)]
struct Manifest<'a> {
    form_id: &'a str,
    form_version: &'a str,
    cycle: &'a str,
    status: super::DraftStatus,
    language: &'a str,
    last_changed: &'a str,
    notice: &'a str,
    files: Vec<FileEntry>,
    attachments: Vec<AttachmentEntry>,
    /// Why the PDF is not in the package, when it is not.
    pdf_left_out: Option<String>,
}

/// The words of `README.txt`.
struct ReadmeWords {
    inside: &'static str,
    pdf: &'static str,
    docx: &'static str,
    csv: &'static str,
    json: &'static str,
    attachments: &'static str,
    manifest: &'static str,
    sums: &'static str,
    missing: &'static str,
    not_on_device: &'static str,
    changed: &'static str,
    no_pdf: &'static str,
}

fn readme_words(lang: &str) -> ReadmeWords {
    match lang {
        "fr" => ReadmeWords {
            inside: "Contenu du dossier :",
            pdf: "le rapport en PDF, pour la lecture et l'impression",
            docx: "le rapport en DOCX (Word), pour la relecture",
            csv: "les réponses en CSV, pour un tableur",
            json: "les réponses en JSON, pour un traitement automatique",
            attachments: "attachments/ : les fichiers joints aux réponses",
            manifest: "manifest.json : le rapport, chaque fichier avec son empreinte SHA-256, chaque pièce jointe avec la question à laquelle elle répond",
            sums: "SHA256SUMS : les empreintes SHA-256 de tous les fichiers (vérification : sha256sum -c SHA256SUMS)",
            missing: "Pièces jointes manquantes :",
            not_on_device: "absente de cet appareil",
            changed: "modifiée depuis qu'elle a été jointe",
            no_pdf: "Le PDF n'a pas pu être créé :",
        },
        "es" => ReadmeWords {
            inside: "Contenido de la carpeta:",
            pdf: "el informe en PDF, para leer e imprimir",
            docx: "el informe en DOCX (Word), para revisar",
            csv: "las respuestas en CSV, para una hoja de cálculo",
            json: "las respuestas en JSON, para el tratamiento automático",
            attachments: "attachments/: los archivos adjuntos a las respuestas",
            manifest: "manifest.json: el informe, cada archivo con su huella SHA-256 y cada adjunto con la pregunta a la que responde",
            sums: "SHA256SUMS: las huellas SHA-256 de todos los archivos (verificación: sha256sum -c SHA256SUMS)",
            missing: "Adjuntos que faltan:",
            not_on_device: "no está en este dispositivo",
            changed: "modificado desde que se adjuntó",
            no_pdf: "No se pudo crear el PDF:",
        },
        _ => ReadmeWords {
            inside: "In this folder:",
            pdf: "the report as PDF, to read and print",
            docx: "the report as DOCX (Word), to review",
            csv: "the answers as CSV, for a spreadsheet",
            json: "the answers as JSON, for processing by software",
            attachments: "attachments/: the files attached to answers",
            manifest: "manifest.json: the report, each file with its SHA-256 and each attachment with the question it answers",
            sums: "SHA256SUMS: the SHA-256 of every file (to check: sha256sum -c SHA256SUMS)",
            missing: "Missing attachments:",
            not_on_device: "not on this device",
            changed: "changed since it was attached",
            no_pdf: "The PDF could not be made:",
        },
    }
}

/// The bytes of the attachment `sha256` as this device holds them, if it does and they still
/// have that SHA-256. `Err` says why not (`not_on_this_device`, `changed_since_attached`).
fn attachment_bytes(core: &Core, sha256: &str) -> std::result::Result<Vec<u8>, &'static str> {
    let recorded: Option<String> = core
        .conn()
        .query_row(
            "SELECT path FROM attachment WHERE sha256 = ?1",
            [sha256],
            |r| r.get(0),
        )
        .optional()
        .ok()
        .flatten();
    let candidates = recorded
        .map(PathBuf::from)
        .into_iter()
        .chain(std::iter::once(
            core.data_dir().join(ATTACHMENTS_DIR).join(sha256),
        ));
    let mut seen_other = false;
    for path in candidates {
        let mut bytes = Vec::new();
        let Ok(mut file) = std::fs::File::open(&path) else {
            continue;
        };
        if file.read_to_end(&mut bytes).is_err() {
            continue;
        }
        if hex(&Sha256::digest(&bytes)) == sha256 {
            return Ok(bytes);
        }
        seen_other = true;
    }
    Err(if seen_other {
        "changed_since_attached"
    } else {
        "not_on_this_device"
    })
}

fn failed(e: impl std::fmt::Display) -> Error {
    Error::invalid(
        ErrorCode::ExportFailed,
        format!("the submission package could not be written: {e}"),
    )
    .with("format", "zip")
}

/// The submission package of a draft (ZIP bytes), documents in `lang` (`en`, `fr` or `es`).
pub fn export_package(core: &Core, draft_id: &str, lang: &str) -> Result<Vec<u8>> {
    let lang = check_language(lang)?;
    let (draft, attachments) = {
        let conn = core.conn();
        let draft = load(&conn, draft_id)?;
        let (_, form) = load_form(&conn, &draft.form_id)?;
        let state = evaluate(&conn, draft_id, form.clone())?;
        let answers = state.submission_answers();
        let fallback = Some(form.default_language());
        let mut found = Vec::new();
        for (q, path) in instances(&form, &state) {
            if q.kind != QuestionType::File {
                continue;
            }
            let Some((name, sha)) = answers.get(&path).and_then(|v| parse_file_answer(v)) else {
                continue;
            };
            let label = q.label.get(lang, fallback).unwrap_or(&q.name).to_string();
            found.push((path, label, name.to_string(), sha.to_string()));
        }
        (draft, found)
    };

    let document: Document = export_model::build(core, draft_id, lang)?;
    let stem = format!("{}-{}", file_part(&draft.form_id), file_part(&draft.cycle));
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut pdf_left_out = None;
    match super::export_pdf::render(&document) {
        Ok(pdf) => files.push((format!("{stem}.pdf"), pdf)),
        Err(e)
            if matches!(
                e.code(),
                ErrorCode::PdfRightToLeft | ErrorCode::PdfCharacterMissing
            ) =>
        {
            pdf_left_out = Some(e.to_string());
        }
        Err(e) => return Err(e),
    }
    files.push((
        format!("{stem}.docx"),
        super::export_docx::render(&document)?,
    ));
    files.push((
        format!("{stem}.csv"),
        super::export_csv(core, draft_id, lang)?.into_bytes(),
    ));
    let json = super::export_json(core, draft_id)?;
    files.push((
        format!("{stem}.json"),
        serde_json::to_vec_pretty(&json).map_err(failed)?,
    ));

    // attachments: each content once, under its own name
    let mut taken = std::collections::BTreeSet::new();
    let mut by_sha: BTreeMap<String, std::result::Result<String, &'static str>> = BTreeMap::new();
    let mut entries = Vec::new();
    for (answer, question, file_name, sha) in attachments {
        let outcome = match by_sha.get(&sha) {
            Some(done) => done.clone(),
            None => {
                let outcome = attachment_bytes(core, &sha).map(|bytes| {
                    let name = unique(safe_name(&file_name), &mut taken);
                    let path = format!("attachments/{name}");
                    files.push((path.clone(), bytes));
                    path
                });
                by_sha.insert(sha.clone(), outcome.clone());
                outcome
            }
        };
        entries.push(AttachmentEntry {
            answer,
            question,
            file_name,
            sha256: sha,
            included_as: outcome.as_ref().ok().cloned(),
            missing: outcome.err(),
        });
    }

    let listed: Vec<FileEntry> = files
        .iter()
        .map(|(path, bytes)| FileEntry {
            path: path.clone(),
            sha256: hex(&Sha256::digest(bytes)),
            size: bytes.len() as u64,
        })
        .collect();

    let words = readme_words(lang);
    let mut readme = format!(
        "{}\r\n\r\n{}\r\n\r\n{}\r\n",
        document.title, document.meta, document.notice
    );
    readme.push_str(&format!("\r\n{}\r\n", words.inside));
    let mut line = |s: String| readme.push_str(&format!("- {s}\r\n"));
    if pdf_left_out.is_none() {
        line(format!("{stem}.pdf: {}", words.pdf));
    }
    line(format!("{stem}.docx: {}", words.docx));
    line(format!("{stem}.csv: {}", words.csv));
    line(format!("{stem}.json: {}", words.json));
    if entries.iter().any(|e| e.included_as.is_some()) {
        line(words.attachments.to_string());
    }
    line(words.manifest.to_string());
    line(words.sums.to_string());
    if let Some(why) = &pdf_left_out {
        readme.push_str(&format!("\r\n{} {why}\r\n", words.no_pdf));
    }
    let missing: Vec<&AttachmentEntry> = entries.iter().filter(|e| e.missing.is_some()).collect();
    if !missing.is_empty() {
        readme.push_str(&format!("\r\n{}\r\n", words.missing));
        for e in missing {
            let why = match e.missing {
                Some("changed_since_attached") => words.changed,
                _ => words.not_on_device,
            };
            readme.push_str(&format!(
                "- {} ({}, SHA-256 {}): {why}\r\n",
                e.file_name, e.question, e.sha256
            ));
        }
    }

    let manifest = Manifest {
        form_id: &draft.form_id,
        form_version: &draft.form_version,
        cycle: &draft.cycle,
        status: draft.status,
        language: lang,
        last_changed: &draft.updated_at,
        notice: &document.notice,
        files: listed,
        attachments: entries,
        pdf_left_out,
    };
    files.push((
        "manifest.json".to_string(),
        serde_json::to_vec_pretty(&manifest).map_err(failed)?,
    ));
    files.push(("README.txt".to_string(), readme.into_bytes()));
    let sums: String = files
        .iter()
        .map(|(path, bytes)| format!("{}  {path}\n", hex(&Sha256::digest(bytes))))
        .collect();
    files.push(("SHA256SUMS".to_string(), sums.into_bytes()));

    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip_time(&draft.updated_at));
    for (path, bytes) in &files {
        zip.start_file(format!("{stem}/{path}"), options)
            .map_err(failed)?;
        zip.write_all(bytes).map_err(failed)?;
    }
    Ok(zip.finish().map_err(failed)?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_keep_only_safe_characters() {
        assert_eq!(file_part("COP15"), "COP15");
        assert_eq!(file_part("COP 15/2026"), "COP_15_2026");
        assert_eq!(file_part("../x"), "_x");
        assert_eq!(file_part("  "), "report");
        assert_eq!(file_part("Año"), "Año");
    }

    #[test]
    fn file_answers_parse_and_names_are_made_safe_and_unique() {
        let sha = "ab".repeat(32);
        let value = format!("sites map.pdf sha256:{sha}");
        assert_eq!(
            parse_file_answer(&value),
            Some(("sites map.pdf", sha.as_str()))
        );
        assert_eq!(parse_file_answer("map.pdf"), None);
        assert_eq!(parse_file_answer("map.pdf sha256:XYZ"), None);
        assert_eq!(safe_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_name("..."), "attachment");
        assert_eq!(safe_name("C:\\x\\Carte.pdf"), "C__x_Carte.pdf");
        let mut taken = Default::default();
        assert_eq!(unique("carte.pdf".into(), &mut taken), "carte.pdf");
        assert_eq!(unique("Carte.pdf".into(), &mut taken), "Carte (2).pdf");
        assert_eq!(unique("carte.pdf".into(), &mut taken), "carte (3).pdf");
        assert_eq!(unique("notes".into(), &mut taken), "notes");
        assert_eq!(unique("notes".into(), &mut taken), "notes (2)");
    }
}
