//! DOCX export of a national report draft against the real embedded pack: labels in the reader's
//! language, choice labels instead of codes, accented text intact, hidden answers left out; the
//! title, author and language in the file's properties (so Word checks French as French); the
//! notice and each question's reference; matrices as Word tables.

use std::io::Read;

use stopover_core::content::PackFiles;
use stopover_core::reports;
use stopover_core::{Core, Error};

const CMS: &str = "cms-national-report";
const PLANS: &str = "Révision «générale» prévue — año, niño, señal";

/// One paragraph of `word/document.xml`: its style (if any) and its text.
#[derive(Debug)]
struct Para {
    style: Option<String>,
    text: String,
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// A part of a DOCX (`word/document.xml`, `docProps/core.xml`, …).
fn part(docx: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(docx)).expect("a zip archive");
    let mut xml = String::new();
    zip.by_name(name)
        .unwrap_or_else(|_| panic!("{name}"))
        .read_to_string(&mut xml)
        .unwrap();
    xml
}

/// `word/document.xml` of a DOCX.
fn document_xml(docx: &[u8]) -> String {
    part(docx, "word/document.xml")
}

/// The text of the XML element `tag` (the first one).
fn element<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(&xml[start..end])
}

/// The tables of the body: rows of cell texts.
fn tables(xml: &str) -> Vec<Vec<Vec<String>>> {
    xml.split("<w:tbl>")
        .skip(1)
        .map(|t| {
            let t = t.split("</w:tbl>").next().unwrap();
            t.split("<w:tr>")
                .skip(1)
                .map(|r| {
                    r.split("<w:tc>")
                        .skip(1)
                        .map(|c| {
                            paragraphs(c)
                                .iter()
                                .map(|p| p.text.clone())
                                .collect::<Vec<_>>()
                                .join("\n")
                        })
                        .collect()
                })
                .collect()
        })
        .collect()
}

/// The paragraphs of the body, line breaks as `\n`.
fn paragraphs(xml: &str) -> Vec<Para> {
    let mut out: Vec<Para> = Vec::new();
    let mut current: Option<Para> = None;
    let mut rest = xml;
    while let Some(lt) = rest.find('<') {
        let tag_end = rest[lt..].find('>').unwrap() + lt;
        let tag = &rest[lt + 1..tag_end];
        let name = tag.split([' ', '/']).next().unwrap_or_default();
        rest = &rest[tag_end + 1..];
        match (name, current.as_mut()) {
            ("w:p", _) => {
                current = Some(Para {
                    style: None,
                    text: String::new(),
                })
            }
            ("", _) if tag == "/w:p" => out.extend(current.take()),
            ("w:pStyle", Some(p)) => {
                p.style = tag
                    .split_once("w:val=\"")
                    .map(|(_, v)| v.split('"').next().unwrap().to_string());
            }
            ("w:br", Some(p)) => p.text.push('\n'),
            ("w:t", Some(p)) if !tag.ends_with('/') => {
                let close = rest.find("</w:t>").unwrap();
                p.text.push_str(&unescape(&rest[..close]));
                rest = &rest[close..];
            }
            _ => {}
        }
    }
    out
}

/// Whether a paragraph is `label`, followed or not by its reference (`Label [III · T13]`).
fn is_label(p: &Para, label: &str) -> bool {
    p.text == label
        || p.text
            .strip_prefix(label)
            .is_some_and(|rest| rest.starts_with(" [") && rest.ends_with(']'))
}

/// The paragraph right after the first one whose text is `label`.
fn after<'a>(ps: &'a [Para], label: &str) -> &'a str {
    let i = ps
        .iter()
        .position(|p| is_label(p, label))
        .unwrap_or_else(|| panic!("no paragraph `{label}` in {ps:#?}"));
    &ps[i + 1].text
}

fn has(ps: &[Para], text: &str) -> bool {
    ps.iter().any(|p| is_label(p, text))
}

#[test]
fn the_draft_exports_to_docx_in_the_readers_language() {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path(), Ok(PackFiles::embedded())).unwrap();
    let id = reports::create_draft(&core, CMS, "COP15").unwrap().id;
    let set = |path: &str, value: &str| {
        reports::set_answer(&core, &id, path, value).unwrap();
    };
    set("general_info/contributors", "government ngos other");
    set(
        "general_info/contributors_other",
        "Comité «Oiseaux» de l'île",
    );
    set("goal_5/target_13/nbsap_exists", "no");
    set(
        "goal_5/target_13/nbsap_plans",
        &format!("{PLANS}\nsecond line & <b>"),
    );
    set("goal_5/target_13/nbsap_date", "2020-01-01"); // hidden: the NBSAP does not exist
    set("goal_5/target_13/nbsap_targets", "CIBLE-CACHÉE"); // hidden
    set("goal_5/target_13/strategic_plan_reflected", "partly");
    set("appendix_i/app1_present", "yes");
    reports::add_repeat_row(&core, &id, "appendix_i/app1_species").unwrap();
    set("appendix_i/app1_species[1]/app1_sp_name", "other");
    set(
        "appendix_i/app1_species[1]/app1_sp_name_other",
        "Chlamydotis undulata",
    );
    set("appendix_i/app1_species[1]/app1_sp_trend", "decreasing");
    let updated = reports::get_draft(&core, &id).unwrap().updated_at;

    let docx = reports::export_docx(&core, &id, "fr").unwrap();
    assert!(docx.starts_with(b"PK"), "a zip archive");
    let xml = document_xml(&docx);
    assert!(
        xml.contains(PLANS),
        "accented text is stored as it is, not mangled: {xml}"
    );
    let ps = paragraphs(&xml);

    assert_eq!(ps[0].text, "Rapport national à la CMS");
    assert_eq!(ps[0].style.as_deref(), Some("Title"));
    assert_eq!(
        ps[1].text,
        format!(
            "Cycle de rapport (Conférence des Parties): COP15 · Statut: brouillon · Date: {}",
            &updated[..10]
        )
    );
    assert_eq!(ps[2].style.as_deref(), Some("Notice"));
    assert!(
        ps[2]
            .text
            .starts_with("Outil de préparation, et non le rapport officiel.")
            && ps[2].text.contains("(ORS)"),
        "{}",
        ps[2].text
    );

    let section = ps
        .iter()
        .find(|p| p.text == "Section III. But 5 : renforcer la mise en œuvre par la planification participative, les connaissances et le renforcement des capacités [III · Goal 5]")
        .expect("section heading with its reference");
    assert_eq!(section.style.as_deref(), Some("Heading1"));
    // each question carries its place in the official format
    assert!(
        ps.iter()
            .any(|p| p.text == "Le pays dispose-t-il d'une SPANB en vigueur ? [III · T13]")
    );
    assert_eq!(
        after(&ps, "Le pays dispose-t-il d'une SPANB en vigueur ?"),
        "Non"
    );
    assert_eq!(
        after(
            &ps,
            "Les priorités nationales reflètent-elles le Plan stratégique pour les espèces migratrices ?"
        ),
        "En partie"
    );
    assert_eq!(
        after(&ps, "Qui a contribué à ce rapport ?"),
        "Organismes publics; Organisations non gouvernementales; Autre: Comité «Oiseaux» de l'île"
    );
    assert_eq!(
        after(&ps, "Projets d'élaboration ou de révision de la SPANB"),
        format!("{PLANS}\nsecond line & <b>")
    );
    assert!(
        !has(&ps, "partly") && !has(&ps, "no"),
        "codes are not shown"
    );

    // a repeat row is a sub-heading, its select shows the label ("other" with its free text)
    let row = ps
        .iter()
        .find(|p| is_label(p, "Espèce de l'Annexe I — Ligne 1"))
        .expect("row heading");
    assert_eq!(row.style.as_deref(), Some("Heading2"));
    assert_eq!(after(&ps, "Espèce"), "Autre: Chlamydotis undulata");
    assert_eq!(
        after(&ps, "Tendance de la population dans le pays"),
        "En diminution"
    );

    // a relevant question without an answer shows what is missing
    assert_eq!(after(&ps, "Nom de la Partie"), "—");

    // hidden answers (and their questions) are left out
    assert!(
        !xml.contains("2020-01-01") && !xml.contains("CIBLE"),
        "hidden answer exported"
    );
    assert!(!has(&ps, "Date d'adoption de la SPANB actuelle"));
    assert!(!has(
        &ps,
        "Objectifs nationaux concernant les espèces migratrices"
    ));
    // notes are instructions, not answers
    assert!(
        !ps.iter()
            .any(|p| p.text.starts_with("Cette section indique la Partie"))
    );

    let ps = paragraphs(&document_xml(
        &reports::export_docx(&core, &id, "es").unwrap(),
    ));
    assert_eq!(ps[0].text, "Informe nacional para la CMS");
    assert!(
        ps[1].text.starts_with("Ciclo de presentación de informes (Conferencia de las Partes): COP15 · Estado: borrador"),
        "{}",
        ps[1].text
    );
    assert_eq!(after(&ps, "¿Cuenta el país con una EPANB en vigor?"), "No");
    assert_eq!(
        after(&ps, "Tendencia de la población en el país"),
        "En disminución"
    );
    assert!(has(&ps, "Especie del Apéndice I — Fila 1"));
    assert!(ps.iter().any(|p| p.text.contains("año, niño, señal")));
    assert!(!ps.iter().any(|p| p.text.contains("CIBLE")));
}

#[test]
fn unknown_language_or_draft_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path(), Ok(PackFiles::embedded())).unwrap();
    let id = reports::create_draft(&core, CMS, "COP15").unwrap().id;
    assert_eq!(
        reports::export_docx(&core, &id, "de")
            .unwrap_err()
            .code()
            .as_str(),
        "unknown_language"
    );
    let err = reports::export_docx(&core, "no-such-draft", "fr").unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");
    // an empty draft still exports: title, the cycle line and every relevant question as "—"
    let ps = paragraphs(&document_xml(
        &reports::export_docx(&core, &id, "en").unwrap(),
    ));
    assert_eq!(ps[0].text, "CMS national report");
    assert_eq!(after(&ps, "Name of the Party"), "—");
}

#[test]
fn the_file_says_its_title_author_and_language_so_word_checks_french_as_french() {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path(), Ok(PackFiles::embedded())).unwrap();
    let id = reports::create_draft(&core, CMS, "COP15").unwrap().id;

    // nobody signed in: the author is the app
    let docx = reports::export_docx(&core, &id, "fr").unwrap();
    let props = part(&docx, "docProps/core.xml");
    assert_eq!(
        element(&props, "dc:title"),
        Some("Rapport national à la CMS")
    );
    assert_eq!(element(&props, "dc:creator"), Some("Stopover"));
    assert_eq!(element(&props, "cp:lastModifiedBy"), Some("Stopover"));
    assert_eq!(element(&props, "dc:language"), Some("fr-FR"));
    // the default language of every run, which Word's spelling checker follows
    let styles = part(&docx, "word/styles.xml");
    let defaults = element(&styles, "w:rPrDefault").unwrap();
    assert!(defaults.contains(r#"<w:lang w:val="fr-FR""#), "{defaults}");
    assert!(!styles.contains("en-US"));

    // signed in: the person's name (as the server gave it at sign-in), escaped for XML
    core.conn()
        .execute_batch(
            "INSERT INTO sync_state (key, value) VALUES ('server_url', 'https://e.example'), \
             ('account', 'amina'), ('signed_in', '1'), ('display_name', 'Amina Łódzka & <Co>')",
        )
        .unwrap();
    for (lang, tag, title) in [
        ("es", "es-ES", "Informe nacional para la CMS"),
        ("en", "en-GB", "CMS national report"),
    ] {
        let docx = reports::export_docx(&core, &id, lang).unwrap();
        let props = part(&docx, "docProps/core.xml");
        assert_eq!(
            element(&props, "dc:creator"),
            Some("Amina Łódzka &amp; &lt;Co&gt;")
        );
        assert_eq!(element(&props, "dc:title"), Some(title));
        assert_eq!(element(&props, "dc:language"), Some(tag));
        assert!(part(&docx, "word/styles.xml").contains(&format!(r#"<w:lang w:val="{tag}""#)));
    }
    // signed out: the app again
    core.conn()
        .execute(
            "UPDATE sync_state SET value = '0' WHERE key = 'signed_in'",
            [],
        )
        .unwrap();
    let props = part(
        &reports::export_docx(&core, &id, "en").unwrap(),
        "docProps/core.xml",
    );
    assert_eq!(element(&props, "dc:creator"), Some("Stopover"));
}

#[test]
fn a_matrix_is_a_word_table_with_a_column_per_choice() {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path(), Ok(PackFiles::embedded())).unwrap();
    let id = reports::create_draft(&core, CMS, "COP15").unwrap().id;
    let matrix = "goal_5/target_15/research_matrix";
    reports::set_answer(&core, &id, &format!("{matrix}/research_birds"), "yes").unwrap();
    reports::set_answer(&core, &id, &format!("{matrix}/research_fish"), "partly").unwrap();

    let xml = document_xml(&reports::export_docx(&core, &id, "fr").unwrap());
    let tables = tables(&xml);
    let research = tables
        .iter()
        .find(|t| t.iter().any(|row| row[0] == "Oiseaux"))
        .expect("the research matrix as a table");
    assert_eq!(research[0], ["Question", "Oui", "En partie", "Non"]);
    let row = |name: &str| research.iter().find(|r| r[0].starts_with(name)).unwrap();
    assert_eq!(row("Oiseaux"), &["Oiseaux", "X", "", ""]);
    assert_eq!(row("Poissons"), &["Poissons", "", "X", ""]);
    // unanswered: a dash after the label, no mark
    assert_eq!(row("Insectes"), &["Insectes —", "", "", ""]);
    assert_eq!(research.len(), 7, "a header and six groups");
    // the matrix's questions are not repeated as question/answer paragraphs
    let ps = paragraphs(xml.split("<w:tbl>").next().unwrap());
    assert!(!ps.iter().any(|p| p.text.starts_with("Oiseaux")));
    // the caption is a heading with its reference
    assert!(paragraphs(&xml).iter().any(|p| p.text
        == "Recherche sur les espèces migratrices [III · T15]"
        && p.style.as_deref() == Some("Heading2")));
}

#[test]
fn an_aewa_report_names_its_cycle_after_the_meeting_of_the_parties() {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path(), Ok(PackFiles::embedded())).unwrap();
    let id = reports::create_draft(&core, "aewa-national-report", "MOP8")
        .unwrap()
        .id;
    let ps = paragraphs(&document_xml(
        &reports::export_docx(&core, &id, "fr").unwrap(),
    ));
    assert!(
        ps[1]
            .text
            .starts_with("Cycle de rapport (Réunion des Parties): MOP8 · "),
        "{}",
        ps[1].text
    );
    assert!(ps[2].text.contains("(AEWA)"), "{}", ps[2].text);
    let ps = paragraphs(&document_xml(
        &reports::export_docx(&core, &id, "en").unwrap(),
    ));
    assert!(
        ps[1]
            .text
            .starts_with("Reporting cycle (Meeting of the Parties): MOP8 · ")
    );
    assert!(ps[2].text.contains("The official AEWA national report"));
}
