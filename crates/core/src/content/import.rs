//! Replacing the content tables with a pack, in one transaction.
//!
//! Only `content_item`, `checklist_step`, `search_index` and the pack facts in `meta` are
//! written; the user's ticks, notes, bookmarks and history live in other tables and are
//! never touched. If anything fails, the transaction rolls back and the old content stays.

use rusqlite::{Connection, params};

use super::markdown::{plain_text, render_html};
use super::pack::{GLOSSARY_ID, ItemText, Pack, Provenance};
use crate::{FALLBACK_LANGUAGE, LANGUAGES, Result};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportReport {
    pub version: String,
    pub items: usize,
    pub indexed: usize,
}

/// The version and hash of the pack currently in the database, if any.
pub fn imported_pack(conn: &Connection) -> Result<Option<(String, String)>> {
    let get = |key: &str| -> Result<Option<String>> {
        match conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)) {
            Ok(v) => Ok(Some(v)),
            Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
            Err(e) => Err(e.into()),
        }
    };
    Ok(match (get("pack_version")?, get("pack_hash")?) {
        (Some(v), Some(h)) => Some((v, h)),
        _ => None,
    })
}

pub fn import(conn: &mut Connection, pack: &Pack) -> Result<ImportReport> {
    let tx = conn.transaction()?;
    let report = import_in(&tx, pack)?;
    tx.commit()?;
    tracing::info!(version = %report.version, items = report.items, indexed = report.indexed, "content pack imported");
    Ok(report)
}

/// [`import`] inside a transaction the caller commits (or drops, leaving the old content).
pub(crate) fn import_in(tx: &rusqlite::Transaction<'_>, pack: &Pack) -> Result<ImportReport> {
    tx.execute_batch(
        "DELETE FROM content_item; DELETE FROM checklist_step; DELETE FROM search_index; DELETE FROM report_form_file; DELETE FROM report_form;",
    )?;
    let mut items = 0;
    let mut indexed = 0;
    {
        let mut item_stmt = tx.prepare(
            "INSERT INTO content_item (kind, id, lang, title, summary, body_html, ord, meta_json, reviewed, sources_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        let mut step_stmt = tx.prepare(
            "INSERT INTO checklist_step (checklist_id, step_id, lang, ord, text, detail_html) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        let mut index_stmt = tx.prepare(
            "INSERT INTO search_index (title, body, kind, id, lang, section) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        let sources =
            |p: &Provenance| serde_json::to_string(&p.sources).expect("sources serialize");

        // The text indexed for `lang` is what a reader in that language sees: the translation
        // where it exists, the English original where it does not.
        let mut index = |kind: &str,
                         id: &str,
                         section: Option<&str>,
                         texts: &dyn Fn(&str) -> Option<(String, String)>|
         -> Result<()> {
            for lang in LANGUAGES {
                if let Some((title, body)) = texts(lang).or_else(|| texts(FALLBACK_LANGUAGE)) {
                    index_stmt.execute(params![title, body, kind, id, lang, section])?;
                    indexed += 1;
                }
            }
            Ok(())
        };
        let text_for_index = |t: &ItemText| {
            (
                t.title.clone(),
                format!("{} {}", t.summary, plain_text(&t.body_md)),
            )
        };

        for module in &pack.manual {
            for (lang, t) in &module.texts {
                item_stmt.execute(params![
                    "manual",
                    module.id,
                    lang,
                    t.title,
                    t.summary,
                    render_html(&t.body_md),
                    module.order,
                    "{}",
                    module.provenance.reviewed,
                    sources(&module.provenance)
                ])?;
                items += 1;
            }
            if module.id == GLOSSARY_ID
                && let Some(glossary) = &pack.glossary
            {
                // The page itself by its title and intro; each term below as its own hit.
                index("manual", &module.id, None, &|lang| {
                    glossary.texts.get(lang).map(|g| {
                        (
                            g.title.clone(),
                            format!("{} {}", g.summary, plain_text(&g.intro)),
                        )
                    })
                })?;
            } else {
                index("manual", &module.id, None, &|lang| {
                    module.texts.get(lang).map(text_for_index)
                })?;
            }
        }

        if let Some(glossary) = &pack.glossary {
            let english = &glossary.texts[FALLBACK_LANGUAGE];
            for term in &english.terms {
                index("manual", GLOSSARY_ID, Some(&term.id), &|lang| {
                    let t = glossary
                        .texts
                        .get(lang)?
                        .terms
                        .iter()
                        .find(|t| t.id == term.id)?;
                    Some((format!("{} — {}", t.term, t.meaning), plain_text(&t.detail)))
                })?;
            }
        }

        for list in &pack.checklists {
            let en_steps = &list.texts[FALLBACK_LANGUAGE].steps;
            for (lang, t) in &list.texts {
                item_stmt.execute(params![
                    "checklist",
                    list.id,
                    lang,
                    t.title,
                    t.summary,
                    "",
                    list.order,
                    "{}",
                    list.provenance.reviewed,
                    sources(&list.provenance)
                ])?;
                items += 1;
                // Steps keep the English order; a translation may leave some untranslated.
                for (ord, en_step) in en_steps.iter().enumerate() {
                    if let Some(step) = t.steps.iter().find(|s| s.id == en_step.id) {
                        step_stmt.execute(params![
                            list.id,
                            step.id,
                            lang,
                            ord as i64,
                            step.text,
                            render_html(&step.detail)
                        ])?;
                    }
                }
            }
            index("checklist", &list.id, None, &|lang| {
                list.texts.get(lang).map(|t| {
                    let steps: Vec<String> = t
                        .steps
                        .iter()
                        .map(|s| format!("{} {}", s.text, plain_text(&s.detail)))
                        .collect();
                    (
                        t.title.clone(),
                        format!("{} {}", t.summary, steps.join(" ")),
                    )
                })
            })?;
        }

        for item in &pack.library {
            let meta = serde_json::to_string(&item.meta).expect("library metadata serializes");
            for (lang, t) in &item.texts {
                item_stmt.execute(params![
                    "library",
                    item.id,
                    lang,
                    t.title,
                    t.summary,
                    render_html(&t.body_md),
                    item.order(),
                    meta,
                    item.provenance.reviewed,
                    sources(&item.provenance)
                ])?;
                items += 1;
            }
            index("library", &item.id, None, &|lang| {
                item.texts.get(lang).map(text_for_index)
            })?;
        }
    }
    for form in &pack.forms {
        tx.execute(
            "INSERT INTO report_form (id, version, title, source) VALUES (?1, ?2, ?3, ?4)",
            params![form.id, form.version, form.title, form.source],
        )?;
        for (name, content) in &form.files {
            tx.execute(
                "INSERT INTO report_form_file (form_id, name, content) VALUES (?1, ?2, ?3)",
                params![form.id, name, content],
            )?;
        }
    }
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('pack_version', ?1), ('pack_hash', ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![pack.manifest.version, pack.hash],
    )?;
    // Keep the index compact: imports are rare, searches are many.
    tx.execute(
        "INSERT INTO search_index (search_index) VALUES ('optimize')",
        [],
    )?;
    Ok(ImportReport {
        version: pack.manifest.version.clone(),
        items,
        indexed,
    })
}
