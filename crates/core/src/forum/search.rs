//! Offline search over the cached posts: FTS5 with the content search's tokenizer
//! (`unicode61 remove_diacritics 2`) and its query building (every word quoted, the last one
//! a prefix; all words first, then any), so `delegation` finds `délégation` here too.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::markdown::strip_bidi_controls;
use super::read::thread_hidden_from_reader;
use crate::content::{HIGHLIGHT_END, HIGHLIGHT_START, build_match_expression};
use crate::{Core, Result, check_language};

/// Most hits a search returns.
const LIMIT: i64 = 50;

#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PostHit {
    pub post_id: String,
    pub thread_id: String,
    pub thread_title: String,
    pub author_name: String,
    /// Escaped text around the best match; the matches in `<mark>…</mark>`, no other markup.
    pub snippet_html: String,
}

/// Text as indexed: what a reader sees, without the highlight markers (so a post cannot
/// forge a `<mark>`).
fn indexable(text: &str) -> String {
    strip_bidi_controls(text)
        .chars()
        .filter(|c| *c != HIGHLIGHT_START && *c != HIGHLIGHT_END)
        .collect()
}

/// (Re)indexes one post under its row id as its row now is: a visible post with its words (a
/// thread's first post also with the thread's title); a hidden one, or one whose content has
/// not arrived, not at all.
pub(crate) fn reindex_post(conn: &Connection, n: i64) -> Result<()> {
    conn.execute("DELETE FROM forum_search WHERE rowid = ?1", [n])?;
    let row: Option<(Option<String>, String)> = conn
        .query_row(
            "SELECT title, body FROM forum_post WHERE n = ?1 AND hidden = 0 AND body IS NOT NULL",
            [n],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((title, body)) = row {
        conn.execute(
            "INSERT INTO forum_search (rowid, title, body) VALUES (?1, ?2, ?3)",
            params![
                n,
                indexable(title.as_deref().unwrap_or_default()),
                indexable(&super::markdown::post_plain_text(&body))
            ],
        )?;
    }
    Ok(())
}

pub(crate) fn unindex_post(conn: &Connection, n: i64) -> Result<()> {
    conn.execute("DELETE FROM forum_search WHERE rowid = ?1", [n])?;
    Ok(())
}

/// HTML-escapes `text` and turns the FTS5 highlight markers into `<mark>` elements.
fn snippet_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            HIGHLIGHT_START => out.push_str("<mark>"),
            HIGHLIGHT_END => out.push_str("</mark>"),
            c => out.push(c),
        }
    }
    out
}

/// Searches the cached posts (hidden ones left out), best first. `lang` is the reader's
/// language (checked; posts are searched whatever language they are written in).
pub fn search(core: &Core, query: &str, lang: &str) -> Result<Vec<PostHit>> {
    check_language(lang)?;
    let conn = core.conn();
    let me = super::account(&conn)?.unwrap_or_default();
    for any in [false, true] {
        let Some(expr) = build_match_expression(query, any) else {
            return Ok(Vec::new());
        };
        let hits = run(&conn, &expr, &me)?;
        if !hits.is_empty() {
            return Ok(hits);
        }
    }
    Ok(Vec::new())
}

fn run(conn: &Connection, expr: &str, me: &str) -> Result<Vec<PostHit>> {
    // Rank every match first, then make snippets for the best few only: a snippet costs far
    // more than a score, and common words match thousands of posts. (Hidden posts are not in
    // the index. Neither is any post of a thread whose first post is hidden, except for that
    // post's author: its title would show.)
    let mut stmt = conn.prepare_cached(&format!(
        "WITH best AS (
             SELECT rowid AS n, bm25(forum_search, 8.0, 1.0) AS score FROM forum_search
             WHERE forum_search MATCH ?1
               AND rowid NOT IN (
                   SELECT p.n FROM forum_post h
                   JOIN forum_thread t ON t.id = h.id
                   JOIN forum_post p ON p.thread_id = t.id
                   WHERE h.hidden AND {hidden})
             ORDER BY score LIMIT ?4)
         SELECT p.id, p.thread_id, coalesce(t.title, ''), coalesce(p.author_name, p.author, ''),
                snippet(forum_search, -1, ?2, ?3, '…', 16)
         FROM best
         CROSS JOIN forum_search ON forum_search.rowid = best.n AND forum_search MATCH ?1
         JOIN forum_post p ON p.n = best.n
         LEFT JOIN forum_thread t ON t.id = p.thread_id
         ORDER BY best.score, best.n",
        hidden = thread_hidden_from_reader("?5")
    ))?;
    let rows = stmt.query_map(
        params![
            expr,
            HIGHLIGHT_START.to_string(),
            HIGHLIGHT_END.to_string(),
            LIMIT,
            me
        ],
        |r| {
            Ok(PostHit {
                post_id: r.get(0)?,
                thread_id: r.get(1)?,
                thread_title: strip_bidi_controls(&r.get::<_, String>(2)?),
                author_name: strip_bidi_controls(&r.get::<_, String>(3)?),
                snippet_html: snippet_html(&r.get::<_, String>(4)?),
            })
        },
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_escape_everything_but_the_marks() {
        assert_eq!(
            snippet_html("<script>\u{E000}x\u{E001} & \"y\""),
            "&lt;script&gt;<mark>x</mark> &amp; &quot;y&quot;"
        );
        assert_eq!(indexable("a\u{E000}b\u{202E}c"), "abc");
    }
}
