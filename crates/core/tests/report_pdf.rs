//! PDF export of a national report draft against the real embedded pack, read back with lopdf as
//! a PDF reader reads it: labels in the reader's language, choice labels instead of codes, French
//! and Spanish characters exactly as typed, hidden answers left out, long answers wrapped, long
//! reports over numbered pages, no font file embedded.

use std::collections::BTreeMap;

use lopdf::content::Content;
use lopdf::{Document, Object};
use stopover_core::content::PackFiles;
use stopover_core::reports;
use stopover_core::{Core, Error};

const CMS: &str = "cms-national-report";
const PLANS: &str = "Révision «générale» prévue — año, niño, señal";
/// Every accented letter and sign of French and Spanish the issue names.
const SIGNS: &str = "é è ê ë à â ç ô û ù ñ ¿ ¡ œ æ « » ’ € Œ Æ Ç É Ñ";
/// A4 in points and the 20 mm margin.
const PAGE: (f32, f32) = (595.28, 841.89);
const MARGIN: f32 = 56.69;

/// One line of text as drawn: the font it is set in, its size and place, its text.
#[derive(Debug, Clone)]
struct Line {
    font: String,
    size: f32,
    x: f32,
    y: f32,
    text: String,
}

/// The lines of each page, in drawing order, decoded with each font's own encoding.
fn pages(pdf: &[u8]) -> Vec<Vec<Line>> {
    let doc = Document::load_mem(pdf).expect("a PDF lopdf can read");
    let number = |o: &Object| o.as_float().expect("a number");
    let mut out = Vec::new();
    for page_id in doc.get_pages().into_values() {
        let fonts: BTreeMap<Vec<u8>, _> = doc
            .get_page_fonts(page_id)
            .unwrap()
            .into_iter()
            .map(|(name, dict)| {
                let base =
                    String::from_utf8(dict.get(b"BaseFont").unwrap().as_name().unwrap().to_vec())
                        .unwrap();
                (name, (base, dict.get_font_encoding(&doc).unwrap()))
            })
            .collect();
        let content = Content::decode(&doc.get_page_content(page_id)).unwrap();
        let mut lines = Vec::new();
        let (mut font, mut size, mut x, mut y) = (None, 0.0, 0.0, 0.0);
        for op in &content.operations {
            match op.operator.as_str() {
                "Tf" => {
                    font = Some(&fonts[op.operands[0].as_name().unwrap()]);
                    size = number(&op.operands[1]);
                }
                "Td" => (x, y) = (number(&op.operands[0]), number(&op.operands[1])),
                "Tj" => {
                    let (base, encoding) = font.expect("a font before text");
                    let bytes = op.operands[0].as_str().unwrap();
                    lines.push(Line {
                        font: base.clone(),
                        size,
                        x,
                        y,
                        text: Document::decode_text(encoding, bytes).unwrap(),
                    });
                }
                _ => {}
            }
        }
        out.push(lines);
    }
    out
}

/// The plain text of the whole document as a reader extracts it for copy and search.
fn plain_text(pdf: &[u8]) -> String {
    let doc = Document::load_mem(pdf).unwrap();
    let numbers: Vec<u32> = doc.get_pages().into_keys().collect();
    doc.extract_text(&numbers).unwrap()
}

/// The body as paragraphs: runs of lines in the same font, size and indent, over page breaks;
/// footers (8 pt) left out. Each paragraph is its lines.
fn paragraphs(pages: &[Vec<Line>]) -> Vec<(String, f32, Vec<String>)> {
    let mut out: Vec<(String, f32, Vec<String>)> = Vec::new();
    let mut last_key = None;
    for line in pages.iter().flatten().filter(|l| l.size > 8.0) {
        let key = (line.font.clone(), line.size.to_bits(), line.x.to_bits());
        match out.last_mut() {
            Some(p) if last_key.as_ref() == Some(&key) => p.2.push(line.text.clone()),
            _ => out.push((line.font.clone(), line.size, vec![line.text.clone()])),
        }
        last_key = Some(key);
    }
    out
}

/// The paragraph right after the bold 10 pt label `label` (wrapped lines joined by spaces),
/// with its lines joined by `\n`.
fn after(ps: &[(String, f32, Vec<String>)], label: &str) -> String {
    let i = ps
        .iter()
        .position(|(font, size, lines)| {
            font == "Helvetica-Bold" && *size == 10.0 && lines.join(" ") == label
        })
        .unwrap_or_else(|| panic!("no question `{label}` in {ps:#?}"));
    let (font, _, lines) = &ps[i + 1];
    assert_eq!(font, "Helvetica", "an answer is in the regular face");
    lines.join("\n")
}

fn heading(ps: &[(String, f32, Vec<String>)], text: &str) -> Option<f32> {
    ps.iter()
        .find(|(font, _, lines)| font == "Helvetica-Bold" && lines.join(" ") == text)
        .map(|(_, size, _)| *size)
}

#[test]
fn the_draft_exports_to_pdf_in_the_readers_language() {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path(), Ok(PackFiles::embedded())).unwrap();
    let id = reports::create_draft(&core, CMS, "COP15").unwrap().id;
    let set = |path: &str, value: &str| {
        reports::set_answer(&core, &id, path, value).unwrap();
    };
    set("general_info/party_name", SIGNS);
    set("general_info/contributors", "government ngos other");
    set(
        "general_info/contributors_other",
        "Comité «Oiseaux» de l'île",
    );
    set("goal_5/target_13/nbsap_exists", "no");
    set(
        "goal_5/target_13/nbsap_plans",
        &format!("{PLANS}\nsecond line & <b> (1) \\ fin"),
    );
    set("goal_5/target_13/nbsap_date", "2020-01-01"); // hidden: the NBSAP does not exist
    set("goal_5/target_13/nbsap_targets", "CIBLE-CACHÉE"); // hidden
    set("goal_5/target_13/strategic_plan_reflected", "partly");
    set("appendix_i/app1_present", "yes");
    reports::add_repeat_row(&core, &id, "appendix_i/app1_species").unwrap();
    // a species missing from the CMS species list: "other" and its free text
    set("appendix_i/app1_species[1]/app1_sp_name", "other");
    set(
        "appendix_i/app1_species[1]/app1_sp_name_other",
        "Chlamydotis undulata",
    );
    set("appendix_i/app1_species[1]/app1_sp_trend", "decreasing");
    // what WinAnsi cannot show is a visible "?", never a failed export; decomposed accents are
    // composed
    set(
        "appendix_i/app1_species[1]/app1_sp_common_name",
        "Дрофа-красотка 🦆 Outarde houbara, Hubara asia\u{301}tica",
    );
    let long = "Les zones humides côtières accueillent chaque hiver des milliers d’oiseaux \
                migrateurs ; leur protection dépend d’une coopération régionale étroite. "
        .repeat(6);
    let long = long.trim_end();
    set("general_info/general_comments", long);
    let updated = reports::get_draft(&core, &id).unwrap().updated_at;

    let pdf = reports::export_pdf(&core, &id, "fr").unwrap();
    assert!(pdf.starts_with(b"%PDF-"), "a PDF file");
    assert_eq!(
        pdf,
        reports::export_pdf(&core, &id, "fr").unwrap(),
        "the same draft gives the same bytes"
    );
    let pages = pages(&pdf);
    let first = &pages[0];
    assert_eq!(first[0].text, "Rapport national à la CMS");
    assert_eq!(
        (first[0].font.as_str(), first[0].size),
        ("Helvetica-Bold", 18.0)
    );
    assert_eq!(
        first[1].text,
        format!(
            "Cycle: COP15 · Statut: brouillon · Date: {}",
            &updated[..10]
        )
    );

    let ps = paragraphs(&pages);
    assert_eq!(
        heading(
            &ps,
            "Section III. But 5 : renforcer la mise en œuvre par la planification participative, les connaissances et le renforcement des capacités"
        ),
        Some(14.0),
        "section heading"
    );
    assert_eq!(after(&ps, "Nom de la Partie"), SIGNS, "every sign exactly");
    assert_eq!(
        after(&ps, "Le pays dispose-t-il d'une SPANB en vigueur ?"),
        "Non"
    );
    // a label longer than a line wraps and stays whole
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
        format!("{PLANS}\nsecond line & <b> (1) \\ fin"),
        "typed line breaks kept, PDF delimiters escaped"
    );
    assert!(
        !ps.iter()
            .flat_map(|p| &p.2)
            .any(|l| l == "partly" || l == "no"),
        "codes are not shown"
    );

    // a long answer wraps over several lines inside the margins and loses no word
    let i = ps
        .iter()
        .position(|p| p.2.join(" ") == "Autres observations sur l'élaboration du rapport")
        .expect("the comments question");
    let wrapped = &ps[i + 1].2;
    assert!(wrapped.len() >= 5, "{wrapped:#?}");
    assert_eq!(wrapped.join(" "), long);
    let widest = wrapped.iter().map(|l| l.chars().count()).max().unwrap();
    assert!(
        widest < long.chars().count() / 4,
        "lines are page-wide, not one long run"
    );

    // a repeat row is a sub-heading, its select shows the label ("other" with its free text)
    assert_eq!(heading(&ps, "Espèce de l'Annexe I — Ligne 1"), Some(11.5));
    assert_eq!(after(&ps, "Espèce"), "Autre: Chlamydotis undulata");
    assert_eq!(
        after(&ps, "Tendance de la population dans le pays"),
        "En diminution"
    );
    assert_eq!(
        after(&ps, "Nom commun"),
        "?????-???????? ? Outarde houbara, Hubara asiática"
    );

    // a relevant question without an answer shows what is missing
    assert_eq!(after(&ps, "Adresse postale"), "—");

    // hidden answers (and their questions) are left out; notes are instructions, not answers
    let text = plain_text(&pdf);
    assert!(
        !text.contains("2020-01-01") && !text.contains("CIBLE"),
        "hidden answer exported"
    );
    assert!(!text.contains("Date d'adoption de la SPANB actuelle"));
    assert!(!text.contains("Objectifs nationaux concernant les espèces migratrices"));
    assert!(!text.contains("Cette section indique la Partie"));
    // what a reader copies or searches is what was typed
    assert!(text.contains(SIGNS), "{text}");
    assert!(text.contains(PLANS));

    // every page has the title and its number in the footer, and text stays inside the margins
    let total = pages.len();
    for (i, page) in pages.iter().enumerate() {
        let footer: Vec<&str> = page
            .iter()
            .filter(|l| l.size == 8.0)
            .map(|l| l.text.as_str())
            .collect();
        assert_eq!(
            footer,
            [
                "Rapport national à la CMS",
                &format!("Page {} / {total}", i + 1)
            ]
        );
        for line in page.iter().filter(|l| l.size > 8.0) {
            assert!(line.x >= MARGIN - 0.01 && line.x < PAGE.0 / 2.0, "{line:?}");
            assert!(line.y > MARGIN && line.y < PAGE.1 - MARGIN, "{line:?}");
        }
    }

    let es = paragraphs(&self::pages(
        &reports::export_pdf(&core, &id, "es").unwrap(),
    ));
    assert_eq!(es[0].2, ["Informe nacional para la CMS"]);
    assert!(
        es[1].2[0].starts_with("Ciclo: COP15 · Estado: borrador"),
        "{:?}",
        es[1]
    );
    assert_eq!(after(&es, "¿Cuenta el país con una EPANB en vigor?"), "No");
    assert_eq!(
        after(&es, "Tendencia de la población en el país"),
        "En disminución"
    );
    assert_eq!(heading(&es, "Especie del Apéndice I — Fila 1"), Some(11.5));
    assert!(
        after(&es, "Planes para elaborar o revisar la EPANB").starts_with(PLANS),
        "{es:#?}"
    );
}

#[test]
fn no_font_file_is_embedded_only_the_standard_helvetica() {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path(), Ok(PackFiles::embedded())).unwrap();
    let id = reports::create_draft(&core, CMS, "COP15").unwrap().id;
    let pdf = reports::export_pdf(&core, &id, "en").unwrap();
    let doc = Document::load_mem(&pdf).unwrap();
    let mut fonts = Vec::new();
    for object in doc.objects.values() {
        let Ok(dict) = object.as_dict() else { continue };
        assert!(
            !dict.has(b"FontFile") && !dict.has(b"FontFile2") && !dict.has(b"FontFile3"),
            "a font program is embedded: {dict:?}"
        );
        if dict.get(b"Type").and_then(Object::as_name).ok() == Some(b"Font".as_slice()) {
            let name = |key: &[u8]| {
                String::from_utf8(dict.get(key).unwrap().as_name().unwrap().to_vec()).unwrap()
            };
            fonts.push((name(b"BaseFont"), name(b"Encoding")));
        }
    }
    fonts.sort();
    assert_eq!(
        fonts,
        [
            ("Helvetica".to_string(), "WinAnsiEncoding".to_string()),
            ("Helvetica-Bold".to_string(), "WinAnsiEncoding".to_string())
        ]
    );
}

#[test]
fn a_long_report_runs_over_numbered_pages() {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path(), Ok(PackFiles::embedded())).unwrap();
    let id = reports::create_draft(&core, CMS, "COP15").unwrap().id;
    reports::set_answer(&core, &id, "appendix_i/app1_present", "yes").unwrap();
    // picked from the species list; none of these has a French common name in it, so the
    // French label is the scientific name
    let species = [
        ("coracias_garrulus", "Coracias garrulus"),
        ("calidris_pusilla", "Calidris pusilla"),
        ("calidris_tenuirostris", "Calidris tenuirostris"),
        ("phoebastria_albatrus", "Phoebastria albatrus"),
        ("pterodroma_cahow", "Pterodroma cahow"),
        ("diomedea_amsterdamensis", "Diomedea amsterdamensis"),
    ];
    for (i, (name, _)) in species.iter().enumerate() {
        reports::add_repeat_row(&core, &id, "appendix_i/app1_species").unwrap();
        let row = format!("appendix_i/app1_species[{}]", i + 1);
        reports::set_answer(&core, &id, &format!("{row}/app1_sp_name"), name).unwrap();
        reports::set_answer(
            &core,
            &id,
            &format!("{row}/app1_sp_measures"),
            &"Surveillance des sites d’hivernage et sensibilisation des chasseurs. ".repeat(8),
        )
        .unwrap();
    }

    let pdf = reports::export_pdf(&core, &id, "fr").unwrap();
    let pages = pages(&pdf);
    let total = pages.len();
    assert!(total >= 5, "{total} pages");
    for (i, page) in pages.iter().enumerate() {
        // every page but the last (which holds whatever remains) is filled
        assert!(
            i + 1 == total || page.iter().filter(|l| l.size > 8.0).count() > 10,
            "page {} is not filled",
            i + 1
        );
        assert_eq!(
            page.last().map(|l| l.text.as_str()),
            Some(format!("Page {} / {total}", i + 1).as_str())
        );
    }
    // every row made it, in order, each on the page its heading is on with its name under it
    let ps = paragraphs(&pages);
    let rows: Vec<usize> = (1..=species.len())
        .map(|n| {
            ps.iter()
                .position(|p| p.2.join(" ") == format!("Espèce de l'Annexe I — Ligne {n}"))
                .unwrap_or_else(|| panic!("row {n}"))
        })
        .collect();
    assert!(rows.windows(2).all(|w| w[0] < w[1]));
    for (row, (_, label)) in rows.iter().zip(species) {
        assert_eq!(ps[row + 1].2.join(" "), "Espèce");
        assert_eq!(ps[row + 2].2, [label]);
    }
    // the page count the reader sees is the one printed
    let doc = Document::load_mem(&pdf).unwrap();
    assert_eq!(doc.get_pages().len(), total);
}

#[test]
fn unknown_language_or_draft_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path(), Ok(PackFiles::embedded())).unwrap();
    let id = reports::create_draft(&core, CMS, "COP15").unwrap().id;
    assert_eq!(
        reports::export_pdf(&core, &id, "de")
            .unwrap_err()
            .code()
            .as_str(),
        "unknown_language"
    );
    let err = reports::export_pdf(&core, "no-such-draft", "fr").unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");
    // an empty draft still exports: title, the cycle line and every relevant question as "—"
    let ps = paragraphs(&pages(&reports::export_pdf(&core, &id, "en").unwrap()));
    assert_eq!(ps[0].2, ["CMS national report"]);
    assert_eq!(after(&ps, "Name of the Party"), "—");
}
