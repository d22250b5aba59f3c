//! Forum categories: by region, by instrument, general talk, questions and answers. The
//! Secretariat adds them (`ecommunity forum category add`); each is published in the
//! community feed as `forum_category` / `info`.

use rusqlite::{Connection, OptionalExtension, params};
use stopover_protocol::RecordKind;
use stopover_protocol::forum::{CategoryInfo, CategoryKind, Localized, MAX_TITLE_CHARS, is_slug};

use crate::db::unix_now;
use crate::error::{Error, Result};

pub use stopover_protocol::forum::REGIONS;

/// (slug, kind, English, French, Spanish). Order in this list is the order in the app.
#[rustfmt::skip]
const DEFAULTS: &[(&str, CategoryKind, &str, &str, &str)] = &[
    ("general", CategoryKind::General, "General", "Général", "General"),
    ("qa", CategoryKind::Qa, "Questions and answers", "Questions et réponses", "Preguntas y respuestas"),
    ("africa", CategoryKind::Region, "Africa", "Afrique", "África"),
    ("asia", CategoryKind::Region, "Asia", "Asie", "Asia"),
    ("europe", CategoryKind::Region, "Europe", "Europe", "Europa"),
    ("oceania", CategoryKind::Region, "Oceania", "Océanie", "Oceanía"),
    ("south-central-america-caribbean", CategoryKind::Region,
        "South and Central America and the Caribbean",
        "Amérique du Sud, Amérique centrale et Caraïbes",
        "América del Sur, América Central y el Caribe"),
    ("north-america", CategoryKind::Region, "North America", "Amérique du Nord", "América del Norte"),
    ("cms", CategoryKind::Instrument,
        "CMS — Convention on Migratory Species",
        "CMS — Convention sur les espèces migratrices",
        "CMS — Convención sobre las Especies Migratorias"),
    ("aewa", CategoryKind::Instrument,
        "AEWA — African-Eurasian Migratory Waterbirds",
        "AEWA — Oiseaux d'eau migrateurs d'Afrique-Eurasie",
        "AEWA — Aves acuáticas migratorias afroeuroasiáticas"),
    ("eurobats", CategoryKind::Instrument,
        "EUROBATS — European bats",
        "EUROBATS — Chauves-souris d'Europe",
        "EUROBATS — Murciélagos europeos"),
    ("ascobans", CategoryKind::Instrument,
        "ASCOBANS — Small cetaceans of the Baltic, North East Atlantic, Irish and North Seas",
        "ASCOBANS — Petits cétacés de la Baltique, de l'Atlantique du Nord-Est et des mers d'Irlande et du Nord",
        "ASCOBANS — Pequeños cetáceos del Báltico, el Atlántico Nordeste y los mares de Irlanda y del Norte"),
    ("accobams", CategoryKind::Instrument,
        "ACCOBAMS — Cetaceans of the Black Sea, Mediterranean and contiguous Atlantic",
        "ACCOBAMS — Cétacés de la mer Noire, de la Méditerranée et de la zone atlantique adjacente",
        "ACCOBAMS — Cetáceos del mar Negro, el Mediterráneo y la zona atlántica contigua"),
    ("iosea", CategoryKind::Instrument,
        "IOSEA — Marine turtles of the Indian Ocean and South-East Asia",
        "IOSEA — Tortues marines de l'océan Indien et de l'Asie du Sud-Est",
        "IOSEA — Tortugas marinas del océano Índico y el Sudeste Asiático"),
    ("raptors", CategoryKind::Instrument,
        "Raptors MOU — Birds of prey of Africa and Eurasia",
        "MdE Rapaces — Oiseaux de proie d'Afrique et d'Eurasie",
        "MdE Rapaces — Aves rapaces de África y Eurasia"),
    ("sharks", CategoryKind::Instrument,
        "Sharks MOU — Migratory sharks",
        "MdE Requins — Requins migrateurs",
        "MdE Tiburones — Tiburones migratorios"),
    ("dugong", CategoryKind::Instrument,
        "Dugong MOU — Dugongs and their habitats",
        "MdE Dugong — Dugongs et leurs habitats",
        "MdE Dugongo — Dugongos y sus hábitats"),
];

pub fn kind_name(kind: CategoryKind) -> &'static str {
    match kind {
        CategoryKind::Region => "region",
        CategoryKind::Instrument => "instrument",
        CategoryKind::General => "general",
        CategoryKind::Qa => "qa",
    }
}

pub fn exists(conn: &Connection, slug: &str) -> Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM forum_category WHERE slug = ?1",
            [slug],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Every category, in list order.
pub fn list(conn: &Connection) -> Result<Vec<(String, CategoryInfo)>> {
    let mut stmt = conn.prepare("SELECT slug, info FROM forum_category ORDER BY position, slug")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    rows.map(|row| {
        let (slug, info) = row?;
        Ok((slug, serde_json::from_str(&info)?))
    })
    .collect()
}

/// Checks a title in three languages: English required, each one line of at most
/// [`MAX_TITLE_CHARS`] characters.
pub(crate) fn check_title(title: &Localized) -> Result<(), String> {
    for (lang, text) in [
        ("en", Some(&title.en)),
        ("fr", title.fr.as_ref()),
        ("es", title.es.as_ref()),
    ] {
        let Some(text) = text else { continue };
        if text.trim().is_empty() {
            return Err(format!("the {lang} title is empty"));
        }
        if text.chars().count() > MAX_TITLE_CHARS {
            return Err(format!(
                "the {lang} title holds at most {MAX_TITLE_CHARS} characters"
            ));
        }
        if text.contains(['\n', '\r']) {
            return Err(format!("the {lang} title must be one line"));
        }
    }
    Ok(())
}

/// Adds a category and publishes it. `order`: its place in the list (default: last).
pub fn add(
    conn: &Connection,
    slug: &str,
    kind: CategoryKind,
    title: Localized,
    order: Option<u32>,
) -> Result<CategoryInfo> {
    if !is_slug(slug) {
        return Err(Error::Usage(format!(
            "`{slug}` is not a category id: use 1-64 of a-z, 0-9 and `-` (e.g. `west-africa`)"
        )));
    }
    check_title(&title).map_err(Error::Usage)?;
    if exists(conn, slug)? {
        return Err(Error::Forum(format!(
            "the forum category `{slug}` already exists"
        )));
    }
    let order = match order {
        Some(o) => o,
        None => conn.query_row(
            "SELECT coalesce(max(position) + 1, 0) FROM forum_category",
            [],
            |r| r.get::<_, i64>(0),
        )? as u32,
    };
    let info = CategoryInfo { title, kind, order };
    let json = serde_json::to_value(&info)?;
    conn.execute(
        "INSERT INTO forum_category (slug, kind, position, info, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![slug, kind_name(kind), order, json.to_string(), unix_now()],
    )?;
    super::publish(conn, RecordKind::ForumCategory, slug, "info", &json)?;
    Ok(info)
}

/// Adds each default category not there yet; returns how many were added. (Per slug, so a
/// server whose Secretariat added categories before the first start still gets the rest.)
pub fn seed_defaults(conn: &Connection) -> Result<usize> {
    let mut added = 0;
    for (position, (slug, kind, en, fr, es)) in DEFAULTS.iter().enumerate() {
        if exists(conn, slug)? {
            continue;
        }
        let title = Localized {
            en: (*en).into(),
            fr: Some((*fr).into()),
            es: Some((*es).into()),
        };
        add(conn, slug, *kind, title, Some(position as u32))?;
        added += 1;
    }
    Ok(added)
}
