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

/// Sections whose every item must name its sources and the date its facts were last checked:
/// all of them (a pack item without either is refused, naming its file).
pub const PROVENANCE_REQUIRED: &[&str] = &["manual", "checklists", "library", "glossary"];

/// The id of the Manual page generated from `glossary/<lang>.toml`.
pub const GLOSSARY_ID: &str = "glossary";

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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub id: String,
    pub version: String,
    pub languages: Vec<String>,
}

/// A document an item's facts were checked against.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub title: String,
    pub url: String,
}

/// Where an item's facts come from: its sources and the date a person last checked the facts
/// against them (`YYYY-MM-DD`). Given in the English file; translations share it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Provenance {
    pub reviewed: Option<String>,
    pub sources: Vec<Source>,
}

impl Provenance {
    pub fn is_complete(&self) -> bool {
        self.reviewed.is_some() && !self.sources.is_empty()
    }
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
    pub provenance: Provenance,
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
    pub provenance: Provenance,
    pub texts: BTreeMap<String, ChecklistText>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
    pub provenance: Provenance,
    pub texts: BTreeMap<String, ItemText>,
}

impl LibraryItem {
    /// Sort key in lists: by kind, then date (newest last is fine for deadlines), then id.
    pub fn order(&self) -> i64 {
        self.meta.kind.rank()
    }
}

/// One entry of the glossary in one language.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlossaryTerm {
    /// Stable across languages (`nfp`); also the entry's anchor on the page.
    pub id: String,
    /// As written in that language (`NFP`, `PFN`).
    pub term: String,
    /// What it stands for.
    pub meaning: String,
    /// What it is, in Markdown, with links into the pack.
    #[serde(default)]
    pub detail: String,
}

#[derive(Debug, Clone)]
pub struct GlossaryText {
    pub title: String,
    pub summary: String,
    pub intro: String,
    /// Every English entry, translated where the translation has it, in the order shown.
    pub terms: Vec<GlossaryTerm>,
}

/// The glossary of acronyms: shown as the Manual page [`GLOSSARY_ID`], searched term by term.
#[derive(Debug, Clone)]
pub struct Glossary {
    pub texts: BTreeMap<String, GlossaryText>,
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
    /// Also in `manual` as the page [`GLOSSARY_ID`]; kept apart for the search index.
    pub glossary: Option<Glossary>,
}

// --- front matter shapes ---------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManualFront {
    title: String,
    summary: String,
    order: Option<i64>,
    reviewed: Option<String>,
    sources: Option<Vec<Source>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChecklistFile {
    title: String,
    summary: String,
    order: Option<i64>,
    reviewed: Option<String>,
    sources: Option<Vec<Source>>,
    items: Vec<ChecklistStep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GlossaryFile {
    title: String,
    summary: String,
    order: Option<i64>,
    reviewed: Option<String>,
    sources: Option<Vec<Source>>,
    #[serde(default)]
    intro: String,
    terms: Vec<GlossaryTerm>,
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
    reviewed: Option<String>,
    sources: Option<Vec<Source>>,
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
            || self.reviewed.is_some()
            || self.sources.is_some()
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
        let mut glossary_files = Vec::new();
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
                ["glossary", file] => {
                    let lang = file.strip_suffix(".toml").unwrap_or("");
                    if !LANGUAGES.contains(&lang) {
                        return Err(PackError::new(
                            path,
                            "expected glossary/en.toml, glossary/fr.toml or glossary/es.toml",
                        ));
                    }
                    let parsed: GlossaryFile = toml::from_str(utf8(path, bytes)?)
                        .map_err(|e| PackError::new(path, toml_reason(&e)))?;
                    glossary_files.push((path.clone(), lang.to_string(), parsed));
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
                    let provenance =
                        check_provenance(path, is_en, "manual", front.reviewed, front.sources)?;
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
                                    provenance,
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
                    let provenance = check_provenance(
                        path,
                        is_en,
                        "checklists",
                        parsed.reviewed,
                        parsed.sources,
                    )?;
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
                                    provenance,
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
                        let provenance = check_provenance(
                            path,
                            true,
                            "library",
                            front.reviewed.clone(),
                            front.sources.clone(),
                        )?;
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
                                provenance,
                                texts: BTreeMap::from([(lang.to_string(), item)]),
                            },
                        );
                    } else {
                        if front.has_metadata() {
                            return Err(PackError::new(
                                path,
                                "metadata (kind, regions, instruments, dates, languages, url, reviewed, sources) belongs in the English file only",
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

        let glossary = match glossary_files.is_empty() {
            true => None,
            false => {
                let (module, glossary) = glossary(glossary_files)?;
                if manual.contains_key(GLOSSARY_ID) {
                    return Err(PackError::new(
                        format!("manual/en/{GLOSSARY_ID}.md"),
                        format!("the id `{GLOSSARY_ID}` belongs to the page made from glossary/"),
                    ));
                }
                manual.insert(GLOSSARY_ID.to_string(), module);
                Some(glossary)
            }
        };

        let mut pack = Pack {
            manifest,
            hash: files.hash(),
            manual: manual.into_values().collect(),
            checklists: checklists.into_values().collect(),
            library: library.into_values().collect(),
            forms,
            glossary,
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

    /// The English files of items that do not yet name both their sources and a review date,
    /// in the sections not covered by [`PROVENANCE_REQUIRED`] (the others are refused).
    pub fn missing_provenance(&self) -> Vec<String> {
        let manual = self.manual.iter().map(|m| {
            let file = match m.id == GLOSSARY_ID && self.glossary.is_some() {
                true => "glossary/en.toml".to_string(),
                false => format!("manual/en/{}.md", m.id),
            };
            (file, &m.provenance)
        });
        let checklists = self
            .checklists
            .iter()
            .map(|c| (format!("checklists/en/{}.toml", c.id), &c.provenance));
        let library = self
            .library
            .iter()
            .map(|l| (format!("library/en/{}.md", l.id), &l.provenance));
        manual
            .chain(checklists)
            .chain(library)
            .filter(|(_, p)| !p.is_complete())
            .map(|(file, _)| file)
            .collect()
    }

    /// Every `#/kind/id` link in any Markdown must point at an item that exists.
    fn check_links(&self) -> Result<(), PackError> {
        let known = |kind: &str, id: &str| match kind {
            "manual" => self.manual.iter().any(|m| m.id == id),
            "checklists" => self.checklists.iter().any(|c| c.id == id),
            "library" => self.library.iter().any(|l| l.id == id),
            _ => false,
        };
        // `#/manual/<id>/<section>` must name a heading of that item as the reader sees it in
        // `lang` (an id given with `{#…}` is the same in every language), or a glossary term.
        let has_section = |kind: &str, id: &str, section: &str, lang: &str| {
            let text = |texts: &BTreeMap<String, ItemText>| {
                texts
                    .get(lang)
                    .or_else(|| texts.get(FALLBACK_LANGUAGE))
                    .map(|t| super::markdown::heading_ids(&t.body_md).contains(section))
            };
            match kind {
                "manual" if id == GLOSSARY_ID && self.glossary.is_some() => {
                    self.glossary.as_ref().is_some_and(|g| {
                        g.texts[FALLBACK_LANGUAGE]
                            .terms
                            .iter()
                            .any(|t| t.id == section)
                    })
                }
                "manual" => self
                    .manual
                    .iter()
                    .find(|m| m.id == id)
                    .and_then(|m| text(&m.texts))
                    .unwrap_or(false),
                "library" => self
                    .library
                    .iter()
                    .find(|l| l.id == id)
                    .and_then(|l| text(&l.texts))
                    .unwrap_or(false),
                _ => false,
            }
        };
        let check = |path: String, lang: &str, md: &str| -> Result<(), PackError> {
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
                    if let Some(section) = parts.next()
                        && !has_section(kind, id, section, lang)
                    {
                        return Err(PackError::new(
                            path,
                            format!("link `{link}`: `{id}` has no section `{section}` in `{lang}`"),
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
                let path = match m.id == GLOSSARY_ID && self.glossary.is_some() {
                    true => format!("glossary/{lang}.toml"),
                    false => format!("manual/{lang}/{}.md", m.id),
                };
                check(path, lang, &t.body_md)?;
            }
        }
        for c in &self.checklists {
            for (lang, t) in &c.texts {
                for step in &t.steps {
                    check(
                        format!("checklists/{lang}/{}.toml (item `{}`)", c.id, step.id),
                        lang,
                        &step.detail,
                    )?;
                }
            }
        }
        for l in &self.library {
            for (lang, t) in &l.texts {
                check(format!("library/{lang}/{}.md", l.id), lang, &t.body_md)?;
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

/// Checks `reviewed` and `sources`: English file only, well formed, and present where the
/// section requires them (see [`PROVENANCE_REQUIRED`]).
fn check_provenance(
    path: &str,
    is_en: bool,
    section: &str,
    reviewed: Option<String>,
    sources: Option<Vec<Source>>,
) -> Result<Provenance, PackError> {
    if !is_en {
        if reviewed.is_some() || sources.is_some() {
            return Err(PackError::new(
                path,
                "fields `reviewed` and `sources` belong in the English file only",
            ));
        }
        return Ok(Provenance::default());
    }
    if let Some(date) = &reviewed
        && !is_iso_date(date)
    {
        return Err(PackError::new(
            path,
            format!("field `reviewed`: `{date}` is not a date in the form YYYY-MM-DD"),
        ));
    }
    let sources = sources.unwrap_or_default();
    for (n, source) in sources.iter().enumerate() {
        if source.title.trim().is_empty() {
            return Err(PackError::new(
                path,
                format!("source {}: field `title` is empty", n + 1),
            ));
        }
        if !source.url.starts_with("https://") || source.url.len() <= "https://".len() {
            return Err(PackError::new(
                path,
                format!(
                    "source {}: field `url`: `{}` must be an https:// address",
                    n + 1,
                    source.url
                ),
            ));
        }
    }
    if PROVENANCE_REQUIRED.contains(&section) {
        if reviewed.is_none() {
            return Err(PackError::new(
                path,
                "field `reviewed` is required: the date (YYYY-MM-DD) a person last checked the facts against the sources",
            ));
        }
        if sources.is_empty() {
            return Err(PackError::new(
                path,
                "at least one [[sources]] entry (title, https:// url) is required: the documents the facts come from",
            ));
        }
    }
    Ok(Provenance { reviewed, sources })
}

/// Builds the glossary and its Manual page from `glossary/<lang>.toml`.
fn glossary(
    files: Vec<(String, String, GlossaryFile)>,
) -> Result<(ManualModule, Glossary), PackError> {
    let (en_path, _, en) = files
        .iter()
        .find(|(_, lang, _)| lang == FALLBACK_LANGUAGE)
        .ok_or_else(|| {
            PackError::new(
                files[0].0.as_str(),
                "the glossary has no English original (glossary/en.toml is missing)",
            )
        })?;
    let order = english_order(en_path, true, en.order)?.unwrap_or_default();
    let provenance = check_provenance(
        en_path,
        true,
        "glossary",
        en.reviewed.clone(),
        en.sources.clone(),
    )?;
    let en_ids: BTreeSet<&str> = en.terms.iter().map(|t| t.id.as_str()).collect();
    let mut texts = BTreeMap::new();
    let mut pages = BTreeMap::new();
    for (path, lang, file) in &files {
        check_text(path, &file.title, &file.summary)?;
        check_terms(path, &file.terms)?;
        if lang != FALLBACK_LANGUAGE {
            english_order(path, false, file.order)?;
            check_provenance(
                path,
                false,
                "glossary",
                file.reviewed.clone(),
                file.sources.clone(),
            )?;
            if let Some(extra) = file.terms.iter().find(|t| !en_ids.contains(t.id.as_str())) {
                return Err(PackError::new(
                    path,
                    format!("term `{}` does not exist in the English glossary", extra.id),
                ));
            }
        }
        // Every English entry appears in every language, translated where it can be.
        let mut terms: Vec<GlossaryTerm> = en
            .terms
            .iter()
            .map(|e| {
                file.terms
                    .iter()
                    .find(|t| t.id == e.id)
                    .unwrap_or(e)
                    .clone()
            })
            .collect();
        terms.sort_by_key(|t| (super::markdown::slug(&t.term), t.id.clone()));
        pages.insert(
            lang.clone(),
            ItemText {
                title: file.title.clone(),
                summary: file.summary.clone(),
                body_md: glossary_page(&file.intro, &terms),
            },
        );
        texts.insert(
            lang.clone(),
            GlossaryText {
                title: file.title.clone(),
                summary: file.summary.clone(),
                intro: file.intro.clone(),
                terms,
            },
        );
    }
    let module = ManualModule {
        id: GLOSSARY_ID.to_string(),
        order,
        provenance,
        texts: pages,
    };
    Ok((module, Glossary { texts }))
}

/// The page: the intro, then one section per term whose anchor is the term's id, so
/// `#/manual/glossary/<id>` lands on it in every language.
fn glossary_page(intro: &str, terms: &[GlossaryTerm]) -> String {
    let mut md = format!("{}\n\n", intro.trim());
    for t in terms {
        md.push_str(&format!(
            "<h2 id=\"{}\">{}</h2>\n\n**{}**\n\n{}\n\n",
            t.id,
            t.term.trim(),
            t.meaning.trim(),
            t.detail.trim()
        ));
    }
    md
}

fn check_terms(path: &str, terms: &[GlossaryTerm]) -> Result<(), PackError> {
    if terms.is_empty() {
        return Err(PackError::new(
            path,
            "the glossary needs at least one [[terms]] entry",
        ));
    }
    let mut seen = BTreeSet::new();
    for (n, t) in terms.iter().enumerate() {
        if !is_lowercase_id(&t.id) {
            return Err(PackError::new(
                path,
                format!(
                    "term {}: field `id` must be a lowercase id (a-z, 0-9, -), found `{}`",
                    n + 1,
                    t.id
                ),
            ));
        }
        if !seen.insert(t.id.as_str()) {
            return Err(PackError::new(
                path,
                format!("term {}: id `{}` is used twice", n + 1, t.id),
            ));
        }
        // The term becomes a heading written as HTML: no markup characters in it.
        if t.term.trim().is_empty() || t.term.contains(['<', '>', '&', '"']) {
            return Err(PackError::new(
                path,
                format!(
                    "term `{}`: field `term` must be non-empty text without < > & \"",
                    t.id
                ),
            ));
        }
        if t.meaning.trim().is_empty() {
            return Err(PackError::new(
                path,
                format!("term `{}`: field `meaning` is empty", t.id),
            ));
        }
    }
    Ok(())
}

fn is_lowercase_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
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
    /// Provenance lines every English item carries (see PROVENANCE_REQUIRED).
    const SOURCED_BY: &str =
        "reviewed = \"2026-12-06\"\n[[sources]]\ntitle = \"CMS\"\nurl = \"https://www.cms.int/\"\n";
    const MODULE: &str = "+++\ntitle = \"T\"\nsummary = \"S\"\norder = 1\nreviewed = \"2026-12-06\"\n[[sources]]\ntitle = \"CMS\"\nurl = \"https://www.cms.int/\"\n+++\n## A\n\nText.\n";

    fn err(entries: &[(&str, &str)]) -> PackError {
        Pack::parse(&files(entries)).unwrap_err()
    }

    #[test]
    fn embedded_pack_is_valid() {
        let pack = Pack::parse(&PackFiles::embedded()).unwrap();
        assert!(pack.manual.len() >= 17, "{} modules", pack.manual.len());
        let glossary = pack.glossary.as_ref().expect("the pack has a glossary");
        for lang in LANGUAGES {
            assert!(glossary.texts.contains_key(lang), "glossary lacks `{lang}`");
        }
        assert!(glossary.texts["en"].terms.len() >= 25);
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

    /// Lists the shipped items still without provenance. When it prints nothing, add every
    /// section to [`PROVENANCE_REQUIRED`] and the import refuses such items from then on.
    #[test]
    fn shipped_items_missing_provenance() {
        let pack = Pack::parse(&PackFiles::embedded()).unwrap();
        let missing = pack.missing_provenance();
        if !missing.is_empty() {
            eprintln!(
                "{} shipped item(s) without `reviewed` and [[sources]]:\n  {}",
                missing.len(),
                missing.join("\n  ")
            );
        }
        for file in &missing {
            let section = file.split('/').next().unwrap_or("");
            assert!(
                !PROVENANCE_REQUIRED.contains(&section),
                "{file} is in a section that requires provenance"
            );
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
                "+++\ntitle = \"T\"\nsummary = \"S\"\norder = 1\nreviewed = \"2026-12-06\"\n[[sources]]\ntitle = \"CMS\"\nurl = \"https://www.cms.int/\"\n+++\nSee [x](#/manual/nope).",
            ),
        ]);
        assert!(e.reason.contains("#/manual/nope"), "{}", e.reason);
        let e = err(&[
            ("manifest.toml", MANIFEST),
            (
                "manual/en/a.md",
                "+++\ntitle = \"T\"\nsummary = \"S\"\norder = 1\nreviewed = \"2026-12-06\"\n[[sources]]\ntitle = \"CMS\"\nurl = \"https://www.cms.int/\"\n+++\n[x](javascript:alert(1))",
            ),
        ]);
        assert!(e.reason.contains("only #/manual"), "{}", e.reason);
    }

    #[test]
    fn links_to_a_section_must_find_it_in_the_same_language() {
        let target = "+++\ntitle = \"T\"\nsummary = \"S\"\norder = 2\nreviewed = \"2026-12-06\"\n[[sources]]\ntitle = \"CMS\"\nurl = \"https://www.cms.int/\"\n+++\n## Deadlines {#deadlines}\n\n## Other part\n";
        let target_fr =
            "+++\ntitle = \"T\"\nsummary = \"S\"\n+++\n## Délais {#deadlines}\n\n## Autre partie\n";
        let linking = |route: &str| {
            format!(
                "+++\ntitle = \"T\"\nsummary = \"S\"\norder = 1\n{SOURCED_BY}+++\nSee [x]({route})."
            )
        };
        let linking_fr =
            |route: &str| format!("+++\ntitle = \"T\"\nsummary = \"S\"\n+++\nVoir [x]({route}).");
        let parse = |en: &str, fr: &str| {
            Pack::parse(&files(&[
                ("manifest.toml", MANIFEST),
                ("manual/en/a.md", en),
                ("manual/fr/a.md", fr),
                ("manual/en/b.md", target),
                ("manual/fr/b.md", target_fr),
            ]))
        };
        // A stable id works in both languages; a slug only where the heading says it.
        assert!(
            parse(
                &linking("#/manual/b/deadlines"),
                &linking_fr("#/manual/b/deadlines")
            )
            .is_ok()
        );
        assert!(
            parse(
                &linking("#/manual/b/other-part"),
                &linking_fr("#/manual/b/autre-partie")
            )
            .is_ok()
        );
        let e = parse(
            &linking("#/manual/b/other-part"),
            &linking_fr("#/manual/b/other-part"),
        )
        .unwrap_err();
        assert_eq!(e.file, "manual/fr/a.md");
        assert!(
            e.reason.contains("has no section `other-part` in `fr`"),
            "{}",
            e.reason
        );
    }

    #[test]
    fn checklist_errors() {
        let dup = "title = \"C\"\nsummary = \"S\"\norder = 1\nreviewed = \"2026-12-06\"\n[[sources]]\ntitle = \"CMS\"\nurl = \"https://www.cms.int/\"\n[[items]]\nid = \"a\"\ntext = \"x\"\n[[items]]\nid = \"a\"\ntext = \"y\"\n";
        let e = err(&[
            ("manifest.toml", MANIFEST),
            ("manual/en/a.md", MODULE),
            ("checklists/en/c.toml", dup),
        ]);
        assert_eq!(e.reason, "item 2: id `a` is used twice");
        let en = "title = \"C\"\nsummary = \"S\"\norder = 1\nreviewed = \"2026-12-06\"\n[[sources]]\ntitle = \"CMS\"\nurl = \"https://www.cms.int/\"\n[[items]]\nid = \"a\"\ntext = \"x\"\n";
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
        let item = "+++\nkind = \"funding\"\ntitle = \"T\"\nsummary = \"S\"\nregions = [\"mars\"]\nlanguages = [\"en\"]\nreviewed = \"2026-12-06\"\n[[sources]]\ntitle = \"CMS\"\nurl = \"https://www.cms.int/\"\n+++\nx";
        let e = err(&[
            ("manifest.toml", MANIFEST),
            ("manual/en/a.md", MODULE),
            ("library/en/f.md", item),
        ]);
        assert!(e.reason.contains("unknown region `mars`"), "{}", e.reason);
        let item = "+++\nkind = \"funding\"\ntitle = \"T\"\nsummary = \"S\"\nregions = [\"africa\"]\nlanguages = [\"en\"]\ndeadline = \"31/01/2027\"\nreviewed = \"2026-12-06\"\n[[sources]]\ntitle = \"CMS\"\nurl = \"https://www.cms.int/\"\n+++\nx";
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

    const SOURCED: &str = "+++\ntitle = \"T\"\nsummary = \"S\"\norder = 1\nreviewed = \"2026-12-06\"\n[[sources]]\ntitle = \"Convention text\"\nurl = \"https://www.cms.int/en/convention-text\"\n+++\n## A\n\nText.\n";

    #[test]
    fn provenance_is_read_from_the_english_file() {
        let mut pack = Pack::parse(&files(&[
            ("manifest.toml", MANIFEST),
            ("manual/en/a.md", SOURCED),
            ("manual/en/b.md", MODULE),
        ]))
        .unwrap();
        assert!(pack.missing_provenance().is_empty());
        // As an item of a section not (yet) in PROVENANCE_REQUIRED would be:
        pack.manual[1].provenance = Provenance::default();
        let a = &pack.manual[0].provenance;
        assert_eq!(a.reviewed.as_deref(), Some("2026-12-06"));
        assert_eq!(
            a.sources,
            vec![Source {
                title: "Convention text".into(),
                url: "https://www.cms.int/en/convention-text".into()
            }]
        );
        assert!(a.is_complete());
        let missing = pack.missing_provenance();
        assert_eq!(missing, vec!["manual/en/b.md".to_string()]);
    }

    #[test]
    fn provenance_errors_name_file_and_reason() {
        let fr = "+++\ntitle = \"T\"\nsummary = \"S\"\nreviewed = \"2026-12-06\"\n+++\nx";
        let e = err(&[
            ("manifest.toml", MANIFEST),
            ("manual/en/a.md", MODULE),
            ("manual/fr/a.md", fr),
        ]);
        assert_eq!(e.file, "manual/fr/a.md");
        assert!(e.reason.contains("English file only"), "{}", e.reason);

        let e = err(&[
            ("manifest.toml", MANIFEST),
            (
                "manual/en/a.md",
                &SOURCED.replace("2026-12-06", "6 Dec 2026"),
            ),
        ]);
        assert_eq!(e.file, "manual/en/a.md");
        assert!(e.reason.contains("field `reviewed`"), "{}", e.reason);

        let e = err(&[
            ("manifest.toml", MANIFEST),
            (
                "manual/en/a.md",
                &SOURCED.replace("https://www.cms.int", "http://www.cms.int"),
            ),
        ]);
        assert!(
            e.reason.starts_with("source 1: field `url`"),
            "{}",
            e.reason
        );

        let item = "+++\nkind = \"faq\"\ntitle = \"T\"\nsummary = \"S\"\nregions = [\"global\"]\nlanguages = [\"en\"]\nreviewed = \"2026-12-06\"\n[[sources]]\ntitle = \"CMS\"\nurl = \"https://www.cms.int/\"\n+++\nx";
        let fr = "+++\ntitle = \"T\"\nsummary = \"S\"\n[[sources]]\ntitle = \"x\"\nurl = \"https://x.org\"\n+++\nx";
        let e = err(&[
            ("manifest.toml", MANIFEST),
            ("manual/en/a.md", MODULE),
            ("library/en/f.md", item),
            ("library/fr/f.md", fr),
        ]);
        assert_eq!(e.file, "library/fr/f.md");
        assert!(e.reason.contains("English file only"), "{}", e.reason);
    }

    #[test]
    fn required_sections_refuse_items_without_provenance() {
        for section in ["manual", "checklists", "library", "glossary"] {
            let none = check_provenance("x", true, section, None, None);
            let no_sources =
                check_provenance("x", true, section, Some("2026-12-06".into()), Some(vec![]));
            if PROVENANCE_REQUIRED.contains(&section) {
                assert!(none.unwrap_err().reason.contains("`reviewed` is required"));
                assert!(no_sources.unwrap_err().reason.contains("[[sources]]"));
            } else {
                assert_eq!(none.unwrap(), Provenance::default());
                assert!(!no_sources.unwrap().is_complete());
            }
        }
    }

    const GLOSSARY_EN: &str = "title = \"Glossary\"\nsummary = \"Acronyms\"\norder = 9\nreviewed = \"2026-12-06\"\nintro = \"Short forms.\"\n[[sources]]\ntitle = \"CMS\"\nurl = \"https://www.cms.int/\"\n[[terms]]\nid = \"nfp\"\nterm = \"NFP\"\nmeaning = \"National Focal Point\"\ndetail = \"See [appointing](#/manual/a).\"\n[[terms]]\nid = \"cop\"\nterm = \"COP\"\nmeaning = \"Conference of the Parties\"\n";

    #[test]
    fn glossary_becomes_a_manual_page_with_an_anchor_per_term() {
        let fr = "title = \"Glossaire\"\nsummary = \"Sigles\"\n[[terms]]\nid = \"nfp\"\nterm = \"PFN\"\nmeaning = \"Point focal national\"\n";
        let pack = Pack::parse(&files(&[
            ("manifest.toml", MANIFEST),
            ("manual/en/a.md", MODULE),
            ("glossary/en.toml", GLOSSARY_EN),
            ("glossary/fr.toml", fr),
        ]))
        .unwrap();
        let page = pack.manual.iter().find(|m| m.id == GLOSSARY_ID).unwrap();
        assert_eq!(page.order, 9);
        assert!(page.provenance.is_complete());
        let html = super::super::markdown::render_html(&page.texts["en"].body_md);
        // Sorted by term; anchors are the ids, the same in every language.
        let (cop, nfp) = (
            html.find(r#"<h2 id="sec-cop">COP</h2>"#).expect(&html),
            html.find(r#"<h2 id="sec-nfp">NFP</h2>"#).expect(&html),
        );
        assert!(cop < nfp, "{html}");
        assert!(html.contains(r##"href="#/manual/a""##), "{html}");
        let fr_page = &page.texts["fr"].body_md;
        assert!(fr_page.contains(r#"<h2 id="nfp">PFN</h2>"#), "{fr_page}");
        // A term the translation lacks is shown in English rather than left out.
        assert!(fr_page.contains(r#"<h2 id="cop">COP</h2>"#), "{fr_page}");
        let g = pack.glossary.as_ref().unwrap();
        assert_eq!(g.texts["fr"].terms.len(), 2);
    }

    #[test]
    fn glossary_errors_name_file_and_reason() {
        let base = [("manifest.toml", MANIFEST), ("manual/en/a.md", MODULE)];
        let with = |extra: &[(&'static str, String)]| {
            let mut all: Vec<(&str, &str)> = base.to_vec();
            all.extend(extra.iter().map(|(p, c)| (*p, c.as_str())));
            err(&all)
        };
        let e = with(&[(
            "glossary/en.toml",
            GLOSSARY_EN.replace("reviewed = \"2026-12-06\"\n", ""),
        )]);
        assert_eq!(e.file, "glossary/en.toml");
        assert!(e.reason.contains("`reviewed` is required"), "{}", e.reason);
        let e = with(&[(
            "glossary/en.toml",
            GLOSSARY_EN.replace("term = \"COP\"", "term = \"<b>COP</b>\""),
        )]);
        assert!(e.reason.contains("without < > &"), "{}", e.reason);
        let e = with(&[(
            "glossary/en.toml",
            GLOSSARY_EN.replace("id = \"cop\"", "id = \"nfp\""),
        )]);
        assert!(e.reason.contains("id `nfp` is used twice"), "{}", e.reason);
        let e = with(&[
            ("glossary/en.toml", GLOSSARY_EN.to_string()),
            (
                "glossary/es.toml",
                "title = \"G\"\nsummary = \"S\"\n[[terms]]\nid = \"mou\"\nterm = \"MdE\"\nmeaning = \"M\"\n".to_string(),
            ),
        ]);
        assert_eq!(e.file, "glossary/es.toml");
        assert!(
            e.reason.contains("term `mou` does not exist"),
            "{}",
            e.reason
        );
        let e = with(&[(
            "glossary/fr.toml",
            "title = \"G\"\nsummary = \"S\"\n[[terms]]\nid = \"cop\"\nterm = \"COP\"\nmeaning = \"M\"\n".to_string(),
        )]);
        assert!(e.reason.contains("no English original"), "{}", e.reason);
        let e = with(&[
            ("glossary/en.toml", GLOSSARY_EN.to_string()),
            ("manual/en/glossary.md", MODULE.to_string()),
        ]);
        assert_eq!(e.file, "manual/en/glossary.md");
        let e = with(&[(
            "glossary/en.toml",
            GLOSSARY_EN.replace("#/manual/a", "#/manual/zz"),
        )]);
        assert_eq!(e.file, "glossary/en.toml");
        assert!(e.reason.contains("#/manual/zz"), "{}", e.reason);
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
