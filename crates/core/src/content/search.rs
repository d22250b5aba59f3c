//! Full-text search over the pack with SQLite FTS5.
//!
//! The index uses `unicode61 remove_diacritics 2`, so case and accents fold on both sides:
//! `delegation` finds `délégation`, `credenciales` finds `Credenciales`. User input is never
//! passed to FTS5 as syntax: it is split into words, each quoted, the last one a prefix.

use rusqlite::{Connection, params};
use serde::Serialize;

use super::read::ItemKind;
use crate::Result;

/// Private-use characters marking highlighted words in titles and snippets. They cannot occur
/// in content, so the UI can escape the text first and then turn them into `<mark>`.
pub const HIGHLIGHT_START: char = '\u{E000}';
pub const HIGHLIGHT_END: char = '\u{E001}';

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SearchHit {
    pub kind: ItemKind,
    pub id: String,
    /// Title with matches between [`HIGHLIGHT_START`] and [`HIGHLIGHT_END`].
    pub title: String,
    /// A few words around the best match, marked the same way.
    pub snippet: String,
    /// bm25 score: lower is better.
    pub score: f64,
    /// The part of the item the hit is about (a glossary term's id), opened at `#/…/<id>/<section>`.
    pub section: Option<String>,
}

/// Turns what a person typed into a safe FTS5 expression: every word quoted (so `AND`, `*`,
/// `"` or `:` are just text), the last word as a prefix so results come while typing.
/// `any` joins with OR instead of the implicit AND.
pub fn build_match_expression(input: &str, any: bool) -> Option<String> {
    let words: Vec<String> = input
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(16)
        .map(|w| format!("\"{w}\""))
        .collect();
    let last = words.len().checked_sub(1)?;
    let terms: Vec<String> = words
        .into_iter()
        .enumerate()
        .map(|(i, w)| if i == last { format!("{w}*") } else { w })
        .collect();
    Some(terms.join(if any { " OR " } else { " " }))
}

/// Searches the whole pack as seen in `lang`, best first. All words must match; if none
/// does, any word may (so a stray word never leaves the reader with nothing).
pub fn search(conn: &Connection, input: &str, lang: &str, limit: usize) -> Result<Vec<SearchHit>> {
    for any in [false, true] {
        let Some(expr) = build_match_expression(input, any) else {
            return Ok(Vec::new());
        };
        let hits = run(conn, &expr, lang, limit)?;
        if !hits.is_empty() {
            return Ok(hits);
        }
    }
    Ok(Vec::new())
}

fn run(conn: &Connection, expr: &str, lang: &str, limit: usize) -> Result<Vec<SearchHit>> {
    let mut stmt = conn.prepare_cached(
        "SELECT kind, id,
                highlight(search_index, 0, ?4, ?5),
                snippet(search_index, 1, ?4, ?5, '…', 14),
                bm25(search_index, 8.0, 1.0) AS score,
                section
         FROM search_index
         WHERE search_index MATCH ?1 AND lang = ?2
         ORDER BY score
         LIMIT ?3",
    )?;
    let rows = stmt.query_map(
        params![
            expr,
            lang,
            limit as i64,
            HIGHLIGHT_START.to_string(),
            HIGHLIGHT_END.to_string()
        ],
        |r| {
            let kind: String = r.get(0)?;
            Ok(SearchHit {
                kind: ItemKind::parse(&kind)
                    .map_err(|e| rusqlite::Error::InvalidColumnName(e.to_string()))?,
                id: r.get(1)?,
                title: r.get(2)?,
                snippet: r.get(3)?,
                score: r.get(4)?,
                section: r.get(5)?,
            })
        },
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_every_word_and_prefixes_the_last() {
        assert_eq!(
            build_match_expression("lettres de créance", false).unwrap(),
            r#""lettres" "de" "créance"*"#
        );
        assert_eq!(
            build_match_expression("a OR b", true).unwrap(),
            r#""a" OR "OR" OR "b"*"#
        );
    }

    #[test]
    fn fts_syntax_is_neutralised() {
        assert_eq!(
            build_match_expression("\"x\" NEAR(y) title:z*", false).unwrap(),
            r#""x" "NEAR" "y" "title" "z"*"#
        );
        assert!(build_match_expression("  *** \"\" () ", false).is_none());
    }
}
