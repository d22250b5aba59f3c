//! Hostile text in posts, through the real pull path and the real composer: script tags,
//! event-handler attributes, `javascript:` links, SVG and iframe payloads, malformed
//! Markdown, very long lines, right-to-left overrides. The HTML a thread shows holds none of
//! the active content, loads nothing by itself, and still renders each post's words.

mod forum_feed;

use forum_feed::*;
use stopover_core::forum;

/// (Markdown body, a word of it the reader must still see)
const CORPUS: &[(&str, &str)] = &[
    (
        "<script>alert('xss')</script> visible-script",
        "visible-script",
    ),
    (
        "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>upper-script",
        "upper-script",
    ),
    (
        "<scr<script>ipt>alert(1)</script> split-script",
        "split-script",
    ),
    ("<img src=x onerror=alert(1)> after-img", "after-img"),
    (
        "<a href=\"https://ok.example\" onclick=\"steal()\" onmouseover=\"x()\">handler-link</a>",
        "handler-link",
    ),
    (
        "<p onload=alert(1) style=\"position:fixed;top:0\">styled-para</p>",
        "styled-para",
    ),
    ("[js-link](javascript:alert(document.cookie))", "js-link"),
    ("[js-entity](jav&#x09;ascript:alert(1))", "js-entity"),
    (
        "<a href=\"JaVaScRiPt:alert(1)\">mixed-case</a>",
        "mixed-case",
    ),
    (
        "[data-link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "data-link",
    ),
    ("[vb](vbscript:msgbox(1)) vb-link", "vb-link"),
    (
        "<svg onload=alert(1)><script>alert(2)</script></svg> svg-payload",
        "svg-payload",
    ),
    // Foreign content (SVG, MathML) is dropped whole; the text after it stays.
    (
        "<svg><a xlink:href=\"javascript:alert(1)\"><text>svg-text</text></a></svg> svg-after",
        "svg-after",
    ),
    (
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>\n\nmath-after",
        "math-after",
    ),
    (
        "<iframe src=\"https://evil.example\"></iframe> iframe-payload",
        "iframe-payload",
    ),
    (
        "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe> srcdoc-payload",
        "srcdoc-payload",
    ),
    (
        "<object data=\"https://evil.example/x.swf\"></object><embed src=x> embed-payload",
        "embed-payload",
    ),
    (
        "<form action=https://evil.example><input name=p><button formaction=javascript:alert(1)>form-payload</button></form>",
        "form-payload",
    ),
    (
        "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\"> meta-refresh",
        "meta-refresh",
    ),
    (
        "<link rel=stylesheet href=https://evil.example/x.css> link-tag",
        "link-tag",
    ),
    ("<style>body{display:none}</style> style-tag", "style-tag"),
    ("<base href=\"https://evil.example/\"> base-tag", "base-tag"),
    (
        "![tracking pixel](https://tracker.example/p.gif?u=nfp) image-md",
        "image-md",
    ),
    (
        "<img src=\"https://tracker.example/p.gif\"> raw-img",
        "raw-img",
    ),
    (
        "<video src=https://evil.example/v.mp4 autoplay></video><audio src=x autoplay></audio> media-payload",
        "media-payload",
    ),
    (
        "**unclosed bold and [unclosed link( and <b><i>nested unclosed malformed-md",
        "malformed-md",
    ),
    (
        "```\n<script>alert('in code')</script>\n``` code-block",
        "code-block",
    ),
    (
        "> quote\n>> deeper <div><div><div> deep-nesting",
        "deep-nesting",
    ),
    (
        "<!-- <script>alert(1)</script> --> comment-payload",
        "comment-payload",
    ),
    ("<a href=\"#/settings\">in-app-route</a>", "in-app-route"),
    (
        "\u{202E}txet desrever\u{202C} rtl-override \u{2067}isolate",
        "rtl-override",
    ),
    ("<bdo dir=\"rtl\">bdo-reversed</bdo>", "bdo-reversed"),
    (
        "<div dir=\"rtl\" class=\"app-shell\" id=\"nav-forum\">dir-class-id</div>",
        "dir-class-id",
    ),
];

/// Tag names that must never appear.
const ACTIVE_TAGS: &[&str] = &[
    "script", "iframe", "frame", "frameset", "svg", "math", "img", "object", "embed", "form",
    "input", "button", "meta", "link", "style", "base", "video", "audio", "source", "bdo",
    "textarea", "select", "template", "applet",
];

/// Every tag and its attributes `(name, value)` in `html`, read quotes-aware.
fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    let bytes: Vec<char> = html.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != '<' {
            i += 1;
            continue;
        }
        i += 1;
        if i < bytes.len() && (bytes[i] == '/' || bytes[i] == '!') {
            i += 1;
        }
        let mut name = String::new();
        while i < bytes.len() && !bytes[i].is_whitespace() && bytes[i] != '>' && bytes[i] != '/' {
            name.push(bytes[i].to_ascii_lowercase());
            i += 1;
        }
        let mut attrs = Vec::new();
        loop {
            while i < bytes.len() && (bytes[i].is_whitespace() || bytes[i] == '/') {
                i += 1;
            }
            if i >= bytes.len() || bytes[i] == '>' {
                i += 1;
                break;
            }
            let mut attr = String::new();
            while i < bytes.len() && !bytes[i].is_whitespace() && !matches!(bytes[i], '=' | '>') {
                attr.push(bytes[i].to_ascii_lowercase());
                i += 1;
            }
            let mut value = String::new();
            if i < bytes.len() && bytes[i] == '=' {
                i += 1;
                let quote = bytes.get(i).copied().filter(|c| *c == '"' || *c == '\'');
                if let Some(q) = quote {
                    i += 1;
                    while i < bytes.len() && bytes[i] != q {
                        value.push(bytes[i]);
                        i += 1;
                    }
                    i += 1;
                } else {
                    while i < bytes.len() && !bytes[i].is_whitespace() && bytes[i] != '>' {
                        value.push(bytes[i]);
                        i += 1;
                    }
                }
            }
            attrs.push((attr, value));
        }
        out.push((name, attrs));
    }
    out
}

/// Everything wrong with one post's HTML.
fn problems(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (tag, attrs) in tags(html) {
        if ACTIVE_TAGS.contains(&tag.as_str()) {
            found.push(format!("tag <{tag}>"));
        }
        for (attr, value) in attrs {
            let bad_attr = attr.starts_with("on")
                || matches!(
                    attr.as_str(),
                    "style"
                        | "src"
                        | "srcdoc"
                        | "srcset"
                        | "formaction"
                        | "action"
                        | "xlink:href"
                        | "background"
                        | "poster"
                        | "dir"
                        | "id"
                        | "class"
                );
            if bad_attr {
                found.push(format!("attribute {attr}=\"{value}\" on <{tag}>"));
            }
            if attr == "href" {
                let v = value.trim().to_ascii_lowercase();
                if !(v.starts_with("https://")
                    || v.starts_with("http://")
                    || v.starts_with("mailto:"))
                {
                    found.push(format!("link to `{value}`"));
                }
            }
        }
        if tag == "a" {
            // Every link is marked for the app's "open in the browser?" prompt.
            if !html.contains("data-external=\"true\"")
                || !html.contains("rel=\"noopener noreferrer nofollow\"")
            {
                found.push("a link without data-external and rel".into());
            }
        }
    }
    for needle in [
        "javascript:",
        "vbscript:",
        "data:text",
        "\u{202E}",
        "\u{2067}",
    ] {
        if html.to_ascii_lowercase().contains(needle) {
            found.push(format!("`{}` in the text", needle.escape_unicode()));
        }
    }
    found
}

fn check_thread(core: &stopover_core::Core, thread: &str, expected: &[(&str, &str)]) {
    let view = forum::thread(core, thread).unwrap();
    assert_eq!(view.posts.len(), expected.len());
    let mut failures = Vec::new();
    for (post, (body, word)) in view.posts.iter().zip(expected) {
        let p = problems(&post.body_html);
        if !p.is_empty() {
            failures.push(format!(
                "{body:?}\n  → {}\n  problems: {p:?}",
                post.body_html
            ));
        }
        if !post.body_html.contains(word) {
            failures.push(format!(
                "{body:?}\n  → {}\n  lost the text `{word}`",
                post.body_html
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_checker_itself_catches_active_content() {
    // The checks below would be worthless if they could not fail.
    assert!(!problems("<p><script>x</script></p>").is_empty());
    assert!(!problems(r#"<a href="javascript:x" rel="noopener noreferrer nofollow" data-external="true">a</a>"#).is_empty());
    assert!(!problems(r#"<p onclick='x'>a</p>"#).is_empty());
    assert!(!problems("<p>\u{202E}x</p>").is_empty());
    assert!(problems(r#"<p><a href="https://x.org" rel="noopener noreferrer nofollow" data-external="true">ok</a></p>"#).is_empty());
}

#[test]
fn hostile_posts_pulled_from_the_server_render_inert() {
    let (_d, core) = open();
    signed_in_as(&core, "amina");
    let mut feed = Feed::default();
    feed.category("general", "General", None, 1);
    let thread = uuid();
    let title = "<script>alert(1)</script>\u{202E}eltit";
    for (i, (body, _)) in CORPUS.iter().enumerate() {
        let id = if i == 0 { thread.clone() } else { uuid() };
        feed.post(
            &id,
            &thread,
            "general",
            (i == 0).then_some(title),
            body,
            "mallory",
            &format!("2025-01-01T00:{:02}:00Z", i),
        );
    }
    feed.pull(&core);
    check_thread(&core, &thread, CORPUS);
    let view = forum::thread(&core, &thread).unwrap();
    // Titles are text for the UI to escape; they lose only their direction overrides.
    assert_eq!(view.title, "<script>alert(1)</script>eltit");
    assert_eq!(
        forum::threads(&core, "general").unwrap()[0].title,
        view.title
    );
}

#[test]
fn hostile_posts_composed_here_render_inert_too() {
    let (_d, core) = open();
    signed_in_as(&core, "amina");
    let mut feed = Feed::default();
    feed.category("general", "General", None, 1);
    feed.pull(&core);
    let first = forum::new_thread(&core, "general", "Corpus", CORPUS[0].0).unwrap();
    for (body, _) in &CORPUS[1..] {
        let p = forum::reply(&core, &first.id, body).unwrap();
        assert!(
            problems(&p.body_html).is_empty(),
            "{body:?} → {}",
            p.body_html
        );
    }
    check_thread(&core, &first.id, CORPUS);
}

#[test]
fn very_long_lines_and_deep_nesting_still_render() {
    let (_d, core) = open();
    signed_in_as(&core, "amina");
    let mut feed = Feed::default();
    feed.category("general", "General", None, 1);
    let thread = uuid();
    let long_word = format!("{}end-of-long-word", "x".repeat(19_000));
    let nested = format!("{}deep-quote", "> ".repeat(200));
    let brackets = format!("{}brackets", "[".repeat(5_000));
    feed.post(
        &thread,
        &thread,
        "general",
        Some("Long"),
        &long_word,
        "mallory",
        "2025-01-01T00:00:00Z",
    );
    for (i, body) in [&nested, &brackets].iter().enumerate() {
        feed.post(
            &uuid(),
            &thread,
            "general",
            None,
            body,
            "mallory",
            &format!("2025-01-01T01:0{i}:00Z"),
        );
    }
    feed.pull(&core);
    let started = std::time::Instant::now();
    check_thread(
        &core,
        &thread,
        &[
            (long_word.as_str(), "end-of-long-word"),
            (nested.as_str(), "deep-quote"),
            (brackets.as_str(), "brackets"),
        ],
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "rendering hostile shapes must not hang: {:?}",
        started.elapsed()
    );
}
