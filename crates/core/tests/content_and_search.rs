//! The real embedded pack imported into a real SQLite file: listing, fallback, search with
//! diacritic folding, and the guarantee that imports never touch the user's own data.

use std::collections::BTreeSet;

use stopover_core::content::{self, HIGHLIGHT_START, ItemKind, LibraryFilter, PackFiles};
use stopover_core::user::{bookmarks, checklists, recent};
use stopover_core::{ContentStatus, Core};

fn open_fresh() -> (tempfile::TempDir, Core) {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path(), Ok(PackFiles::embedded())).unwrap();
    (dir, core)
}

fn ids(core: &Core, q: &str, lang: &str) -> Vec<(ItemKind, String)> {
    content::search(&core.conn(), q, lang, 50)
        .unwrap()
        .into_iter()
        .map(|h| (h.kind, h.id))
        .collect()
}

#[test]
fn first_start_imports_the_whole_pack() {
    let (_dir, core) = open_fresh();
    assert!(matches!(core.content_status(), ContentStatus::Ready { .. }));
    let conn = core.conn();
    for lang in ["en", "fr", "es"] {
        let manual = content::list_manual(&conn, lang).unwrap();
        assert!(manual.len() >= 8, "{lang}: {} modules", manual.len());
        assert!(
            manual.iter().all(|m| !m.fallback),
            "{lang}: every module is translated"
        );
        assert!(content::list_checklists(&conn, lang).unwrap().len() >= 6);
        assert!(
            content::list_library(&conn, lang, &LibraryFilter::default())
                .unwrap()
                .len()
                >= 20
        );
    }
    let first = content::list_manual(&conn, "en").unwrap();
    assert_eq!(first[0].id, "cms-family", "modules come in pack order");
}

#[test]
fn credentials_search_finds_the_meetings_material_first() {
    let (_dir, core) = open_fresh();
    let hits = content::search(&core.conn(), "credentials", "en", 20).unwrap();
    assert!(!hits.is_empty());
    let top: BTreeSet<&str> = hits.iter().take(5).map(|h| h.id.as_str()).collect();
    assert!(
        top.contains("meetings")
            || top.contains("cop-preparation")
            || top.contains("faq-full-powers"),
        "top hits: {top:?}"
    );
    assert!(hits[0].snippet.contains(HIGHLIGHT_START) || hits[0].title.contains(HIGHLIGHT_START));
    // ranked: scores are ascending (bm25, lower is better)
    assert!(hits.windows(2).all(|w| w[0].score <= w[1].score));
}

#[test]
fn diacritics_and_case_fold_in_every_language() {
    let (_dir, core) = open_fresh();
    let a = ids(&core, "délégation", "fr");
    let b = ids(&core, "delegation", "fr");
    let c = ids(&core, "DELEGATION", "fr");
    assert!(!a.is_empty());
    assert_eq!(a, b);
    assert_eq!(a, c);

    let es = ids(&core, "credenciales", "es");
    assert!(!es.is_empty());
    assert_eq!(es, ids(&core, "Credenciales", "es"));
    assert_eq!(es, ids(&core, "CRÉDENCIALES", "es"));

    let fr = content::search(&core.conn(), "lettres de créance", "fr", 20).unwrap();
    assert!(!fr.is_empty(), "French search for lettres de créance");
    assert!(
        fr.iter()
            .any(|h| h.id == "meetings" || h.id == "cop-preparation" || h.id == "faq-full-powers")
    );
    assert_eq!(
        ids(&core, "lettres de creance", "fr"),
        fr.iter()
            .map(|h| (h.kind, h.id.clone()))
            .collect::<Vec<_>>()
    );
}

#[test]
fn search_is_per_language_and_prefix_matches_while_typing() {
    let (_dir, core) = open_fresh();
    assert!(
        ids(&core, "lettres de créance", "en")
            .iter()
            .all(|(_, id)| id != "nothing")
    );
    let typed = ids(&core, "credenti", "en");
    assert!(
        !typed.is_empty(),
        "a prefix finds results as the user types"
    );
    assert!(ids(&core, "zzzqqq", "en").is_empty());
    // hostile input is just text
    assert!(content::search(&core.conn(), "\" OR * NEAR( -- ;DROP", "en", 10).is_ok());
}

#[test]
fn english_fallback_where_a_translation_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = PackFiles::embedded();
    files
        .0
        .remove("manual/fr/finances.md")
        .expect("the pack has a French finances module");
    let core = Core::open(dir.path(), Ok(files)).unwrap();
    let conn = core.conn();
    let manual = content::list_manual(&conn, "fr").unwrap();
    let finances = manual.iter().find(|m| m.id == "finances").unwrap();
    assert!(finances.fallback);
    assert_eq!(finances.lang, "en");
    let item = content::get_item(&conn, ItemKind::Manual, "finances", "fr").unwrap();
    assert!(item.fallback);
    // The French index holds the English text for it, so French readers can still find it.
    let en_title = content::get_item(&conn, ItemKind::Manual, "finances", "en")
        .unwrap()
        .title;
    let word = en_title.split_whitespace().next().unwrap();
    drop(conn);
    assert!(ids(&core, word, "fr").contains(&(ItemKind::Manual, "finances".to_string())));
}

#[test]
fn reimport_and_broken_pack_leave_user_data_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (list_id, step_id) = {
        let core = Core::open(dir.path(), Ok(PackFiles::embedded())).unwrap();
        let mut conn = core.conn();
        let list = content::checklist(&conn, "cop-preparation", "en").unwrap();
        let step = list.steps[0].id.clone();
        checklists::set_done(&mut conn, "cop-preparation", &step, true).unwrap();
        checklists::set_note(
            &mut conn,
            "cop-preparation",
            &step,
            "Ask the protocol office — « urgent »",
        )
        .unwrap();
        bookmarks::set(&conn, ItemKind::Manual, "meetings", true).unwrap();
        recent::record(&mut conn, ItemKind::Manual, "bodies").unwrap();
        ("cop-preparation".to_string(), step)
    };

    // A new pack version: content replaced, user data kept.
    let mut files = PackFiles::embedded();
    files.0.insert(
        "manifest.toml".into(),
        b"id = \"stopover-content\"\nversion = \"9999.1\"\nlanguages = [\"en\", \"fr\", \"es\"]\n"
            .to_vec(),
    );
    {
        let core = Core::open(dir.path(), Ok(files)).unwrap();
        assert_eq!(
            core.content_status(),
            ContentStatus::Ready {
                version: "9999.1".into()
            }
        );
        let conn = core.conn();
        let list = content::checklist(&conn, &list_id, "fr").unwrap();
        let step = list.steps.iter().find(|s| s.id == step_id).unwrap();
        assert!(step.done);
        assert_eq!(step.note, "Ask the protocol office — « urgent »");
        assert_eq!(list.progress.done, 1);
        assert_eq!(bookmarks::list(&conn, "en").unwrap()[0].id, "meetings");
        assert_eq!(recent::list(&conn, "en", 10).unwrap()[0].id, "bodies");
    }

    // A damaged pack: refused with the file and reason, old content and user data usable.
    let mut broken = PackFiles::embedded();
    broken.0.insert(
        "checklists/en/cop-preparation.toml".into(),
        b"title = \"x\"\n[[items]\n".to_vec(),
    );
    let core = Core::open(dir.path(), Ok(broken)).unwrap();
    match core.content_status() {
        ContentStatus::Broken {
            file,
            reason,
            installed_version,
        } => {
            assert_eq!(file, "checklists/en/cop-preparation.toml");
            assert!(!reason.is_empty());
            assert_eq!(installed_version.as_deref(), Some("9999.1"));
        }
        other => panic!("expected a broken pack, got {other:?}"),
    }
    let conn = core.conn();
    assert!(
        content::checklist(&conn, &list_id, "en")
            .unwrap()
            .steps
            .iter()
            .any(|s| s.done)
    );
    let counts = checklists::counts(&conn).unwrap();
    assert_eq!((counts.ticks, counts.notes, counts.bookmarks), (1, 1, 1));
}

#[test]
fn missing_pack_on_first_start_is_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let missing = PackFiles::from_dir(&dir.path().join("no-such-pack"));
    let core = Core::open(dir.path(), missing).unwrap();
    match core.content_status() {
        ContentStatus::Broken {
            reason,
            installed_version,
            ..
        } => {
            assert!(reason.contains("does not exist"), "{reason}");
            assert_eq!(installed_version, None);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn ticking_an_unknown_step_is_refused() {
    let (_dir, core) = open_fresh();
    let err = checklists::set_done(&mut core.conn(), "cop-preparation", "no-such-step", true)
        .unwrap_err();
    assert_eq!(err.code().as_str(), "not_found");
    let err = checklists::set_note(
        &mut core.conn(),
        "cop-preparation",
        "x",
        &"a".repeat(10_001),
    )
    .unwrap_err();
    assert!(
        matches!(err, stopover_core::Error::Invalid { .. }),
        "{err:?}"
    );
}

#[test]
fn library_filters_by_metadata() {
    let (_dir, core) = open_fresh();
    let conn = core.conn();
    let facets = content::library_facets(&conn).unwrap();
    assert_eq!(facets.kinds, ["funding", "training", "practice", "faq"]);
    assert!(facets.regions.contains(&"africa".to_string()));
    let funding = content::list_library(
        &conn,
        "es",
        &LibraryFilter {
            kind: Some("funding".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(funding.len() >= 5);
    assert!(
        funding
            .iter()
            .all(|i| i.meta.as_ref().unwrap().kind == content::LibraryKind::Funding)
    );
    let africa = content::list_library(
        &conn,
        "en",
        &LibraryFilter {
            region: Some("africa".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(africa.iter().all(|i| {
        let r = &i.meta.as_ref().unwrap().regions;
        r.iter().any(|x| x == "africa" || x == "global")
    }));
    assert!(
        africa.len()
            < content::list_library(&conn, "en", &LibraryFilter::default())
                .unwrap()
                .len()
    );
}

#[test]
fn reading_view_html_has_working_cross_links_and_no_script() {
    let (_dir, core) = open_fresh();
    let conn = core.conn();
    let mut links = 0;
    for m in content::list_manual(&conn, "en").unwrap() {
        let item = content::get_item(&conn, ItemKind::Manual, &m.id, "en").unwrap();
        assert!(!item.html.contains("<script"));
        links += item.html.matches("href=\"#/").count();
        assert!(item.html.contains("<h2 id=\"sec-"), "{} has sections", m.id);
    }
    assert!(
        links >= 16,
        "the Manual cross-links its modules ({links} links)"
    );
}

#[test]
fn glossary_terms_are_found_by_search_and_open_at_their_entry() {
    let (_dir, core) = open_fresh();
    let conn = core.conn();
    let entry = |q: &str, lang: &str| {
        content::search(&conn, q, lang, 10)
            .unwrap()
            .into_iter()
            .take(3)
            .find(|h| h.id == content::GLOSSARY_ID)
            .and_then(|h| h.section)
    };
    // By the short form, in the reader's language or in English, and by the full name.
    assert_eq!(entry("NBSAP", "en").as_deref(), Some("nbsap"));
    assert_eq!(entry("SPANB", "fr").as_deref(), Some("nbsap"));
    assert_eq!(entry("NFP", "fr").as_deref(), Some("nfp"));
    assert_eq!(entry("PFN", "es").as_deref(), Some("nfp"));
    assert_eq!(entry("StC", "en").as_deref(), Some("stc"));
    assert_eq!(entry("Kunming", "es").as_deref(), Some("kmgbf"));
    assert_eq!(entry("DaRT", "fr").as_deref(), Some("dart"));

    // The page is in the Manual, last, with an anchor per term in every language.
    let manual = content::list_manual(&conn, "en").unwrap();
    assert_eq!(manual.last().unwrap().id, content::GLOSSARY_ID);
    for lang in ["en", "fr", "es"] {
        let page = content::get_item(&conn, ItemKind::Manual, content::GLOSSARY_ID, lang).unwrap();
        assert!(!page.fallback, "{lang}");
        for id in [
            "cop", "nfp", "cepa", "kmgbf", "ors", "dart", "informea", "gef",
        ] {
            assert!(
                page.html.contains(&format!("<h2 id=\"sec-{id}\">")),
                "{lang}: no entry `{id}`"
            );
        }
    }
}

#[test]
fn every_manual_page_names_its_sources_and_review_date() {
    let (_dir, core) = open_fresh();
    let conn = core.conn();
    for lang in ["en", "fr", "es"] {
        for m in content::list_manual(&conn, lang).unwrap() {
            let item = content::get_item(&conn, ItemKind::Manual, &m.id, lang).unwrap();
            let p = &item.provenance;
            let reviewed = p
                .reviewed
                .as_deref()
                .unwrap_or_else(|| panic!("{}: no review date", m.id));
            assert_eq!(reviewed.len(), 10, "{}", m.id);
            assert!(!p.sources.is_empty(), "{} ({lang}) names no sources", m.id);
            assert!(
                p.sources
                    .iter()
                    .all(|s| s.url.starts_with("https://") && !s.title.is_empty()),
                "{}",
                m.id
            );
        }
    }
}
