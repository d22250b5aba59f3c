//! Answer paths in words: what a person sees instead of `general/contacts[2]/email` —
//! "General information › Contacts (row 2) › E-mail" in their language. Used wherever a path
//! would otherwise reach the screen: errors, refusals, conflicts.

use stopover_forms::{Form, Question};

/// Separator between the section, groups, rows and the question.
const SEP: &str = " › ";

fn label_of(q: &Question, form: &Form, lang: &str) -> String {
    q.label
        .get(lang, form.settings.default_language.as_deref())
        .map(str::to_string)
        .filter(|l| !l.trim().is_empty())
        .unwrap_or_else(|| q.name.clone())
}

/// The labels along `path` in `lang`, from the section down to the question, with repeat rows
/// numbered. Segments the form does not know are left out; an unknown path gives its last name.
pub fn path_in_words(form: &Form, path: &str, lang: &str, row_word: &str) -> String {
    let mut parts = Vec::new();
    let mut children: &[Question] = &form.questions;
    for seg in path.split('/') {
        let (name, row) = match seg.split_once('[') {
            Some((name, rest)) => (name, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (seg, None),
        };
        let Some(q) = children.iter().find(|q| q.name == name) else {
            let base = name.strip_suffix("_other").unwrap_or(name);
            if let Some(q) = children.iter().find(|q| q.name == base) {
                parts.push(label_of(q, form, lang));
            } else if parts.is_empty() {
                parts.push(name.to_string());
            }
            break;
        };
        let mut label = label_of(q, form, lang);
        if let Some(n) = row {
            label.push_str(&format!(" ({row_word} {n})"));
        }
        parts.push(label);
        children = &q.children;
    }
    parts.join(SEP)
}

/// The word for a repeat's row in the app's languages.
pub fn row_word(lang: &str) -> &'static str {
    match lang {
        "fr" => "ligne",
        "es" => "fila",
        _ => "row",
    }
}

/// [`path_in_words`] in `lang`.
pub fn describe(form: &Form, path: &str, lang: &str) -> String {
    path_in_words(form, path, lang, row_word(lang))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORM: &str = "\
[survey]
type | name | label::English (en) | label::Français (fr)
begin group | general | General information | Informations générales
begin repeat | contacts | Contacts | Contacts
text | email | E-mail | Courriel
end repeat | | |
text | agency | Agency | Organisme
end group | | |

[settings]
form_id | version | default_language
demo | 1 | English (en)
";

    #[test]
    fn paths_read_as_labels_in_the_language_with_rows_numbered() {
        let form = stopover_forms::load_text(FORM).unwrap();
        assert_eq!(
            describe(&form, "general/contacts[2]/email", "fr"),
            "Informations générales › Contacts (ligne 2) › Courriel"
        );
        assert_eq!(
            describe(&form, "general/agency", "en"),
            "General information › Agency"
        );
        assert_eq!(describe(&form, "general", "en"), "General information");
        assert_eq!(describe(&form, "nowhere/x", "en"), "nowhere");
    }
}
