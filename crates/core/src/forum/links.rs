//! Which addresses from a post may be handed to the system browser. One rule, used by the
//! command that opens them and mirrored by the UI (`ui/src/lib/openable.ts`), which offers
//! "Open" only for what this accepts: both are tested against `ui/src/lib/link-cases.json`.
//!
//! Invisible characters are refused: whitespace and control characters (a desktop launcher
//! could split the address into arguments) and Unicode format characters such as U+202E
//! RIGHT-TO-LEFT OVERRIDE or U+200B ZERO WIDTH SPACE (they make an address read as another).

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use crate::{Error, ErrorCode, Result};

/// Schemes the browser is handed (the post sanitizer lets through the same).
const OPENABLE: [&str; 3] = ["https://", "http://", "mailto:"];
/// Longest address opened.
pub const MAX_LINK_CHARS: usize = 4096;

/// A Unicode format character (general category Cf): invisible, and able to reorder or hide
/// the text around it.
pub fn is_format_char(c: char) -> bool {
    c.general_category() == GeneralCategory::Format
}

/// A character that must never be part of an address: whitespace, control or format.
pub fn is_hidden_char(c: char) -> bool {
    c.is_whitespace() || c.is_control() || is_format_char(c)
}

/// `url` as a browser shows it: `%XX` escapes decoded (invalid UTF-8 replaced).
fn percent_decoded(url: &str) -> String {
    let bytes = url.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|b| hex(*b)),
                bytes.get(i + 2).and_then(|b| hex(*b)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether an address holds a character that can disguise it: whitespace, control or format
/// characters as written, or control and format characters once `%XX` escapes are decoded
/// (a browser decodes them for display).
pub fn is_disguised_url(url: &str) -> bool {
    url.chars().any(is_hidden_char)
        || (url.contains('%')
            && percent_decoded(url)
                .chars()
                .any(|c| c.is_control() || is_format_char(c)))
}

/// `url` when the system browser may be handed it; otherwise why not, by code:
/// [`ErrorCode::LinkNotOpenable`] (not a web or e-mail address),
/// [`ErrorCode::LinkHiddenCharacters`], [`ErrorCode::LinkTooLong`].
pub fn openable_link(url: &str) -> Result<&str> {
    let shown: String = url
        .chars()
        .take(200)
        .map(|c| if is_hidden_char(c) { '\u{FFFD}' } else { c })
        .collect();
    if url.chars().count() > MAX_LINK_CHARS {
        return Err(Error::invalid(
            ErrorCode::LinkTooLong,
            format!("an address opened in the browser holds at most {MAX_LINK_CHARS} characters"),
        )
        .with("max", MAX_LINK_CHARS));
    }
    if is_disguised_url(url) {
        return Err(Error::invalid(
            ErrorCode::LinkHiddenCharacters,
            format!(
                "`{shown}` contains spaces or invisible characters that can disguise where it leads"
            ),
        )
        .with("address", shown));
    }
    let lower = url.to_ascii_lowercase();
    let scheme_ok = OPENABLE
        .iter()
        .any(|s| lower.starts_with(s) && url.len() > s.len());
    if !scheme_ok {
        return Err(Error::invalid(
            ErrorCode::LinkNotOpenable,
            format!(
                "only web (https, http) and e-mail (mailto) addresses open in the browser, not `{shown}`"
            ),
        )
        .with("address", shown));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_characters_are_recognised() {
        for c in [
            '\u{202E}',
            '\u{200B}',
            '\u{2066}',
            '\u{FEFF}',
            '\u{00AD}',
            '\u{E0041}',
        ] {
            assert!(is_format_char(c), "{:04X}", c as u32);
        }
        for c in ['a', 'é', '/', '\u{1F5BC}'] {
            assert!(!is_format_char(c), "{c}");
        }
    }

    #[test]
    fn each_refusal_says_why() {
        let code = |u: &str| openable_link(u).unwrap_err().code();
        assert_eq!(code("javascript:alert(1)"), ErrorCode::LinkNotOpenable);
        assert_eq!(
            code("https://example.org/\u{202E}fdp.exe"),
            ErrorCode::LinkHiddenCharacters
        );
        assert_eq!(code("https://x.org/a b"), ErrorCode::LinkHiddenCharacters);
        assert_eq!(
            code("https://x.org/%E2%80%AEexe.pdf"),
            ErrorCode::LinkHiddenCharacters
        );
        assert!(openable_link("https://x.org/a%20b%C3%A9").is_ok());
        let long = format!("https://x.org/{}", "a".repeat(MAX_LINK_CHARS));
        assert_eq!(code(&long), ErrorCode::LinkTooLong);
        assert_eq!(
            openable_link("https://www.cms.int/en").unwrap(),
            "https://www.cms.int/en"
        );
    }
}
