//! National reports on the wire: the record kinds that carry a country's report (answers,
//! section assignments, the submission receipt) and the submission request.
//!
//! A report is shared by the accounts of one country: its entity id is `<form-id>/<cycle>`
//! (`cms-national-report/COP15`) and every answer path is a field of it, so two colleagues'
//! edits of different answers both apply, and two edits of one answer become a conflict.
//!
//! | method & path                  | body → answer                                  | who            |
//! |--------------------------------|------------------------------------------------|----------------|
//! | `POST /v1/reports/submissions` | [`SubmitReport`] → 201 [`SubmissionReceipt`]   | the country's NFP for the form's instrument |

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Longest answer path, in bytes.
pub const MAX_ANSWER_PATH: usize = 512;

/// The entity id of a country's report of form `form_id` for `cycle`.
pub fn report_entity_id(form_id: &str, cycle: &str) -> String {
    format!("{form_id}/{cycle}")
}

/// A reporting cycle as it appears in entity ids: 1–32 ASCII letters, digits or `-`
/// (`COP15`, `MOP9`, `2027`).
pub fn is_cycle(s: &str) -> bool {
    !s.is_empty() && s.len() <= 32 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// A form id: a lowercase slug (the form's file name in the content pack).
pub fn is_form_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Splits a report entity id into form id and cycle, or says why it is not one.
pub fn parse_report_entity_id(id: &str) -> Result<(&str, &str), String> {
    match id.split_once('/') {
        Some((form, cycle)) if is_form_id(form) && is_cycle(cycle) => Ok((form, cycle)),
        _ => Err(format!(
            "report id `{id}` must be `<form-id>/<cycle>`, e.g. `cms-national-report/COP15`"
        )),
    }
}

/// An XLSForm name: a letter or `_`, then letters, digits, `_`, `-` or `.`.
pub fn is_question_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// An answer path: names separated by `/`, each optionally followed by a 1-based row number
/// (`appendix_i/app1_species[2]/app1_sp_trend`), one spelling per row (`[2]`, never `[02]`).
pub fn is_answer_path(path: &str) -> bool {
    path.len() <= MAX_ANSWER_PATH
        && path.split('/').all(|seg| match seg.split_once('[') {
            None => is_question_name(seg),
            Some((name, rest)) => {
                is_question_name(name)
                    && rest.strip_suffix(']').is_some_and(|n| {
                        n.parse::<u32>().is_ok_and(|i| i >= 1 && i.to_string() == n)
                    })
            }
        })
}

/// `POST /v1/reports/submissions`: submit the country's report of `form_id` for `cycle`, as
/// the server holds it. `answers_sha256` is [`answers_digest`] of the answers the submitter
/// sees; the server refuses when its own copy differs (an edit still in flight), so what is
/// submitted is exactly what the submitter read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct SubmitReport {
    pub form_id: String,
    pub cycle: String,
    pub answers_sha256: String,
}

/// Proof of a submission. Also published in the change feed (record kind `report_submission`,
/// field `receipt`) so every device of the country sees the report as submitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct SubmissionReceipt {
    /// UUIDv7 made by the server.
    pub receipt_id: String,
    pub country: String,
    pub form_id: String,
    /// The form version the server checked the answers against.
    pub form_version: String,
    pub cycle: String,
    /// Username of the submitter.
    pub submitted_by: String,
    /// RFC 3339, UTC.
    pub submitted_at: String,
    /// [`answers_digest`] of every stored answer at submission.
    pub answers_sha256: String,
    /// How many answers were submitted (relevant, non-empty).
    pub answers_submitted: u32,
    /// The files the submitted answers name, each on the server with this SHA-256. Receipts
    /// from before attachments travelled have none.
    #[serde(default)]
    pub attachments: Vec<ReceiptAttachment>,
}

/// One file of a submitted report, as its receipt lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct ReceiptAttachment {
    /// The answer path of the `file` question.
    pub path: String,
    pub filename: String,
    /// 64 lowercase hex digits.
    pub sha256: String,
    /// Bytes.
    pub size: u64,
}

/// The answer of a `file` question: the file's name, a space, and `sha256:` with the SHA-256
/// of its bytes (`carte des sites.pdf sha256:9f86…`). The bytes travel as an attachment.
pub fn file_answer(filename: &str, sha256: &str) -> String {
    format!("{filename} sha256:{sha256}")
}

/// The file name and SHA-256 a `file` answer names, or `None` for any other value.
pub fn parse_file_answer(value: &str) -> Option<(&str, &str)> {
    let (name, sha) = value.rsplit_once(" sha256:")?;
    (!name.is_empty() && crate::files::is_sha256_hex(sha)).then_some((name, sha))
}

/// SHA-256 (hex) over answers as `(path, value)` pairs: sorted by path, each written as
/// `path NUL value NUL`. Both sides compute it over every stored answer, hidden ones and the
/// empty row markers of repeats included.
pub fn answers_digest<'a>(answers: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut pairs: Vec<(&str, &str)> = answers.into_iter().collect();
    pairs.sort_unstable();
    let mut h = Sha256::new();
    for (path, value) in pairs {
        h.update(path.as_bytes());
        h.update([0]);
        h.update(value.as_bytes());
        h.update([0]);
    }
    h.finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_ids_and_paths_have_one_spelling() {
        assert_eq!(
            parse_report_entity_id("cms-national-report/COP15"),
            Ok(("cms-national-report", "COP15"))
        );
        for bad in [
            "cms",
            "CMS/COP15",
            "cms/",
            "cms/COP 15",
            "cms/../x",
            "a/b/c",
        ] {
            assert!(parse_report_entity_id(bad).is_err(), "{bad}");
        }
        for good in ["a", "sec/q_1", "sec/sp[2]/trend", "_x.y-z", "sec/sp[12]"] {
            assert!(is_answer_path(good), "{good}");
        }
        for bad in [
            "", "/a", "a/", "a//b", "sp[0]", "sp[02]", "sp[x]", "1a", "a b", "sp[2]x", "a/../b",
        ] {
            assert!(!is_answer_path(bad), "{bad}");
        }
        assert!(!is_answer_path(&"a".repeat(MAX_ANSWER_PATH + 1)));
    }

    #[test]
    fn file_answers_name_the_file_and_its_hash() {
        let sha = "a".repeat(64);
        let value = file_answer("carte des sites.pdf", &sha);
        assert_eq!(
            parse_file_answer(&value),
            Some(("carte des sites.pdf", sha.as_str()))
        );
        assert_eq!(parse_file_answer("yes"), None);
        assert_eq!(parse_file_answer(&format!(" sha256:{sha}")), None);
        assert_eq!(parse_file_answer("x.pdf sha256:ABC"), None);
    }

    #[test]
    fn receipts_from_before_attachments_still_read() {
        let old = serde_json::json!({
            "receipt_id": "r", "country": "KE", "form_id": "f", "form_version": "1",
            "cycle": "COP15", "submitted_by": "amina", "submitted_at": "2026-01-01T00:00:00Z",
            "answers_sha256": "ab", "answers_submitted": 3
        });
        let receipt: SubmissionReceipt = serde_json::from_value(old).unwrap();
        assert!(receipt.attachments.is_empty());
    }

    #[test]
    fn digest_ignores_order_but_not_content() {
        let a = answers_digest([("b", "2"), ("a", "1")]);
        assert_eq!(a, answers_digest([("a", "1"), ("b", "2")]));
        assert_ne!(a, answers_digest([("a", "1"), ("b", "3")]));
        // The separators keep `ab`+`c` apart from `a`+`bc`.
        assert_ne!(answers_digest([("ab", "c")]), answers_digest([("a", "bc")]));
        assert_eq!(a.len(), 64);
    }
}
