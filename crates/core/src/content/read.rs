//! Reading content for the UI, in the reader's language with English fallback.
//!
//! Every view says which language it actually shows (`lang`) and whether that is a fallback,
//! so the UI can tell the reader "not yet translated; showing English".

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::pack::{LibraryMeta, Provenance};
use crate::ErrorCode;
use crate::{Error, FALLBACK_LANGUAGE, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    Manual,
    Checklist,
    Library,
}

impl ItemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Manual => "manual",
            ItemKind::Checklist => "checklist",
            ItemKind::Library => "library",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "manual" => Ok(ItemKind::Manual),
            "checklist" => Ok(ItemKind::Checklist),
            "library" => Ok(ItemKind::Library),
            other => Err(Error::invalid(
                ErrorCode::UnknownItem,
                format!("unknown item kind `{other}`"),
            )),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Progress {
    pub done: u32,
    pub total: u32,
}

/// One line in a list of items.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ItemSummary {
    pub kind: ItemKind,
    pub id: String,
    pub title: String,
    pub summary: String,
    /// The language shown; differs from the requested one when falling back.
    #[cfg_attr(feature = "ts", ts(as = "crate::Lang"))]
    pub lang: String,
    pub fallback: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub meta: Option<LibraryMeta>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub progress: Option<Progress>,
}

/// A whole item for the reading view.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ItemView {
    pub kind: ItemKind,
    pub id: String,
    pub title: String,
    pub summary: String,
    pub html: String,
    #[cfg_attr(feature = "ts", ts(as = "crate::Lang"))]
    pub lang: String,
    pub fallback: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub meta: Option<LibraryMeta>,
    /// Shown at the foot of the page: the sources and the date the facts were last checked.
    pub provenance: Provenance,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChecklistStepView {
    pub id: String,
    pub text: String,
    pub detail_html: String,
    pub fallback: bool,
    pub done: bool,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChecklistView {
    pub id: String,
    pub title: String,
    pub summary: String,
    #[cfg_attr(feature = "ts", ts(as = "crate::Lang"))]
    pub lang: String,
    pub fallback: bool,
    pub steps: Vec<ChecklistStepView>,
    pub progress: Progress,
    pub provenance: Provenance,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(optional_fields))]
#[serde(default, deny_unknown_fields)]
pub struct LibraryFilter {
    pub kind: Option<String>,
    pub region: Option<String>,
    pub instrument: Option<String>,
    pub language: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LibraryFacets {
    pub kinds: Vec<String>,
    pub regions: Vec<String>,
    pub instruments: Vec<String>,
    pub languages: Vec<String>,
}

/// Picks, per item, the row in `lang` or else the English one.
const BEST_ROW: &str = "c.lang = ?2 OR (c.lang = 'en' AND NOT EXISTS (
        SELECT 1 FROM content_item t WHERE t.kind = c.kind AND t.id = c.id AND t.lang = ?2))";

fn provenance_from_row(row: &Row<'_>) -> rusqlite::Result<Provenance> {
    let sources: String = row.get("sources_json")?;
    Ok(Provenance {
        reviewed: row.get("reviewed")?,
        sources: serde_json::from_str(&sources).unwrap_or_default(),
    })
}

fn summary_from_row(row: &Row<'_>, requested: &str) -> rusqlite::Result<ItemSummary> {
    let kind: String = row.get("kind")?;
    let lang: String = row.get("lang")?;
    let meta_json: String = row.get("meta_json")?;
    Ok(ItemSummary {
        kind: ItemKind::parse(&kind)
            .map_err(|e| rusqlite::Error::InvalidColumnName(e.to_string()))?,
        id: row.get("id")?,
        title: row.get("title")?,
        summary: row.get("summary")?,
        fallback: lang != requested,
        lang,
        meta: serde_json::from_str(&meta_json).ok(),
        progress: None,
    })
}

/// All items of a kind, in pack order.
/// The title of item `id` of `kind` (`manual`, `checklist`, `library`) in `lang`, English when
/// it is not translated; `None` when the pack has no such item.
pub(crate) fn title_of(
    conn: &Connection,
    kind: &str,
    id: &str,
    lang: &str,
) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT title FROM content_item WHERE kind = ?1 AND id = ?2
             ORDER BY lang = ?3 DESC, lang = ?4 DESC LIMIT 1",
            params![kind, id, lang, FALLBACK_LANGUAGE],
            |r| r.get(0),
        )
        .optional()?)
}

pub fn summaries(conn: &Connection, kind: ItemKind, lang: &str) -> Result<Vec<ItemSummary>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT c.kind, c.id, c.lang, c.title, c.summary, c.meta_json FROM content_item c
         WHERE c.kind = ?1 AND ({BEST_ROW}) ORDER BY c.ord, json_extract(c.meta_json, '$.date'), c.id"
    ))?;
    let rows = stmt.query_map(params![kind.as_str(), lang], |r| summary_from_row(r, lang))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// One item's summary, if it exists (used for bookmarks and history).
pub fn summary(
    conn: &Connection,
    kind: ItemKind,
    id: &str,
    lang: &str,
) -> Result<Option<ItemSummary>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT c.kind, c.id, c.lang, c.title, c.summary, c.meta_json FROM content_item c
         WHERE c.kind = ?1 AND ({BEST_ROW}) AND c.id = ?3"
    ))?;
    Ok(stmt
        .query_row(params![kind.as_str(), lang, id], |r| {
            summary_from_row(r, lang)
        })
        .optional()?)
}

pub fn list_manual(conn: &Connection, lang: &str) -> Result<Vec<ItemSummary>> {
    summaries(conn, ItemKind::Manual, lang)
}

pub fn list_checklists(conn: &Connection, lang: &str) -> Result<Vec<ItemSummary>> {
    let mut lists = summaries(conn, ItemKind::Checklist, lang)?;
    for list in &mut lists {
        list.progress = Some(progress(conn, &list.id)?);
    }
    Ok(lists)
}

fn progress(conn: &Connection, checklist_id: &str) -> Result<Progress> {
    let (total, done) = conn.query_row(
        "SELECT count(*), coalesce(sum(p.done), 0) FROM checklist_step s
         LEFT JOIN checklist_progress p ON p.checklist_id = s.checklist_id AND p.step_id = s.step_id
         WHERE s.checklist_id = ?1 AND s.lang = 'en'",
        [checklist_id],
        |r| Ok((r.get::<_, u32>(0)?, r.get::<_, u32>(1)?)),
    )?;
    Ok(Progress { done, total })
}

pub fn get_item(conn: &Connection, kind: ItemKind, id: &str, lang: &str) -> Result<ItemView> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT c.kind, c.id, c.lang, c.title, c.summary, c.meta_json, c.body_html, c.reviewed, c.sources_json
         FROM content_item c WHERE c.kind = ?1 AND ({BEST_ROW}) AND c.id = ?3"
    ))?;
    let view = stmt
        .query_row(params![kind.as_str(), lang, id], |r| {
            let s = summary_from_row(r, lang)?;
            Ok(ItemView {
                kind: s.kind,
                id: s.id,
                title: s.title,
                summary: s.summary,
                html: r.get("body_html")?,
                lang: s.lang,
                fallback: s.fallback,
                meta: s.meta,
                provenance: provenance_from_row(r)?,
            })
        })
        .optional()?;
    view.ok_or_else(|| Error::NotFound(format!("{} `{id}`", kind.as_str())))
}

pub fn checklist(conn: &Connection, id: &str, lang: &str) -> Result<ChecklistView> {
    let head = summary(conn, ItemKind::Checklist, id, lang)?
        .ok_or_else(|| Error::NotFound(format!("checklist `{id}`")))?;
    let provenance = conn.query_row(
        "SELECT reviewed, sources_json FROM content_item WHERE kind = 'checklist' AND id = ?1 AND lang = 'en'",
        [id],
        provenance_from_row,
    )?;
    let mut stmt = conn.prepare_cached(
        "SELECT e.step_id, coalesce(t.text, e.text), coalesce(t.detail_html, e.detail_html), t.step_id IS NULL,
                coalesce(p.done, 0), coalesce(p.note, '')
         FROM checklist_step e
         LEFT JOIN checklist_step t ON t.checklist_id = e.checklist_id AND t.step_id = e.step_id AND t.lang = ?2
         LEFT JOIN checklist_progress p ON p.checklist_id = e.checklist_id AND p.step_id = e.step_id
         WHERE e.checklist_id = ?1 AND e.lang = 'en'
         ORDER BY e.ord",
    )?;
    let steps = stmt
        .query_map(params![id, lang], |r| {
            Ok(ChecklistStepView {
                id: r.get(0)?,
                text: r.get(1)?,
                detail_html: r.get(2)?,
                fallback: lang != FALLBACK_LANGUAGE && r.get::<_, bool>(3)?,
                done: r.get(4)?,
                note: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let progress = Progress {
        done: steps.iter().filter(|s| s.done).count() as u32,
        total: steps.len() as u32,
    };
    Ok(ChecklistView {
        id: head.id,
        title: head.title,
        summary: head.summary,
        lang: head.lang,
        fallback: head.fallback,
        steps,
        progress,
        provenance,
    })
}

pub fn list_library(
    conn: &Connection,
    lang: &str,
    filter: &LibraryFilter,
) -> Result<Vec<ItemSummary>> {
    let mut items = summaries(conn, ItemKind::Library, lang)?;
    items.retain(|item| {
        let Some(meta) = &item.meta else { return false };
        let kind = serde_json::to_value(meta.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string));
        filter
            .kind
            .as_ref()
            .is_none_or(|k| kind.as_deref() == Some(k.as_str()))
            && filter
                .region
                .as_ref()
                .is_none_or(|r| meta.regions.iter().any(|x| x == r || x == "global"))
            && filter
                .instrument
                .as_ref()
                .is_none_or(|i| meta.instruments.contains(i))
            && filter
                .language
                .as_ref()
                .is_none_or(|l| meta.languages.contains(l))
    });
    Ok(items)
}

pub fn library_facets(conn: &Connection) -> Result<LibraryFacets> {
    let distinct = |path: &str| -> Result<Vec<String>> {
        let mut stmt = conn.prepare_cached(
            "SELECT DISTINCT j.value FROM content_item c, json_each(c.meta_json, ?1) j
             WHERE c.kind = 'library' AND c.lang = 'en' ORDER BY j.value",
        )?;
        let rows = stmt.query_map([path], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    };
    let mut kinds = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT json_extract(meta_json, '$.kind') FROM content_item WHERE kind = 'library' AND lang = 'en' ORDER BY ord",
    )?;
    for k in stmt.query_map([], |r| r.get::<_, String>(0))? {
        kinds.push(k?);
    }
    Ok(LibraryFacets {
        kinds,
        regions: distinct("$.regions")?,
        instruments: distinct("$.instruments")?,
        languages: distinct("$.languages")?,
    })
}
