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
//!   the text around it.

use std::collections::HashSet;
use std::sync::LazyLock;

use pulldown_cmark::{CowStr, Event, LinkType, Parser, Tag, TagEnd};

use crate::content::markdown::OPTIONS;

static POST_SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.url_schemes(HashSet::from(["https", "http", "mailto"]))
        .url_relative(ammonia::UrlRelative::Deny)
        // Images (remote loads), image maps (links without text) and <bdo> (reversed text).
        .rm_tags(["img", "map", "area", "bdo"])
        .link_rel(Some("noopener noreferrer nofollow"))
        .set_tag_attribute_value("a", "data-external", "true")
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

/// Renders a post's Markdown to HTML that is safe to put in the page.
pub fn render_post_html(md: &str) -> String {
    let md = strip_bidi_controls(md);
    let mut events: Vec<Event> = Vec::new();
    // Inside an image: its address, and whether alt text was seen.
    let mut image: Option<(CowStr, bool)> = None;
    for event in Parser::new_ext(&md, OPTIONS) {
        match event {
            // An image becomes a link to it: the reader decides whether to load it.
            Event::Start(Tag::Image {
                dest_url,
                title,
                id,
                ..
            }) => {
                events.push(Event::Start(Tag::Link {
                    link_type: LinkType::Inline,
                    dest_url: dest_url.clone(),
                    title,
                    id,
                }));
                events.push(Event::Text(CowStr::from("\u{1F5BC} ")));
                image = Some((dest_url, false));
            }
            Event::End(TagEnd::Image) => {
                // An image without alt text is labelled with its address.
                if let Some((dest_url, false)) = image.take() {
                    events.push(Event::Text(dest_url));
                }
                events.push(Event::End(TagEnd::Link));
            }
            Event::Text(t) => {
                if let Some((_, seen)) = image.as_mut() {
                    *seen |= !t.trim().is_empty();
                }
                events.push(Event::Text(t));
            }
            other => events.push(other),
        }
    }
    let mut html = String::with_capacity(md.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    let clean = POST_SANITIZER.clean(&html).to_string();
    // Malformed markup (an unclosed <math> or <style>) can swallow a whole post: then the
    // reader gets its source as plain text rather than nothing.
    if !has_text(&clean) && !crate::content::plain_text(&md).trim().is_empty() {
        return as_text(&md);
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

    #[test]
    fn relative_links_and_bidi_overrides_are_removed() {
        let html = render_post_html("[settings](#/settings) abc\u{202E}cba\u{202C} [x](/etc)");
        assert!(!html.contains("href"), "{html}");
        assert!(!html.contains('\u{202E}'), "{html}");
        assert!(html.contains("abccba"), "{html}");
    }
}
