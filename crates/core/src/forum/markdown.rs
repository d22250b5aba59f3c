//! Posts in Markdown, rendered for display with a stricter sanitizer than the content pack's:
//! anyone can write a post, so nothing in it may run, load or pretend.
//!
//! - no script, style, frames, SVG, forms or event handlers (ammonia's allow-list);
//! - no image is ever loaded (bandwidth and privacy): a Markdown image becomes a link to it,
//!   labelled with its alt text; a raw `<img>` is dropped;
//! - links only to `https:`, `http:` and `mailto:`, each with
//!   `rel="noopener noreferrer nofollow"` and `data-external` so the app asks before opening
//!   them in the system browser; relative links are removed (a post cannot steer the app);
//! - bidirectional override and embedding controls are removed, so a post cannot reverse
//!   the text around it; a link whose address holds an invisible character (any Unicode
//!   format character, whitespace or control) loses its address;
//! - block quotes and lists nest at most [`MAX_POST_NESTING`] deep: deeper ones are
//!   flattened into their parent, so a hostile post renders in bounded time and width.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use pulldown_cmark::{CowStr, Event, LinkType, Parser, Tag, TagEnd};

use super::links::is_disguised_url;
use crate::content::markdown::OPTIONS;
pub use stopover_protocol::nesting::MAX_POST_NESTING;

static POST_SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.url_schemes(HashSet::from(["https", "http", "mailto"]))
        .url_relative(ammonia::UrlRelative::Deny)
        // Images (remote loads), image maps (links without text) and <bdo> (reversed text).
        .rm_tags(["img", "map", "area", "bdo"])
        .link_rel(Some("noopener noreferrer nofollow"))
        .set_tag_attribute_value("a", "data-external", "true")
        // An address with invisible characters (U+202E, U+200B…) can read as another one:
        // it is dropped, the link's text stays.
        .attribute_filter(|_element, attribute, value| {
            if matches!(attribute, "href" | "src" | "cite" | "action" | "formaction")
                && is_disguised_url(value)
            {
                None
            } else {
                Some(value.into())
            }
        })
        .strip_comments(true);
    b
});

/// Characters that reorder the text after them until a matching pop: LRE, RLE, PDF, LRO, RLO
/// and the isolates LRI, RLI, FSI, PDI.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text` without bidirectional override, embedding or isolate controls.
pub fn strip_bidi_controls(text: &str) -> String {
    text.chars().filter(|c| !is_bidi_control(*c)).collect()
}

thread_local! {
    /// Bodies rendered ahead by [`Prerendered`], by their Markdown: the HTML, and the plain
    /// text the search index takes.
    static PRERENDERED: RefCell<HashMap<String, (String, String)>> = RefCell::new(HashMap::new());
}

/// Posts rendered (and made plain text for the search index) before the database lock is
/// taken, so parsing them (the slow part of writing a post) never holds up another save. Writers inside the lock take the HTML through
/// [`post_html`]; a body not rendered ahead is rendered there. Dropping the guard forgets them.
#[must_use = "the bodies are forgotten when the guard is dropped"]
pub(crate) struct Prerendered(());

impl Prerendered {
    pub(crate) fn bodies<'a>(bodies: impl IntoIterator<Item = &'a str>) -> Prerendered {
        let rendered: Vec<(String, (String, String))> = bodies
            .into_iter()
            .map(|body| {
                let both = (render_post_html(body), crate::content::plain_text(body));
                (body.to_string(), both)
            })
            .collect();
        PRERENDERED.with(|map| map.borrow_mut().extend(rendered));
        Prerendered(())
    }
}

impl Drop for Prerendered {
    fn drop(&mut self) {
        PRERENDERED.with(|map| map.borrow_mut().clear());
    }
}

/// The HTML of a post's body: rendered ahead by [`Prerendered`] on this thread, or now.
pub(crate) fn post_html(body: &str) -> String {
    PRERENDERED
        .with(|map| map.borrow().get(body).map(|(html, _)| html.clone()))
        .unwrap_or_else(|| render_post_html(body))
}

/// The plain text of a post's body for the search index: worked out ahead by
/// [`Prerendered`] on this thread, or now (parsing a hostile post is what takes the time).
pub(crate) fn post_plain_text(body: &str) -> String {
    PRERENDERED
        .with(|map| map.borrow().get(body).map(|(_, plain)| plain.clone()))
        .unwrap_or_else(|| crate::content::plain_text(body))
}

/// A link's address, or none when it holds a character that can disguise it (the link's
/// text stays; pulldown-cmark escapes addresses, so the sanitizer would not see them).
fn undisguised(url: CowStr) -> CowStr {
    if is_disguised_url(&url) {
        CowStr::from("")
    } else {
        url
    }
}

/// `text` without bidi controls, copied only when it has some.
fn unbidi(text: CowStr) -> CowStr {
    if text.chars().any(is_bidi_control) {
        CowStr::from(strip_bidi_controls(&text))
    } else {
        text
    }
}

/// Renders a post's Markdown to HTML that is safe to put in the page.
pub fn render_post_html(md: &str) -> String {
    // Bidi controls go from the text (below, event by event) but not from link addresses:
    // an address holding one is dropped by the sanitizer rather than quietly changed.
    let mut events: Vec<Event> = Vec::new();
    // Inside an image: its address, and whether alt text was seen.
    let mut image: Option<(CowStr, bool)> = None;
    // Open quotes, lists and items, each with whether it is kept; `depth` counts the kept
    // quotes and lists. Deeper ones are flattened into their parent (their content stays).
    let mut open: Vec<bool> = Vec::new();
    let mut depth = 0usize;
    for event in Parser::new_ext(md, OPTIONS) {
        match event {
            Event::Start(ref tag @ (Tag::BlockQuote(_) | Tag::List(_) | Tag::Item)) => {
                let keep = match tag {
                    // An item stands or falls with its list.
                    Tag::Item => open.last().copied().unwrap_or(true),
                    _ => depth < MAX_POST_NESTING,
                };
                if keep && !matches!(tag, Tag::Item) {
                    depth += 1;
                }
                open.push(keep);
                if keep {
                    events.push(event);
                }
            }
            Event::End(ref end @ (TagEnd::BlockQuote(_) | TagEnd::List(_) | TagEnd::Item)) => {
                let keep = open.pop().unwrap_or(true);
                if keep {
                    if !matches!(end, TagEnd::Item) {
                        depth -= 1;
                    }
                    events.push(event);
                }
            }
            // An image becomes a link to it: the reader decides whether to load it.
            Event::Start(Tag::Image {
                dest_url,
                title,
                id,
                ..
            }) => {
                let dest_url = undisguised(dest_url);
                events.push(Event::Start(Tag::Link {
                    link_type: LinkType::Inline,
                    dest_url: dest_url.clone(),
                    title: unbidi(title),
                    id,
                }));
                events.push(Event::Text(CowStr::from("\u{1F5BC} ")));
                image = Some((dest_url, false));
            }
            Event::End(TagEnd::Image) => {
                // An image without alt text is labelled with its address.
                if let Some((dest_url, false)) = image.take() {
                    events.push(Event::Text(unbidi(dest_url)));
                }
                events.push(Event::End(TagEnd::Link));
            }
            Event::Text(t) => {
                let t = unbidi(t);
                if let Some((_, seen)) = image.as_mut() {
                    *seen |= !t.trim().is_empty();
                }
                events.push(Event::Text(t));
            }
            Event::Code(t) => events.push(Event::Code(unbidi(t))),
            Event::Html(t) => events.push(Event::Html(unbidi(t))),
            Event::InlineHtml(t) => events.push(Event::InlineHtml(unbidi(t))),
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => events.push(Event::Start(Tag::Link {
                link_type,
                dest_url: undisguised(dest_url),
                title: unbidi(title),
                id,
            })),
            other => events.push(other),
        }
    }
    let mut html = String::with_capacity(md.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    let clean = POST_SANITIZER.clean(&html).to_string();
    // Malformed markup (an unclosed <math> or <style>) can swallow a whole post: then the
    // reader gets its source as plain text rather than nothing.
    if !has_text(&clean) && !crate::content::plain_text(md).trim().is_empty() {
        return as_text(&strip_bidi_controls(md));
    }
    clean
}

/// Whether HTML shows any visible character outside its tags.
fn has_text(html: &str) -> bool {
    let mut in_tag = false;
    html.chars().any(|c| match c {
        '<' => {
            in_tag = true;
            false
        }
        '>' => {
            in_tag = false;
            false
        }
        c => !in_tag && !c.is_whitespace(),
    })
}

/// `text` escaped, one paragraph per blank-line-separated block, line breaks kept.
fn as_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
        out.push_str("<p>");
        for (i, line) in block.trim().lines().enumerate() {
            if i > 0 {
                out.push_str("<br>");
            }
            for c in line.chars() {
                match c {
                    '&' => out.push_str("&amp;"),
                    '<' => out.push_str("&lt;"),
                    '>' => out.push_str("&gt;"),
                    '"' => out.push_str("&quot;"),
                    '\'' => out.push_str("&#39;"),
                    c => out.push(c),
                }
            }
        }
        out.push_str("</p>");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_marked_external_and_images_become_links() {
        let html = render_post_html(
            "See [the MOU](https://www.cms.int/mou) and ![a map of flyways](https://x.org/map.png) ![](https://x.org/b.png)",
        );
        assert!(html.contains(r#"href="https://www.cms.int/mou""#), "{html}");
        assert!(html.contains(r#"data-external="true""#), "{html}");
        assert!(
            html.contains(r#"rel="noopener noreferrer nofollow""#),
            "{html}"
        );
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("🖼 a map of flyways</a>"), "{html}");
        assert!(html.contains("🖼 https://x.org/b.png</a>"), "{html}");
    }

    #[test]
    fn a_post_swallowed_by_malformed_markup_shows_as_text() {
        let html = render_post_html("<math><mtext><table><mglyph><style>x\n\nstill & there");
        assert_eq!(
            html,
            "<p>&lt;math&gt;&lt;mtext&gt;&lt;table&gt;&lt;mglyph&gt;&lt;style&gt;x</p><p>still &amp; there</p>"
        );
        assert_eq!(render_post_html("<script>only()</script>"), "");
    }

    /// Deepest nesting of an element in `html` (void elements aside, none are nested here).
    fn html_depth(html: &str, tags: &[&str]) -> usize {
        let (mut depth, mut deepest) = (0usize, 0usize);
        for part in html.split('<').skip(1) {
            let name: String = part
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            if !tags.contains(&name.as_str()) {
                continue;
            }
            if part.starts_with('/') {
                depth -= 1;
            } else {
                depth += 1;
                deepest = deepest.max(depth);
            }
        }
        deepest
    }

    #[test]
    fn a_nesting_bomb_is_flattened_and_renders_fast() {
        let started = std::time::Instant::now();
        let quotes = render_post_html(&format!("{}deep inside", ">".repeat(8_000)));
        assert_eq!(html_depth(&quotes, &["blockquote"]), MAX_POST_NESTING);
        assert!(quotes.contains("deep inside"), "the text stays");
        let lists: String = (0..300)
            .map(|i| format!("{}- level {i}\n", "  ".repeat(i)))
            .collect();
        let html = render_post_html(&lists);
        assert!(
            html_depth(&html, &["ul", "blockquote"]) <= MAX_POST_NESTING,
            "{html}"
        );
        assert!(html.contains("level 299"));
        let mixed = render_post_html(&format!("{}end", "> - ".repeat(2_000)));
        assert!(html_depth(&mixed, &["ul", "blockquote"]) <= MAX_POST_NESTING);
        assert!(
            html_depth(&mixed, &["li"]) <= MAX_POST_NESTING,
            "items go with their lists"
        );
        assert!(mixed.contains("end"));
        // A post at the limit keeps every level.
        let at_limit = render_post_html(&format!("{} kept", ">".repeat(MAX_POST_NESTING)));
        assert_eq!(html_depth(&at_limit, &["blockquote"]), MAX_POST_NESTING);
        // Debug builds are ~15x slower than release; before the cap this took 16 s in debug.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn links_with_invisible_characters_lose_their_address() {
        for url in [
            "https://example.org/\u{202E}fdp.exe",
            "https://exa\u{200B}mple.org/",
            "https://example.org/\u{2060}a",
            "https://example.org/%E2%80%AEexe.pdf",
        ] {
            let html = render_post_html(&format!("[click](<{url}>)"));
            assert!(!html.contains("href"), "{url}: {html}");
            assert!(html.contains("click"), "{html}");
        }
        let ok = render_post_html("[ok](https://example.org/é)");
        assert!(ok.contains("href"), "{ok}");
        let raw = render_post_html("<a href=\"https://example.org/\u{200B}\">raw</a>");
        assert!(!raw.contains("href"), "{raw}");
    }

    #[test]
    fn relative_links_and_bidi_overrides_are_removed() {
        let html = render_post_html("[settings](#/settings) abc\u{202E}cba\u{202C} [x](/etc)");
        assert!(!html.contains("href"), "{html}");
        assert!(!html.contains('\u{202E}'), "{html}");
        assert!(html.contains("abccba"), "{html}");
    }
}
