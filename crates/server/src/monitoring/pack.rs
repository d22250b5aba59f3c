//! The published content pack as the console reads it: its forms (loaded with the same forms
//! engine as the app, with the CSV files published beside them), the titles of its Manual
//! modules and checklists. Read once per published version, then kept.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use stopover_forms::Form;
use stopover_protocol::PackRelease;
use stopover_protocol::packs::PackArchive;

use crate::error::{Error, Result};
use crate::packs;

/// The setting naming the instrument whose NFP leads a form (`CMS`, `AEWA`).
pub const INSTRUMENT_SETTING: &str = "instrument";

/// One form of the pack: loaded, or the errors that stop it loading.
#[derive(Debug, Clone)]
pub struct PackForm {
    pub id: String,
    pub loaded: std::result::Result<Arc<Form>, Vec<String>>,
}

impl PackForm {
    pub fn form(&self) -> Option<&Arc<Form>> {
        self.loaded.as_ref().ok()
    }

    pub fn instrument(&self) -> Option<&str> {
        self.form()
            .and_then(|f| f.settings.extra.get(INSTRUMENT_SETTING))
            .map(String::as_str)
    }
}

/// The latest published pack, read.
#[derive(Debug)]
pub struct Published {
    pub release: PackRelease,
    pub published_at: i64,
    pub archive: PackArchive,
    pub forms: Vec<PackForm>,
}

impl Published {
    pub fn form(&self, id: &str) -> Option<&PackForm> {
        self.forms.iter().find(|f| f.id == id)
    }

    /// The title of a Manual module or checklist (`kind` `manual` or `checklist`) in `lang`,
    /// English when not translated; `None` when the pack has no such item.
    pub fn item_title(&self, kind: &str, id: &str, lang: &str) -> Option<String> {
        let (dir, ext) = match kind {
            "manual" => ("manual", "md"),
            "checklist" => ("checklists", "toml"),
            _ => return None,
        };
        let find = |l: &str| self.archive.files.get(&format!("{dir}/{l}/{id}.{ext}"));
        let text = find(lang).or_else(|| find("en"))?;
        title_of(text)
    }

    /// Ids of the Manual modules (`manual`) or checklists (`checklist`), from the English
    /// folder, in file order.
    pub fn item_ids(&self, kind: &str) -> Vec<String> {
        let (prefix, ext) = match kind {
            "manual" => ("manual/en/", ".md"),
            "checklist" => ("checklists/en/", ".toml"),
            _ => return Vec::new(),
        };
        self.archive
            .files
            .keys()
            .filter_map(|p| p.strip_prefix(prefix)?.strip_suffix(ext))
            .filter(|id| !id.contains('/'))
            .map(str::to_string)
            .collect()
    }
}

/// `title = "…"` from a Manual module's front matter or a checklist's TOML.
fn title_of(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let rest = line
            .trim()
            .strip_prefix("title")?
            .trim_start()
            .strip_prefix('=')?;
        let v: toml::Value = toml::from_str(&format!("v = {}", rest.trim()))
            .ok()
            .and_then(|t: toml::Table| t.get("v").cloned())?;
        v.as_str().map(str::to_string)
    })
}

/// Loads form `id` from an archive with its CSV files (`forms/<id>/<file>.csv`); errors as
/// sentences (sheet, row, column, reason).
pub fn load_form(archive: &PackArchive, id: &str) -> std::result::Result<Form, Vec<String>> {
    let Some(source) = archive.files.get(&format!("forms/{id}.txt")) else {
        return Err(vec![format!("forms/{id}.txt is not in the pack")]);
    };
    let prefix = format!("forms/{id}/");
    let files: stopover_forms::Attachments = archive
        .files
        .iter()
        .filter_map(|(path, text)| {
            let name = path.strip_prefix(&prefix)?;
            (!name.contains('/')).then(|| (name.to_string(), text.clone().into_bytes()))
        })
        .collect();
    let form = stopover_forms::load_text_with(source, &files)
        .map_err(|errors| errors.0.iter().map(ToString::to_string).collect::<Vec<_>>())?;
    let missing = form.missing_files();
    if !missing.is_empty() {
        return Err(vec![format!(
            "the form reads {}, which the pack does not carry in {prefix}",
            missing.join(", ")
        )]);
    }
    Ok(form)
}

/// Every form of an archive (`forms/<id>.txt`), loaded.
pub fn forms_of(archive: &PackArchive) -> Vec<PackForm> {
    archive
        .files
        .keys()
        .filter_map(|p| p.strip_prefix("forms/")?.strip_suffix(".txt"))
        .filter(|id| !id.contains('/'))
        .map(|id| PackForm {
            id: id.to_string(),
            loaded: load_form(archive, id).map(Arc::new),
        })
        .collect()
}

type Cache = BTreeMap<(String, String), Arc<Published>>;

/// The latest published pack of the database in `data_dir`, read (once per version).
pub fn published(conn: &Connection, data_dir: &Path) -> Result<Option<Arc<Published>>> {
    static CACHE: Mutex<Cache> = Mutex::new(BTreeMap::new());
    let Some(release) = packs::latest(conn)? else {
        return Ok(None);
    };
    let key = (
        data_dir.to_string_lossy().into_owned(),
        release.version.clone(),
    );
    if let Some(p) = CACHE.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return Ok(Some(p.clone()));
    }
    let published_at: i64 = conn.query_row(
        "SELECT published_at FROM pack_release WHERE version = ?1",
        [&release.version],
        |r| r.get(0),
    )?;
    let path = packs::archive_path(&data_dir.join("packs"), &release.version);
    let bytes = std::fs::read(&path)
        .map_err(|e| Error::Storage(format!("pack {}: {e}", release.version)))?;
    let archive = PackArchive::decode(&bytes).map_err(Error::Corrupt)?;
    let forms = forms_of(&archive);
    let read = Arc::new(Published {
        release,
        published_at,
        archive,
        forms,
    });
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    // One pack per data folder is enough to keep.
    cache.retain(|(dir, _), _| dir != &key.0);
    cache.insert(key, read.clone());
    Ok(Some(read))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_from_front_matter_and_toml() {
        assert_eq!(
            title_of("+++\ntitle = \"Meetings: registration\"\nsummary = \"x\"\n+++\n"),
            Some("Meetings: registration".into())
        );
        assert_eq!(
            title_of("title = \"Préparer la COP\"\norder = 2\n"),
            Some("Préparer la COP".into())
        );
        assert_eq!(title_of("nothing here"), None);
    }
}
