//! Markdown → sanitized HTML, plain text for the search index, and link extraction.
//!
//! Everything shown in the webview passes through `ammonia`, even our own pack: packs will
//! arrive by sync later, and a sanitizer in one place is cheaper than trusting every author.

use std::collections::HashSet;
use std::sync::LazyLock;

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

pub(crate) const OPTIONS: Options = Options::ENABLE_TABLES.union(Options::ENABLE_STRIKETHROUGH);

/// Pack content may also give a heading a stable id, `## Deadlines {#deadlines}`, so a link to a
/// section (`#/manual/<id>/deadlines`) works in every language. Forum posts cannot.
const CONTENT_OPTIONS: Options = OPTIONS.union(Options::ENABLE_HEADING_ATTRIBUTES);

/// Prefix of heading ids in rendered HTML, so content can never clobber the app's own ids.
pub const HEADING_ID_PREFIX: &str = "sec-";

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.url_schemes(HashSet::from(["https", "mailto"]))
        // No images at all: remote images cost bandwidth and leak the reader's address.
        .rm_tags(["img"])
        .add_tag_attributes("h2", ["id"])
        .add_tag_attributes("h3", ["id"])
        .id_prefix(Some(HEADING_ID_PREFIX))
        .link_rel(Some("noopener noreferrer nofollow"));
    b
});

/// Renders Markdown to HTML that is safe to put in the page.
pub fn render_html(md: &str) -> String {
    let events = with_heading_ids(Parser::new_ext(md, CONTENT_OPTIONS).collect());
    let mut html = String::with_capacity(md.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    SANITIZER.clean(&html).to_string()
}

/// The words a reader sees, for the full-text index.
pub fn plain_text(md: &str) -> String {
    let mut out = String::with_capacity(md.len());
    for event in Parser::new_ext(md, CONTENT_OPTIONS) {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak
            | Event::HardBreak
            | Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::TableCell
                | TagEnd::CodeBlock
                | TagEnd::BlockQuote(_),
            ) if !out.ends_with(' ') => {
                out.push(' ');
            }
            _ => {}
        }
    }
    out.trim().to_string()
}

/// Every link destination in the Markdown, for validation at import.
pub(super) fn links(md: &str) -> Vec<String> {
    Parser::new_ext(md, CONTENT_OPTIONS)
        .filter_map(|e| match e {
            Event::Start(Tag::Link { dest_url, .. })
            | Event::Start(Tag::Image { dest_url, .. }) => Some(dest_url.to_string()),
            _ => None,
        })
        .collect()
}

/// The anchors of the `##` and `###` headings, as [`render_html`] gives them (without the
/// prefix), for checking links to a section.
pub(super) fn heading_ids(md: &str) -> HashSet<String> {
    with_heading_ids(Parser::new_ext(md, CONTENT_OPTIONS).collect())
        .into_iter()
        .filter_map(|e| match e {
            Event::Start(Tag::Heading {
                level: HeadingLevel::H2 | HeadingLevel::H3,
                id: Some(id),
                ..
            }) => Some(id.to_string()),
            _ => None,
        })
        .collect()
}

/// Lowercase, ASCII-folded slug of a heading, used as its anchor.
pub fn slug(text: &str) -> String {
    let mut s = String::new();
    for c in text.chars().flat_map(fold_char) {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
    }
    s.trim_end_matches('-').to_string()
}

fn fold_char(c: char) -> impl Iterator<Item = char> {
    let folded = match c {
        'à' | 'á' | 'â' | 'ä' | 'ã' | 'À' | 'Á' | 'Â' | 'Ä' | 'Ã' => 'a',
        'ç' | 'Ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => 'i',
        'ñ' | 'Ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'ö' | 'õ' | 'Ò' | 'Ó' | 'Ô' | 'Ö' | 'Õ' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => 'u',
        other => other,
    };
    std::iter::once(folded)
}

fn with_heading_ids(mut events: Vec<Event<'_>>) -> Vec<Event<'_>> {
    let mut seen = HashSet::new();
    for i in 0..events.len() {
        let Event::Start(Tag::Heading {
            level, id: None, ..
        }) = &events[i]
        else {
            continue;
        };
        if !matches!(level, HeadingLevel::H2 | HeadingLevel::H3) {
            continue;
        }
        let text: String = events[i + 1..]
            .iter()
            .take_while(|e| !matches!(e, Event::End(TagEnd::Heading(_))))
            .filter_map(|e| match e {
                Event::Text(t) | Event::Code(t) => Some(t.as_ref()),
                _ => None,
            })
            .collect();
        let mut anchor = slug(&text);
        let base = anchor.clone();
        let mut n = 2;
        while !seen.insert(anchor.clone()) {
            anchor = format!("{base}-{n}");
            n += 1;
        }
        if let Event::Start(Tag::Heading { id, .. }) = &mut events[i] {
            *id = Some(CowStr::from(anchor));
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_headings_with_prefixed_ids() {
        let html = render_html("## Lettres de créance\n\ntext\n\n## Lettres de créance\n");
        assert!(
            html.contains(r#"<h2 id="sec-lettres-de-creance">"#),
            "{html}"
        );
        assert!(
            html.contains(r#"<h2 id="sec-lettres-de-creance-2">"#),
            "{html}"
        );
    }

    #[test]
    fn a_heading_can_carry_a_stable_id() {
        let md = "## Les délais {#deadlines}\n\ntext\n\n### Autre\n";
        let html = render_html(md);
        assert!(
            html.contains(r#"<h2 id="sec-deadlines">Les délais</h2>"#),
            "{html}"
        );
        assert_eq!(
            heading_ids(md),
            HashSet::from(["deadlines".to_string(), "autre".to_string()])
        );
        assert_eq!(plain_text(md), "Les délais text Autre");
        // Attributes other than the id do not reach the page.
        let html = render_html("## T {#t .big onclick=x}\n");
        assert_eq!(html.trim(), r#"<h2 id="sec-t">T</h2>"#);
    }

    #[test]
    fn strips_scripts_handlers_and_dangerous_links() {
        let html = render_html(
            "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[a](javascript:alert(1)) <a href=\"https://x.org\" onclick=\"evil()\">b</a>\n\n<iframe src=\"https://x\"></iframe>",
        );
        for bad in [
            "<script",
            "onerror",
            "javascript:",
            "onclick",
            "<iframe",
            "<img",
        ] {
            assert!(!html.contains(bad), "`{bad}` survived in {html}");
        }
        assert!(html.contains(r#"href="https://x.org""#), "{html}");
    }

    #[test]
    fn keeps_internal_routes_and_tables() {
        let html = render_html("[m](#/manual/meetings)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert!(html.contains(r##"href="#/manual/meetings""##), "{html}");
        assert!(html.contains("<table>"), "{html}");
    }

    #[test]
    fn plain_text_drops_markup() {
        assert_eq!(
            plain_text("## Title\n\nSome **bold** [link](#/x).\n- one\n- two"),
            "Title Some bold link. one two"
        );
    }

    #[test]
    fn slugs_fold_accents() {
        assert_eq!(
            slug("Délégation & « credenciales »"),
            "delegation-credenciales"
        );
    }
}
