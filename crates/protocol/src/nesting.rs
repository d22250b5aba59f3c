//! How deeply a post's Markdown nests its block quotes and lists, counted line by line in
//! linear time without parsing: the server refuses a post deeper than [`MAX_POST_NESTING`]
//! (a post of thousands of nested `>` took a second to render and made its thread thousands
//! of pixels wide), and the client's renderer flattens anything deeper it still receives.
//!
//! The count follows CommonMark's container rules closely enough for that purpose: every
//! `>` marker and list marker opening a line counts one level, and a line indented under a
//! list item is inside it. Fenced and indented code and thematic breaks count nothing.

/// Deepest nesting of block quotes and lists in a post. E-mail style quoting rarely passes
/// five levels; nothing a person writes needs sixteen.
pub const MAX_POST_NESTING: usize = 16;

/// Width of leading spaces and tabs (a tab to the next multiple of 4), and the byte offset
/// where they end.
fn indent(s: &str) -> (usize, usize) {
    let mut width = 0;
    for (i, b) in s.bytes().enumerate() {
        match b {
            b' ' => width += 1,
            b'\t' => width += 4 - width % 4,
            _ => return (width, i),
        }
    }
    (width, s.len())
}

/// The width of a list marker at the start of `s` (`-`, `*`, `+`, or up to nine digits with
/// `.` or `)`), when it is followed by a space, a tab or the end of the line.
fn list_marker(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let width = match bytes.first()? {
        b'-' | b'*' | b'+' => 1,
        b'0'..=b'9' => {
            let digits = bytes
                .iter()
                .take(10)
                .take_while(|b| b.is_ascii_digit())
                .count();
            match bytes.get(digits) {
                Some(b'.' | b')') if digits <= 9 => digits + 1,
                _ => return None,
            }
        }
        _ => return None,
    };
    match bytes.get(width) {
        None | Some(b' ' | b'\t') => Some(width),
        _ => None,
    }
}

/// `- - -`, `***`, `_ _ _`: a line of three or more of one of `-*_` and blanks.
fn is_thematic_break(s: &str) -> bool {
    let t = s.trim();
    let Some(first) = t.chars().next().filter(|c| matches!(c, '-' | '*' | '_')) else {
        return false;
    };
    t.chars().all(|c| c == first || c == ' ' || c == '\t') && t.matches(first).count() >= 3
}

fn is_fence(s: &str) -> bool {
    s.starts_with("```") || s.starts_with("~~~")
}

/// The deepest nesting of block quotes and lists in `text`.
pub fn markdown_nesting(text: &str) -> usize {
    // Open list items, as the column (in the line as written, `>` markers included) where
    // each item's text starts: a later line indented that far is inside it.
    let mut items: Vec<usize> = Vec::new();
    let mut in_fence = false;
    let mut deepest = 0;
    for line in text.lines() {
        // The container markers opening the line, `>` and list markers in any order.
        let mut rest = line;
        let mut column = 0;
        // Where the line's first list marker, or else its text, stands: open items it is
        // not indented under are closed.
        let mut first: Option<usize> = None;
        let mut markers = 0;
        let mut after_quote = false;
        let mut opened: Vec<usize> = Vec::new();
        loop {
            let (width, at) = indent(rest);
            let here = column + width;
            let after_indent = &rest[at..];
            // Indented code (four columns past where its container's text starts) holds no
            // containers.
            let code_at = if markers == 0 {
                items.last().copied().unwrap_or(0) + 4
            } else if after_quote {
                column + 5
            } else {
                usize::MAX
            };
            if here >= code_at {
                column = here;
                rest = after_indent;
                break;
            }
            if let Some(after) = after_indent.strip_prefix('>') {
                markers += 1;
                after_quote = true;
                column = here + 1;
                rest = after;
            } else if let Some(w) =
                list_marker(after_indent).filter(|_| !is_thematic_break(after_indent))
            {
                first.get_or_insert(here);
                markers += 1;
                after_quote = false;
                let after = &after_indent[w..];
                let (gap, skip) = indent(after);
                if skip == after.len() || gap > 4 {
                    // Empty item, or indented code in it: its text starts one column on.
                    opened.push(here + w + 1);
                    column = here + w;
                    rest = after;
                } else {
                    column = here + w + gap;
                    opened.push(column);
                    rest = &after[skip..];
                }
            } else {
                column = here;
                rest = after_indent;
                break;
            }
        }
        if rest.is_empty() && markers == 0 {
            continue; // a blank line closes nothing yet
        }
        if in_fence {
            if is_fence(rest) {
                in_fence = false;
            }
            continue;
        }
        let position = first.unwrap_or(column);
        while items.last().is_some_and(|&content| content > position) {
            items.pop();
        }
        if markers == 0
            && (column >= items.last().copied().unwrap_or(0) + 4 || is_thematic_break(rest))
        {
            continue; // indented code, or a rule
        }
        if is_fence(rest) {
            in_fence = true;
        }
        deepest = deepest.max(items.len() + markers);
        items.extend(opened);
        // A bomb: only whether it passes the limit matters, and it is far past it.
        if deepest > 100 * MAX_POST_NESTING {
            return deepest;
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_quotes_and_lists() {
        assert_eq!(markdown_nesting("Just text.\n\nMore."), 0);
        assert_eq!(markdown_nesting("> quoted"), 1);
        assert_eq!(markdown_nesting("> > > three"), 3);
        assert_eq!(markdown_nesting(">>>>"), 4);
        assert_eq!(markdown_nesting("- a\n- b"), 1);
        assert_eq!(markdown_nesting("- a\n  - b\n    - c\n- d"), 3);
        assert_eq!(markdown_nesting("1. one\n   1. nested"), 2);
        assert_eq!(markdown_nesting("- * + x"), 3);
        assert_eq!(markdown_nesting("> - > - x"), 4);
        assert_eq!(markdown_nesting("> - a\n>   - b"), 3);
        assert_eq!(markdown_nesting("- a\n\n  > quoted in the item"), 2);
    }

    #[test]
    fn code_and_rules_count_nothing() {
        assert_eq!(markdown_nesting("```\n> > > > >\n```\n"), 0);
        assert_eq!(markdown_nesting("    > > > > > indented code"), 0);
        assert_eq!(markdown_nesting("---\n* * *\n_ _ _"), 0);
        assert_eq!(markdown_nesting("2024. A year."), 1);
        assert_eq!(markdown_nesting("1234567890. Not a list."), 0);
        assert_eq!(markdown_nesting("-not a list"), 0);
    }

    #[test]
    fn bombs_are_measured_in_linear_time() {
        let quotes = ">".repeat(8_000);
        assert!(markdown_nesting(&quotes) > MAX_POST_NESTING);
        let lists: String = (0..200)
            .map(|i| format!("{}- x\n", "  ".repeat(i)))
            .collect();
        assert!(markdown_nesting(&lists) > MAX_POST_NESTING);
        let mixed = "> - ".repeat(2_000);
        assert!(markdown_nesting(&mixed) > MAX_POST_NESTING);
        let started = std::time::Instant::now();
        let huge = ">".repeat(1_000_000);
        markdown_nesting(&huge);
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }
}
