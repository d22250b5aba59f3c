//! Property tests of [`super::wrap`]: for any text (long words, Latin, Cyrillic and Turkish
//! letters, runs of spaces, typed line breaks), at any width, lines stay within the width
//! unless a single character is wider than it, no word is dropped, reordered or cut unless it
//! is wider than a line, and no line is blank unless the text has a blank line there.

use proptest::prelude::*;

use super::fonts::Font;
use super::wrap;

/// Letters the PDF font has, from several scripts, and punctuation that sits inside words.
const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzAMWZ0189ŁódźКыргызстанğşİıéàçñœ’–«»….,;:?!()/";

/// One piece of typed text: a word, a word wider than most lines (a URL), spaces, a line break.
fn piece() -> impl Strategy<Value = String> {
    let letters: Vec<char> = LETTERS.chars().collect();
    let letter = prop::sample::select(letters);
    prop_oneof![
        6 => prop::collection::vec(letter.clone(), 1..12).prop_map(String::from_iter),
        1 => prop::collection::vec(letter, 20..80).prop_map(String::from_iter),
        4 => (1usize..4).prop_map(|n| " ".repeat(n)),
        1 => Just("\n".to_string()),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..40).prop_map(|pieces| pieces.concat())
}

/// Widths are summed letter by letter in `wrap` and over the whole line here.
const SLACK: f32 = 1e-3;

/// For each line, the typed word its first piece belongs to (`None` for a line that starts
/// inside a word or holds none): a word cut across lines counts whole.
fn words_starting_lines<'a>(paragraph: &'a str, lines: &[String]) -> Vec<Option<&'a str>> {
    let mut starts = vec![None; lines.len()];
    let mut pieces = lines.iter().enumerate().flat_map(|(i, l)| {
        l.split(' ')
            .filter(|p| !p.is_empty())
            .enumerate()
            .map(move |(n, p)| (i, n == 0, p.len()))
    });
    for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
        let mut got = 0;
        let mut first = true;
        while got < word.len() {
            let Some((line, starts_line, len)) = pieces.next() else {
                return starts;
            };
            if starts_line && first {
                starts[line] = Some(word);
            }
            first = false;
            got += len;
        }
    }
    starts
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn wrapped_lines_fit_keep_every_word_and_add_no_blank_line(
        text in text(),
        bold in any::<bool>(),
        size in 6.0f32..14.0,
        max in 4.0f32..300.0,
    ) {
        let font = if bold { Font::Bold } else { Font::Regular };
        let lines = wrap(&text, font, size, max);
        let space = font.width(" ", size);

        // typed line breaks are kept, and no line runs across one
        let mut by_paragraph = Vec::new();
        for paragraph in text.split('\n') {
            by_paragraph.push((paragraph, wrap(paragraph, font, size, max)));
        }
        let rejoined: Vec<String> = by_paragraph.iter().flat_map(|(_, l)| l.clone()).collect();
        prop_assert_eq!(&lines, &rejoined);

        for (paragraph, lines) in &by_paragraph {
            prop_assert!(!lines.is_empty(), "a typed line gives at least one line");
            let starts = words_starting_lines(paragraph, lines);
            for (i, line) in lines.iter().enumerate() {
                let w = font.width(line, size);
                // within the width, unless one character alone is wider than a line
                prop_assert!(
                    w <= max + SLACK || line.chars().count() == 1,
                    "line {} {:?} is {} pt wide, more than {}", i, line, w, max
                );
                // no blank line where the text has words
                if !paragraph.trim().is_empty() {
                    prop_assert!(
                        !line.trim().is_empty(),
                        "blank line {} in {:?}: {:?}", i, paragraph, lines
                    );
                }
                // a line does not start with the spaces of a break
                if i > 0 {
                    prop_assert!(!line.starts_with(' '), "line {} {:?} starts with a space", i, line);
                }
                // greedy: the next line's first word did not fit at the end of this one (a
                // word wider than a line starts a line of its own, then is cut)
                if let Some(Some(first)) = starts.get(i + 1) {
                    let first_w = font.width(first, size);
                    if first_w <= max {
                        prop_assert!(
                            w + space + first_w > max - SLACK,
                            "{:?} would have fitted after {:?}", first, line
                        );
                    }
                }
            }

            // the words, in order: each whole on one line, or cut only when wider than a line,
            // its pieces following each other across lines
            let mut out = lines.iter().flat_map(|l| l.split(' ')).filter(|w| !w.is_empty());
            for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
                let mut got = String::new();
                while got.len() < word.len() {
                    let Some(piece) = out.next() else {
                        return Err(TestCaseError::fail(format!("{word:?} is missing from {lines:?}")));
                    };
                    got.push_str(piece);
                    if got != word {
                        prop_assert!(
                            font.width(word, size) > max,
                            "{:?} was cut though it fits a line ({:?})", word, lines
                        );
                    }
                }
                prop_assert_eq!(&got, word, "words out of order in {:?}", lines);
            }
            prop_assert_eq!(out.next(), None, "a word that was not typed");
        }
    }
}
