//! Reading and validating a content pack from its files.
//!
//! Validation is strict and specific: every problem names the file, the field and the reason,
//! so a pack author (or a user with a damaged install) knows exactly what is wrong.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{FALLBACK_LANGUAGE, LANGUAGES};

/// Regions a library item may be tagged with.
pub const REGIONS: [&str; 7] = [
    "global",
    "africa",
    "asia",
    "europe",
    "latin-america-caribbean",
    "oceania",
    "north-america",
];

/// What is wrong with a pack, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {reason}")]
pub struct PackError {
    /// Path inside the pack, e.g. `manual/fr/meetings.md`.
    pub file: String,
    pub reason: String,
}

impl PackError {
    fn new(file: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            reason: reason.into(),
        }
    }
}

/// The raw files of a pack: path inside the pack (with `/`) → bytes.
#[derive(Debug, Clone, Default)]
pub struct PackFiles(pub BTreeMap<String, Vec<u8>>);

static EMBEDDED: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/../../assets");

impl PackFiles {
    /// The pack built into this binary.
    pub fn embedded() -> Self {
        fn walk(dir: &include_dir::Dir<'static>, out: &mut BTreeMap<String, Vec<u8>>) {
            for file in dir.files() {
                out.insert(
                    file.path().to_string_lossy().replace('\\', "/"),
                    file.contents().to_vec(),
                );
            }
            for sub in dir.dirs() {
                walk(sub, out);
            }
        }
        let mut files = BTreeMap::new();
        walk(&EMBEDDED, &mut files);
        Self(files)
    }

    /// A pack unpacked in a folder on disk.
    pub fn from_dir(root: &Path) -> Result<Self, PackError> {
        fn walk(
            root: &Path,
            dir: &Path,
            out: &mut BTreeMap<String, Vec<u8>>,
        ) -> Result<(), PackError> {
            let entries = std::fs::read_dir(dir).map_err(|e| {
                PackError::new(
                    dir.display().to_string(),
                    format!("cannot read folder: {e}"),
                )
            })?;
            for entry in entries {
                let entry =
                    entry.map_err(|e| PackError::new(dir.display().to_string(), e.to_string()))?;
                let path = entry.path();
                if path.is_dir() {
                    walk(root, &path, out)?;
                } else {
                    let rel = path
                        .strip_prefix(root)
                        .unwrap_or(&path)
                        .to_string_lossy()
                        .replace('\\', "/");
                    let bytes = std::fs::read(&path)
                        .map_err(|e| PackError::new(&rel, format!("cannot read: {e}")))?;
                    out.insert(rel, bytes);
                }
            }
            Ok(())
        }
        if !root.is_dir() {
            return Err(PackError::new(
                root.display().to_string(),
                "the content pack folder does not exist",
            ));
        }
        let mut files = BTreeMap::new();
        walk(root, root, &mut files)?;
        Ok(Self(files))
    }

    /// SHA-256 over paths and contents: changes whenever any file does.
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        for (path, bytes) in &self.0 {
            h.update((path.len() as u64).to_le_bytes());
            h.update(path.as_bytes());
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub id: String,
    pub version: String,
    pub languages: Vec<String>,
}

/// Title, summary and Markdown body of one item in one language.
#[derive(Debug, Clone)]
pub struct ItemText {
    pub title: String,
    pub summary: String,
    pub body_md: String,
}

#[derive(Debug, Clone)]
pub struct ManualModule {
    pub id: String,
    pub order: i64,
    pub texts: BTreeMap<String, ItemText>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecklistStep {
    pub id: String,
    pub text: String,
    #[serde(default)]
    pub detail: String,
}

#[derive(Debug, Clone)]
pub struct ChecklistText {
    pub title: String,
    pub summary: String,
    pub steps: Vec<ChecklistStep>,
}

#[derive(Debug, Clone)]
pub struct Checklist {
    pub id: String,
    pub order: i64,
    pub texts: BTreeMap<String, ChecklistText>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LibraryKind {
    Funding,
    Training,
    Practice,
    Faq,
}

impl LibraryKind {
    fn rank(self) -> i64 {
        self as i64
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LibraryMeta {
    pub kind: LibraryKind,
    pub regions: Vec<String>,
    pub instruments: Vec<String>,
    pub date: Option<String>,
    pub deadline: Option<String>,
    pub languages: Vec<String>,
    pub url: Option<String>,
}

/// A report form (XLSForm, plain-text sheets), validated by stopover-forms at parse time.
#[derive(Debug, Clone)]
pub struct ReportForm {
    pub id: String,
    pub version: String,
    /// Title in the form's default language.
    pub title: String,
    pub source: String,
    /// The CSV files published with the form (`forms/<id>/<file>.csv`), by file name.
    pub files: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct LibraryItem {
    pub id: String,
    pub meta: LibraryMeta,
    pub texts: BTreeMap<String, ItemText>,
}

impl LibraryItem {
    /// Sort key in lists: by kind, then date (newest last is fine for deadlines), then id.
    pub fn order(&self) -> i64 {
        self.meta.kind.rank()
    }
}

/// A parsed and validated pack.
#[derive(Debug, Clone)]
pub struct Pack {
    pub manifest: Manifest,
    pub hash: String,
    pub manual: Vec<ManualModule>,
    pub checklists: Vec<Checklist>,
    pub library: Vec<LibraryItem>,
    pub forms: Vec<ReportForm>,
}

// --- front matter shapes ---------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManualFront {
    title: String,
    summary: String,
    order: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChecklistFile {
    title: String,
    summary: String,
    order: Option<i64>,
    items: Vec<ChecklistStep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LibraryFront {
    title: String,
    summary: String,
    kind: Option<LibraryKind>,
    regions: Option<Vec<String>>,
    instruments: Option<Vec<String>>,
    date: Option<String>,
    deadline: Option<String>,
    languages: Option<Vec<String>>,
    url: Option<String>,
}

impl LibraryFront {
    fn has_metadata(&self) -> bool {
        self.kind.is_some()
            || self.regions.is_some()
            || self.instruments.is_some()
            || self.date.is_some()
            || self.deadline.is_some()
            || self.languages.is_some()
            || self.url.is_some()
    }
}

// --- parsing ------------------------------------------------------------------------------

impl Pack {
    pub fn parse(files: &PackFiles) -> Result<Pack, PackError> {
        let manifest_bytes = files.0.get("manifest.toml").ok_or_else(|| {
            PackError::new(
                "manifest.toml",
                "missing: this is not a complete content pack",
            )
        })?;
        let manifest: Manifest = toml::from_str(utf8("manifest.toml", manifest_bytes)?)
            .map_err(|e| PackError::new("manifest.toml", toml_reason(&e)))?;
        if manifest.version.trim().is_empty() {
            return Err(PackError::new("manifest.toml", "field `version` is empty"));
        }

        let mut manual: BTreeMap<String, ManualModule> = BTreeMap::new();
        let mut manual_translations = Vec::new();
        let mut checklists: BTreeMap<String, Checklist> = BTreeMap::new();
        let mut checklist_translations = Vec::new();
        let mut library: BTreeMap<String, LibraryItem> = BTreeMap::new();
        let mut library_translations = Vec::new();
        let mut forms = Vec::new();
        // files attached to report forms: form id → file name → text
        let mut form_files: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for (path, bytes) in &files.0 {
            if let ["forms", id, file] = path.split('/').collect::<Vec<_>>().as_slice() {
                if !file.to_ascii_lowercase().ends_with(".csv") {
                    return Err(PackError::new(
                        path,
                        "a report form carries CSV files only (forms/<form-id>/<file>.csv)",
                    ));
                }
                let text = utf8(path, bytes)?;
                form_files
                    .entry(id.to_string())
                    .or_default()
                    .insert(file.to_string(), text.to_string());
            }
        }

        for (path, bytes) in &files.0 {
            let parts: Vec<&str> = path.split('/').collect();
            let (section, lang, file) = match parts.as_slice() {
                ["manifest.toml"] | ["README.md"] => continue,
                ["forms", file] => {
                    let id = item_id(path, file, ".txt")?;
                    let attached = form_files.remove(&id).unwrap_or_default();
                    forms.push(report_form(path, utf8(path, bytes)?, id, attached)?);
                    continue;
                }
                ["forms", _, _] => continue, // attached to a form, read above
                [section, lang, file] => (*section, *lang, *file),
                _ => {
                    return Err(PackError::new(
                        path,
                        "unexpected file: content lives in manual/, checklists/ or library/<lang>/",
                    ));
                }
            };
            if !LANGUAGES.contains(&lang) {
                return Err(PackError::new(
                    path,
                    format!("unknown language folder `{lang}` (expected en, fr or es)"),
                ));
            }
            let is_en = lang == FALLBACK_LANGUAGE;
            let text = utf8(path, bytes)?;
            match section {
                "manual" => {
                    let id = item_id(path, file, ".md")?;
                    let (front, body): (ManualFront, _) = front_matter(path, text)?;
                    check_text(path, &front.title, &front.summary)?;
                    let item = ItemText {
                        title: front.title,
                        summary: front.summary,
                        body_md: body.to_string(),
                    };
                    match english_order(path, is_en, front.order)? {
                        Some(order) => {
                            manual.insert(
                                id.clone(),
                                ManualModule {
                                    id,
                                    order,
                                    texts: BTreeMap::from([(lang.to_string(), item)]),
                                },
                            );
                        }
                        None => {
                            manual_translations.push((path.clone(), id, lang.to_string(), item))
                        }
                    }
                }
                "checklists" => {
                    let id = item_id(path, file, ".toml")?;
                    let parsed: ChecklistFile =
                        toml::from_str(text).map_err(|e| PackError::new(path, toml_reason(&e)))?;
                    check_text(path, &parsed.title, &parsed.summary)?;
                    check_steps(path, &parsed.items)?;
                    let item = ChecklistText {
                        title: parsed.title,
                        summary: parsed.summary,
                        steps: parsed.items,
                    };
                    match english_order(path, is_en, parsed.order)? {
                        Some(order) => {
                            checklists.insert(
                                id.clone(),
                                Checklist {
                                    id,
                                    order,
                                    texts: BTreeMap::from([(lang.to_string(), item)]),
                                },
                            );
                        }
                        None => {
                            checklist_translations.push((path.clone(), id, lang.to_string(), item))
                        }
                    }
                }
                "library" => {
                    let id = item_id(path, file, ".md")?;
                    let (front, body): (LibraryFront, _) = front_matter(path, text)?;
                    check_text(path, &front.title, &front.summary)?;
                    if is_en {
                        let meta = library_meta(path, &front)?;
                        let item = ItemText {
                            title: front.title,
                            summary: front.summary,
                            body_md: body.to_string(),
                        };
                        library.insert(
                            id.clone(),
                            LibraryItem {
                                id,
                                meta,
                                texts: BTreeMap::from([(lang.to_string(), item)]),
                            },
                        );
                    } else {
                        if front.has_metadata() {
                            return Err(PackError::new(
                                path,
                                "metadata (kind, regions, instruments, dates, languages, url) belongs in the English file only",
                            ));
                        }
                        let item = ItemText {
                            title: front.title,
                            summary: front.summary,
                            body_md: body.to_string(),
                        };
                        library_translations.push((path.clone(), id, lang.to_string(), item));
                    }
                }
                other => {
                    return Err(PackError::new(
                        path,
                        format!(
                            "unknown section `{other}` (expected manual, checklists or library)"
                        ),
                    ));
                }
            }
        }

        if let Some((id, files)) = form_files.into_iter().next() {
            let file = files.keys().next().cloned().unwrap_or_default();
            return Err(PackError::new(
                format!("forms/{id}/{file}"),
                format!("no report form forms/{id}.txt to attach this file to"),
            ));
        }

        for (path, id, lang, item) in manual_translations {
            let module = manual
                .get_mut(&id)
                .ok_or_else(|| no_english(&path, "manual", &id))?;
            module.texts.insert(lang, item);
        }
        for (path, id, lang, item) in checklist_translations {
            let list = checklists
                .get_mut(&id)
                .ok_or_else(|| no_english(&path, "checklists", &id))?;
            let en_ids: BTreeSet<&str> = list.texts[FALLBACK_LANGUAGE]
                .steps
                .iter()
                .map(|s| s.id.as_str())
                .collect();
            if let Some(extra) = item.steps.iter().find(|s| !en_ids.contains(s.id.as_str())) {
                return Err(PackError::new(
                    &path,
                    format!(
                        "item `{}` does not exist in the English checklist",
                        extra.id
                    ),
                ));
            }
            list.texts.insert(lang, item);
        }
        for (path, id, lang, item) in library_translations {
            let entry = library
                .get_mut(&id)
                .ok_or_else(|| no_english(&path, "library", &id))?;
            entry.texts.insert(lang, item);
        }

        let mut pack = Pack {
            manifest,
            hash: files.hash(),
            manual: manual.into_values().collect(),
            checklists: checklists.into_values().collect(),
            library: library.into_values().collect(),
            forms,
        };
        if pack.manual.is_empty() {
            return Err(PackError::new(
                "manual/en/",
                "the pack has no Manual modules",
            ));
        }
        pack.manual
            .sort_by(|a, b| (a.order, &a.id).cmp(&(b.order, &b.id)));
        pack.checklists
            .sort_by(|a, b| (a.order, &a.id).cmp(&(b.order, &b.id)));
        pack.check_links()?;
        Ok(pack)
    }

    /// Every `#/kind/id` link in any Markdown must point at an item that exists.
    fn check_links(&self) -> Result<(), PackError> {
        let known = |kind: &str, id: &str| match kind {
            "manual" => self.manual.iter().any(|m| m.id == id),
            "checklists" => self.checklists.iter().any(|c| c.id == id),
            "library" => self.library.iter().any(|l| l.id == id),
            _ => false,
        };
        let check = |path: String, md: &str| -> Result<(), PackError> {
            for link in super::markdown::links(md) {
                if let Some(route) = link.strip_prefix("#/") {
                    let mut parts = route.split('/');
                    let (kind, id) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                    if !known(kind, id) {
                        return Err(PackError::new(
                            path,
                            format!("link `{link}` points to no item in the pack"),
                        ));
                    }
                } else if !(link.starts_with("https://") || link.starts_with("mailto:")) {
                    return Err(PackError::new(
                        path,
                        format!(
                            "link `{link}`: only #/manual/…, #/checklists/…, #/library/…, https:// and mailto: links are allowed"
                        ),
                    ));
                }
            }
            Ok(())
        };
        for m in &self.manual {
            for (lang, t) in &m.texts {
                check(format!("manual/{lang}/{}.md", m.id), &t.body_md)?;
            }
        }
        for c in &self.checklists {
            for (lang, t) in &c.texts {
                for step in &t.steps {
                    check(
                        format!("checklists/{lang}/{}.toml (item `{}`)", c.id, step.id),
                        &step.detail,
                    )?;
                }
            }
        }
        for l in &self.library {
            for (lang, t) in &l.texts {
                check(format!("library/{lang}/{}.md", l.id), &t.body_md)?;
            }
        }
        Ok(())
    }
}

fn utf8<'a>(path: &str, bytes: &'a [u8]) -> Result<&'a str, PackError> {
    std::str::from_utf8(bytes).map_err(|e| {
        PackError::new(
            path,
            format!("not valid UTF-8 text (byte {})", e.valid_up_to()),
        )
    })
}

fn toml_reason(e: &toml::de::Error) -> String {
    e.to_string().trim().replace('\n', " ")
}

fn no_english(path: &str, section: &str, id: &str) -> PackError {
    PackError::new(
        path,
        format!("translation of `{id}` has no English original ({section}/en/{id}.* is missing)"),
    )
}

fn item_id(path: &str, file: &str, ext: &str) -> Result<String, PackError> {
    let id = file
        .strip_suffix(ext)
        .ok_or_else(|| PackError::new(path, format!("expected a `{ext}` file here")))?;
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(PackError::new(
            path,
            "file name must be a lowercase id: letters a-z, digits and `-`",
        ));
    }
    Ok(id.to_string())
}

/// Loads a report form, with the CSV files published beside it, with the same engine the app
/// and the server use; every error it finds is reported with its sheet, row and column, and a
/// file the form reads but the pack lacks is named.
fn report_form(
    path: &str,
    text: &str,
    id: String,
    files: BTreeMap<String, String>,
) -> Result<ReportForm, PackError> {
    let attachments: stopover_forms::Attachments = files
        .iter()
        .map(|(name, text)| (name.clone(), text.as_bytes().to_vec()))
        .collect();
    let form = stopover_forms::load_text_with(text, &attachments).map_err(|errors| {
        let list: Vec<String> = errors.0.iter().map(ToString::to_string).collect();
        PackError::new(
            path,
            format!("{} error(s) in the form: {}", list.len(), list.join("; ")),
        )
    })?;
    let missing = form.missing_files();
    if !missing.is_empty() {
        return Err(PackError::new(
            path,
            format!(
                "the form reads {}, missing from forms/{id}/ (files a form reads are published with it)",
                missing.join(", ")
            ),
        ));
    }
    let summary = form.summary();
    let declared = summary
        .form_id
        .clone()
        .unwrap_or_default()
        .replace('_', "-");
    if declared != id {
        return Err(PackError::new(
            path,
            format!(
                "settings form_id `{}` does not match the file name `{id}`",
                summary.form_id.unwrap_or_default()
            ),
        ));
    }
    let version = summary
        .version
        .ok_or_else(|| PackError::new(path, "settings: `version` is required"))?;
    let title = form
        .settings
        .title
        .get(form.default_language(), None)
        .unwrap_or(&id)
        .to_string();
    Ok(ReportForm {
        id,
        version,
        title,
        source: text.to_string(),
        files,
    })
}

/// `order` is required in the English file (`Some`) and refused in a translation (`None`).
fn english_order(path: &str, is_en: bool, order: Option<i64>) -> Result<Option<i64>, PackError> {
    match (is_en, order) {
        (true, Some(order)) => Ok(Some(order)),
        (true, None) => Err(PackError::new(
            path,
            "field `order` is required in the English file",
        )),
        (false, None) => Ok(None),
        (false, Some(_)) => Err(PackError::new(
            path,
            "field `order` belongs in the English file only",
        )),
    }
}

fn check_text(path: &str, title: &str, summary: &str) -> Result<(), PackError> {
    if title.trim().is_empty() {
        return Err(PackError::new(path, "field `title` is empty"));
    }
    if summary.trim().is_empty() {
        return Err(PackError::new(path, "field `summary` is empty"));
    }
    Ok(())
}

fn check_steps(path: &str, steps: &[ChecklistStep]) -> Result<(), PackError> {
    if steps.is_empty() {
        return Err(PackError::new(
            path,
            "a checklist needs at least one [[items]] entry",
        ));
    }
    let mut seen = BTreeSet::new();
    for (n, step) in steps.iter().enumerate() {
        if step.id.is_empty()
            || !step
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(PackError::new(
                path,
                format!(
                    "item {}: field `id` must be a lowercase id (a-z, 0-9, -), found `{}`",
                    n + 1,
                    step.id
                ),
            ));
        }
        if !seen.insert(step.id.as_str()) {
            return Err(PackError::new(
                path,
                format!("item {}: id `{}` is used twice", n + 1, step.id),
            ));
        }
        if step.text.trim().is_empty() {
            return Err(PackError::new(
                path,
                format!("item `{}`: field `text` is empty", step.id),
            ));
        }
    }
    Ok(())
}

/// Splits `+++\n<toml>\n+++\n<markdown>` and parses the TOML part.
fn front_matter<'a, T: serde::de::DeserializeOwned>(
    path: &str,
    text: &'a str,
) -> Result<(T, &'a str), PackError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rest = text
        .strip_prefix("+++\n")
        .or_else(|| text.strip_prefix("+++\r\n"))
        .ok_or_else(|| PackError::new(path, "line 1: expected `+++` opening the front matter"))?;
    let end = rest
        .find("\n+++")
        .ok_or_else(|| PackError::new(path, "front matter is not closed by a `+++` line"))?;
    let (front, body) = (&rest[..end + 1], &rest[end + 4..]);
    let parsed = toml::from_str(front).map_err(|e| {
        let line = e
            .span()
            .map(|s| front[..s.start].lines().count().max(1) + 1);
        let msg = e.message().trim().replace('\n', " ");
        match line {
            Some(line) => PackError::new(path, format!("line {line}: front matter: {msg}")),
            None => PackError::new(path, format!("front matter: {msg}")),
        }
    })?;
    Ok((parsed, body.trim_start_matches(['\r', '\n'])))
}

fn library_meta(path: &str, front: &LibraryFront) -> Result<LibraryMeta, PackError> {
    let kind = front.kind.ok_or_else(|| {
        PackError::new(
            path,
            "field `kind` is required (funding, training, practice or faq)",
        )
    })?;
    let regions = front.regions.clone().unwrap_or_default();
    if regions.is_empty() {
        return Err(PackError::new(
            path,
            "field `regions` needs at least one region",
        ));
    }
    if let Some(bad) = regions.iter().find(|r| !REGIONS.contains(&r.as_str())) {
        return Err(PackError::new(
            path,
            format!(
                "field `regions`: unknown region `{bad}` (expected one of {})",
                REGIONS.join(", ")
            ),
        ));
    }
    let languages = front.languages.clone().unwrap_or_default();
    if languages.is_empty() {
        return Err(PackError::new(
            path,
            "field `languages` needs at least one language",
        ));
    }
    for (field, value) in [("date", &front.date), ("deadline", &front.deadline)] {
        if let Some(v) = value
            && !is_iso_date(v)
        {
            return Err(PackError::new(
                path,
                format!("field `{field}`: `{v}` is not a date in the form YYYY-MM-DD"),
            ));
        }
    }
    if let Some(url) = &front.url
        && !url.starts_with("https://")
    {
        return Err(PackError::new(
            path,
            format!("field `url`: `{url}` must start with https://"),
        ));
    }
    Ok(LibraryMeta {
        kind,
        regions,
        instruments: front.instruments.clone().unwrap_or_default(),
        date: front.date.clone(),
        deadline: front.deadline.clone(),
        languages,
        url: front.url.clone(),
    })
}

fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().ok();
    matches!(
        (num(0..4), num(5..7), num(8..10)),
        (Some(_), Some(1..=12), Some(1..=31))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(entries: &[(&str, &str)]) -> PackFiles {
        PackFiles(
            entries
                .iter()
                .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
                .collect(),
        )
    }

    const MANIFEST: &str = "id = \"t\"\nversion = \"1\"\nlanguages = [\"en\"]\n";
    const MODULE: &str = "+++\ntitle = \"T\"\nsummary = \"S\"\norder = 1\n+++\n## A\n\nText.\n";

    fn err(entries: &[(&str, &str)]) -> PackError {
        Pack::parse(&files(entries)).unwrap_err()
    }

    #[test]
    fn embedded_pack_is_valid() {
        let pack = Pack::parse(&PackFiles::embedded()).unwrap();
        assert!(pack.manual.len() >= 8, "{} modules", pack.manual.len());
        assert!(pack.checklists.len() >= 6);
        for kind in [
            LibraryKind::Funding,
            LibraryKind::Training,
            LibraryKind::Practice,
            LibraryKind::Faq,
        ] {
            assert!(
                pack.library.iter().filter(|l| l.meta.kind == kind).count() >= 5,
                "{kind:?}"
            );
        }
        for m in &pack.manual {
            for lang in LANGUAGES {
                assert!(
                    m.texts.contains_key(lang),
                    "manual `{}` lacks `{lang}`",
                    m.id
                );
            }
        }
    }

    #[test]
    fn missing_manifest() {
        let e = err(&[("manual/en/a.md", MODULE)]);
        assert_eq!(e.file, "manifest.toml");
        assert!(e.reason.contains("missing"));
    }

    #[test]
    fn bad_front_matter_names_file_and_line() {
        let e = err(&[
            ("manifest.toml", MANIFEST),
            (
                "manual/en/a.md",
                "+++\ntitle = \"T\"\nsummary = 3\norder = 1\n+++\nx",
            ),
        ]);
        assert_eq!(e.file, "manual/en/a.md");
        assert!(e.reason.starts_with("line 3:"), "{}", e.reason);
        assert!(e.reason.contains("string"), "{}", e.reason);
    }

    #[test]
    fn unclosed_front_matter() {
        let e = err(&[
            ("manifest.toml", MANIFEST),
            ("manual/en/a.md", "+++\ntitle = \"T\"\n"),
        ]);
        assert!(e.reason.contains("not closed"), "{}", e.reason);
    }

    #[test]
    fn translation_without_english() {
        let e = err(&[
            ("manifest.toml", MANIFEST),
            ("manual/en/a.md", MODULE),
            (
                "manual/fr/b.md",
                "+++\ntitle = \"T\"\nsummary = \"S\"\n+++\nx",
            ),
        ]);
        assert_eq!(e.file, "manual/fr/b.md");
        assert!(e.reason.contains("no English original"), "{}", e.reason);
    }

    #[test]
    fn unknown_language_and_unknown_field() {
        let e = err(&[("manifest.toml", MANIFEST), ("manual/de/a.md", MODULE)]);
        assert!(
            e.reason.contains("unknown language folder `de`"),
            "{}",
            e.reason
        );
        let e = err(&[
            ("manifest.toml", MANIFEST),
            (
                "manual/en/a.md",
                "+++\ntitle = \"T\"\nsummary = \"S\"\norder = 1\ncolour = 1\n+++\nx",
            ),
        ]);
        assert!(e.reason.contains("colour"), "{}", e.reason);
    }

    #[test]
    fn broken_cross_link() {
        let e = err(&[
            ("manifest.toml", MANIFEST),
            (
                "manual/en/a.md",
                "+++\ntitle = \"T\"\nsummary = \"S\"\norder = 1\n+++\nSee [x](#/manual/nope).",
            ),
        ]);
        assert!(e.reason.contains("#/manual/nope"), "{}", e.reason);
        let e = err(&[
            ("manifest.toml", MANIFEST),
            (
                "manual/en/a.md",
                "+++\ntitle = \"T\"\nsummary = \"S\"\norder = 1\n+++\n[x](javascript:alert(1))",
            ),
        ]);
        assert!(e.reason.contains("only #/manual"), "{}", e.reason);
    }

    #[test]
    fn checklist_errors() {
        let dup = "title = \"C\"\nsummary = \"S\"\norder = 1\n[[items]]\nid = \"a\"\ntext = \"x\"\n[[items]]\nid = \"a\"\ntext = \"y\"\n";
        let e = err(&[
            ("manifest.toml", MANIFEST),
            ("manual/en/a.md", MODULE),
            ("checklists/en/c.toml", dup),
        ]);
        assert_eq!(e.reason, "item 2: id `a` is used twice");
        let en = "title = \"C\"\nsummary = \"S\"\norder = 1\n[[items]]\nid = \"a\"\ntext = \"x\"\n";
        let fr = "title = \"C\"\nsummary = \"S\"\n[[items]]\nid = \"b\"\ntext = \"x\"\n";
        let e = err(&[
            ("manifest.toml", MANIFEST),
            ("manual/en/a.md", MODULE),
            ("checklists/en/c.toml", en),
            ("checklists/fr/c.toml", fr),
        ]);
        assert_eq!(e.file, "checklists/fr/c.toml");
        assert!(e.reason.contains("item `b` does not exist"), "{}", e.reason);
    }

    #[test]
    fn library_metadata_is_checked() {
        let item = "+++\nkind = \"funding\"\ntitle = \"T\"\nsummary = \"S\"\nregions = [\"mars\"]\nlanguages = [\"en\"]\n+++\nx";
        let e = err(&[
            ("manifest.toml", MANIFEST),
            ("manual/en/a.md", MODULE),
            ("library/en/f.md", item),
        ]);
        assert!(e.reason.contains("unknown region `mars`"), "{}", e.reason);
        let item = "+++\nkind = \"funding\"\ntitle = \"T\"\nsummary = \"S\"\nregions = [\"africa\"]\nlanguages = [\"en\"]\ndeadline = \"31/01/2027\"\n+++\nx";
        let e = err(&[
            ("manifest.toml", MANIFEST),
            ("manual/en/a.md", MODULE),
            ("library/en/f.md", item),
        ]);
        assert!(e.reason.contains("field `deadline`"), "{}", e.reason);
    }

    #[test]
    fn invalid_utf8() {
        let mut f = files(&[("manifest.toml", MANIFEST)]);
        f.0.insert("manual/en/a.md".into(), vec![b'+', 0xff, 0xfe]);
        let e = Pack::parse(&f).unwrap_err();
        assert!(e.reason.contains("UTF-8"), "{}", e.reason);
    }

    #[test]
    fn report_forms_are_checked_by_the_forms_engine() {
        let good = "[survey]\ntype | name | label\ninteger | n | How many?\n[settings]\nform_id | version\nmini_report | 1\n";
        let pack = Pack::parse(&files(&[
            ("manifest.toml", MANIFEST),
            ("manual/en/a.md", MODULE),
            ("forms/mini-report.txt", good),
        ]))
        .unwrap();
        assert_eq!(
            (pack.forms[0].id.as_str(), pack.forms[0].version.as_str()),
            ("mini-report", "1")
        );
        let bad = good.replace("integer | n", "integr | n");
        let e = err(&[
            ("manifest.toml", MANIFEST),
            ("manual/en/a.md", MODULE),
            ("forms/mini-report.txt", &bad),
        ]);
        assert_eq!(e.file, "forms/mini-report.txt");
        assert!(e.reason.contains("survey row 3"), "{}", e.reason);
        let e = err(&[
            ("manifest.toml", MANIFEST),
            ("manual/en/a.md", MODULE),
            ("forms/other.txt", good),
        ]);
        assert!(
            e.reason.contains("does not match the file name"),
            "{}",
            e.reason
        );
    }

    #[test]
    fn report_forms_carry_their_csv_files() {
        let form = "[survey]\ntype | name | label\nselect_one_from_file birds.csv | b | Bird?\n[settings]\nform_id | version\nmini_report | 1\n";
        let pack = Pack::parse(&files(&[
            ("manifest.toml", MANIFEST),
            ("manual/en/a.md", MODULE),
            ("forms/mini-report.txt", form),
            ("forms/mini-report/birds.csv", "name,label\nstork,Stork\n"),
        ]))
        .unwrap();
        assert_eq!(
            pack.forms[0].files.get("birds.csv").map(String::as_str),
            Some("name,label\nstork,Stork\n")
        );
        let e = err(&[
            ("manifest.toml", MANIFEST),
            ("manual/en/a.md", MODULE),
            ("forms/mini-report.txt", form),
        ]);
        assert_eq!(e.file, "forms/mini-report.txt");
        assert!(
            e.reason
                .contains("reads birds.csv, missing from forms/mini-report/"),
            "{}",
            e.reason
        );
        let e = err(&[
            ("manifest.toml", MANIFEST),
            ("manual/en/a.md", MODULE),
            ("forms/mini-report.txt", form),
            ("forms/mini-report/birds.csv", "name,label\nstork,Stork\n"),
            ("forms/other-report/x.csv", "name\nx\n"),
        ]);
        assert_eq!(e.file, "forms/other-report/x.csv");
        assert!(
            e.reason.contains("no report form forms/other-report.txt"),
            "{}",
            e.reason
        );
        let e = err(&[
            ("manifest.toml", MANIFEST),
            ("manual/en/a.md", MODULE),
            ("forms/mini-report.txt", form),
            ("forms/mini-report/birds.csv", "name,label\nstork,Stork\n"),
            ("forms/mini-report/logo.png", "x"),
        ]);
        assert!(e.reason.contains("CSV files only"), "{}", e.reason);
        let e = err(&[
            ("manifest.toml", MANIFEST),
            ("manual/en/a.md", MODULE),
            ("forms/mini-report.txt", form),
            ("forms/mini-report/birds.csv", "label\nStork\n"),
        ]);
        assert!(e.reason.contains("no column 'name'"), "{}", e.reason);
    }

    #[test]
    fn hash_changes_with_content() {
        let a = files(&[("manifest.toml", MANIFEST)]);
        let b = files(&[(
            "manifest.toml",
            "id = \"t\"\nversion = \"2\"\nlanguages = [\"en\"]\n",
        )]);
        assert_ne!(a.hash(), b.hash());
        assert_eq!(a.hash(), a.clone().hash());
    }
}
