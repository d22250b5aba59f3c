//! DOCX export of a national report draft against the real embedded pack: labels in the reader's
//! language, choice labels instead of codes, accented text intact, hidden answers left out.

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

/// `word/document.xml` of a DOCX.
fn document_xml(docx: &[u8]) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(docx)).expect("a zip archive");
    let mut xml = String::new();
    zip.by_name("word/document.xml")
        .expect("word/document.xml")
        .read_to_string(&mut xml)
        .unwrap();
    xml
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

/// The paragraph right after the first one whose text is `label`.
fn after<'a>(ps: &'a [Para], label: &str) -> &'a str {
    let i = ps
        .iter()
        .position(|p| p.text == label)
        .unwrap_or_else(|| panic!("no paragraph `{label}` in {ps:#?}"));
    &ps[i + 1].text
}

fn has(ps: &[Para], text: &str) -> bool {
    ps.iter().any(|p| p.text == text)
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
            "Cycle: COP15 · Statut: brouillon · Date: {}",
            &updated[..10]
        )
    );

    let section = ps
        .iter()
        .find(|p| p.text == "Section III. But 5 : renforcer la mise en œuvre par la planification participative, les connaissances et le renforcement des capacités")
        .expect("section heading");
    assert_eq!(section.style.as_deref(), Some("Heading1"));
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
        .find(|p| p.text == "Espèce de l'Annexe I — Ligne 1")
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
        ps[1].text.starts_with("Ciclo: COP15 · Estado: borrador"),
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
