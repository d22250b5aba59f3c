//! PDF export of a national report draft against the real embedded pack, read back with lopdf as
//! a PDF reader reads it (and with poppler's `pdftotext` where it is installed): labels in the
//! reader's language, choice labels instead of codes, every letter of Latin, Greek and Cyrillic
//! exactly as typed through an embedded subset of DejaVu Sans with a ToUnicode map, the notice
//! and the references to the official format, matrices as tables, hidden answers left out,
//! long answers wrapped, long reports over numbered pages, right-to-left text refused by name.

use std::collections::BTreeMap;

use lopdf::content::Content;
use lopdf::{Document, Object};
use sha2::{Digest, Sha256};
use stopover_core::content::PackFiles;
use stopover_core::reports;
use stopover_core::{Core, Error};

const CMS: &str = "cms-national-report";
const PLANS: &str = "Révision «générale» prévue — año, niño, señal";
/// Every accented letter and sign of French and Spanish.
const SIGNS: &str = "é è ê ë à â ç ô û ù ñ ¿ ¡ œ æ « » ’ € Œ Æ Ç É Ñ";
/// Names from CMS Parties in their own scripts, as issue 9 asks them to come back.
const NAMES: &str = "Łódź – Кыргызстан – Türkiye ğş";
/// A4 in points and the 20 mm margin.
const PAGE: (f32, f32) = (595.28, 841.89);
const MARGIN: f32 = 56.69;
const FOOTER: f32 = 8.0;

/// One line of text as drawn: the font it is set in (without its subset tag), its size and
/// place, its text as the ToUnicode map gives it back.
#[derive(Debug, Clone)]
struct Line {
    font: String,
    size: f32,
    x: f32,
    y: f32,
    text: String,
}

/// The lines of each page, in drawing order.
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
                let base = base
                    .split_once('+')
                    .map_or(base.clone(), |(_, b)| b.to_string());
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

/// The plain text of the whole document as lopdf extracts it for copy and search.
fn plain_text(pdf: &[u8]) -> String {
    let doc = Document::load_mem(pdf).unwrap();
    let numbers: Vec<u32> = doc.get_pages().into_keys().collect();
    doc.extract_text(&numbers).unwrap()
}

/// The text as poppler's `pdftotext` extracts it (what a reader's copy and search give), or
/// `None` where poppler-utils is not installed (`make test` installs it; CI must have it).
fn pdftotext(pdf: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, pdf).unwrap();
    match std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
    {
        Ok(out) => {
            assert!(
                out.status.success(),
                "pdftotext failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some(String::from_utf8(out.stdout).unwrap())
        }
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "pdftotext is needed in CI (poppler-utils): {e}"
            );
            eprintln!("pdftotext not installed ({e}); checked with lopdf only");
            None
        }
    }
}

/// The body as paragraphs: runs of lines in the same font, size and indent, over page breaks;
/// footers and references (8 pt) left out. Each paragraph is its lines.
fn paragraphs(pages: &[Vec<Line>]) -> Vec<(String, f32, Vec<String>)> {
    let mut out: Vec<(String, f32, Vec<String>)> = Vec::new();
    let mut last_key = None;
    for line in pages.iter().flatten().filter(|l| l.size > FOOTER) {
        let key = (line.font.clone(), line.size.to_bits(), line.x.to_bits());
        match out.last_mut() {
            Some(p) if last_key.as_ref() == Some(&key) => p.2.push(line.text.clone()),
            _ => out.push((line.font.clone(), line.size, vec![line.text.clone()])),
        }
        last_key = Some(key);
    }
    out
}

/// The paragraph right after the bold 9.5 pt question `label` (wrapped lines joined by
/// spaces), with its lines joined by `\n`.
fn after(ps: &[(String, f32, Vec<String>)], label: &str) -> String {
    let i = ps
        .iter()
        .position(|(font, size, lines)| {
            font == "DejaVuSans-Bold" && *size == 9.5 && lines.join(" ") == label
        })
        .unwrap_or_else(|| panic!("no question `{label}` in {ps:#?}"));
    let (font, _, lines) = &ps[i + 1];
    assert_eq!(font, "DejaVuSans", "an answer is in the regular face");
    lines.join("\n")
}

fn heading(ps: &[(String, f32, Vec<String>)], text: &str) -> Option<f32> {
    ps.iter()
        .find(|(font, _, lines)| font == "DejaVuSans-Bold" && lines.join(" ") == text)
        .map(|(_, size, _)| *size)
}

fn fresh() -> (tempfile::TempDir, Core, String) {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path(), Ok(PackFiles::embedded())).unwrap();
    let id = reports::create_draft(&core, CMS, "COP15").unwrap().id;
    (dir, core, id)
}

#[test]
fn the_draft_exports_to_pdf_in_the_readers_language() {
    let (_dir, core, id) = fresh();
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
    // Cyrillic and Greek print as typed; a decomposed accent is composed
    set(
        "appendix_i/app1_species[1]/app1_sp_common_name",
        "Дрофа-красотка, Ωτίδα, Outarde houbara, Hubara asia\u{301}tica",
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
        ("DejaVuSans-Bold", 17.0)
    );
    assert_eq!(
        first[1].text,
        format!(
            "Cycle de rapport (Conférence des Parties): COP15 · Statut: brouillon · Date: {}",
            &updated[..10]
        )
    );

    let ps = paragraphs(&pages);
    // the notice, on the first page, under the title
    let notice = ps[2].2.join(" ");
    assert!(
        notice.starts_with("Outil de préparation, et non le rapport officiel.")
            && notice.contains("(CMS)")
            && notice.contains("(ORS)"),
        "{notice}"
    );
    assert_eq!(
        heading(
            &ps,
            "Section III. But 5 : renforcer la mise en œuvre par la planification participative, les connaissances et le renforcement des capacités"
        ),
        Some(13.0),
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

    // each question is followed by its place in the official format, small and grey
    let lines: Vec<&Line> = pages.iter().flatten().collect();
    let at = lines
        .iter()
        .position(|l| l.text == "Le pays dispose-t-il d'une SPANB en vigueur ?")
        .unwrap();
    let reference = lines[at + 1];
    assert_eq!(
        (reference.text.as_str(), reference.size, reference.y),
        ("[III · T13]", 8.0, lines[at].y),
        "on the question's line"
    );
    assert!(reference.x > lines[at].x);

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
    assert_eq!(heading(&ps, "Espèce de l'Annexe I — Ligne 1"), Some(11.0));
    assert_eq!(after(&ps, "Espèce"), "Autre: Chlamydotis undulata");
    assert_eq!(
        after(&ps, "Tendance de la population dans le pays"),
        "En diminution"
    );
    assert_eq!(
        after(&ps, "Nom commun"),
        "Дрофа-красотка, Ωτίδα, Outarde houbara, Hubara asiática"
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
    assert!(text.contains("Дрофа-красотка, Ωτίδα"));

    // every page has the title and its number in the footer, and text stays inside the margins
    let total = pages.len();
    for (i, page) in pages.iter().enumerate() {
        let footer: Vec<&str> = page
            .iter()
            .filter(|l| l.size == FOOTER && l.y < MARGIN)
            .map(|l| l.text.as_str())
            .collect();
        assert_eq!(
            footer,
            [
                "Rapport national à la CMS",
                &format!("Page {} / {total}", i + 1)
            ]
        );
        for line in page.iter().filter(|l| l.y > MARGIN) {
            assert!(
                line.x >= MARGIN - 0.01 && line.x < PAGE.0 - MARGIN,
                "{line:?}"
            );
            assert!(line.y < PAGE.1 - MARGIN, "{line:?}");
        }
    }

    let es = paragraphs(&self::pages(
        &reports::export_pdf(&core, &id, "es").unwrap(),
    ));
    assert_eq!(es[0].2, ["Informe nacional para la CMS"]);
    assert!(
        es[1].2[0].starts_with(
            "Ciclo de presentación de informes (Conferencia de las Partes): COP15 · Estado: borrador"
        ),
        "{:?}",
        es[1]
    );
    assert!(es[2].2[0].starts_with("Herramienta de preparación, no el informe oficial."));
    assert_eq!(after(&es, "¿Cuenta el país con una EPANB en vigor?"), "No");
    assert_eq!(
        after(&es, "Tendencia de la población en el país"),
        "En disminución"
    );
    assert_eq!(heading(&es, "Especie del Apéndice I — Fila 1"), Some(11.0));
    assert!(
        after(&es, "Planes para elaborar o revisar la EPANB").starts_with(PLANS),
        "{es:#?}"
    );
}

#[test]
fn names_in_latin_extended_and_cyrillic_come_back_exactly_as_typed_in_every_language() {
    let (_dir, core, id) = fresh();
    reports::set_answer(&core, &id, "general_info/party_name", NAMES).unwrap();
    reports::set_answer(
        &core,
        &id,
        "general_info/general_comments",
        &format!("Ateliers à {NAMES}, puis Αθήνα."),
    )
    .unwrap();
    for (lang, label) in [
        ("en", "Name of the Party"),
        ("fr", "Nom de la Partie"),
        ("es", "Nombre de la Parte"),
    ] {
        let pdf = reports::export_pdf(&core, &id, lang).unwrap();
        // as lopdf reads it: the line under the question, and the whole text
        assert_eq!(after(&paragraphs(&pages(&pdf)), label), NAMES, "{lang}");
        let text = plain_text(&pdf);
        assert!(text.contains(NAMES), "{lang}: {text}");
        assert!(text.contains("Αθήνα"), "{lang}");
        assert!(!text.contains('?'.to_string().repeat(3).as_str()), "{lang}");
        // as poppler reads it
        if let Some(text) = pdftotext(&pdf) {
            assert!(text.contains(NAMES), "{lang}: pdftotext gave {text}");
            assert!(text.contains(label), "{lang}");
        }
    }
}

#[test]
fn a_subset_of_dejavu_sans_is_embedded_with_a_tounicode_map() {
    // the shipped fonts are the ones fonts/README.md names
    for (file, sum) in [
        (
            "DejaVuSans.ttf",
            "abdc775b21b1bc470d50c97e790d276f2054b7504e56e5bd3e64f48d68582322",
        ),
        (
            "DejaVuSans-Bold.ttf",
            "0d977336a6d5fba34eab8e3199eb218327161b5143749f802982c2bc34df0c96",
        ),
    ] {
        let bytes = std::fs::read(format!("{}/fonts/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let digest: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(digest, sum, "{file}");
    }

    let (_dir, core, id) = fresh();
    reports::set_answer(&core, &id, "general_info/party_name", NAMES).unwrap();
    let pdf = reports::export_pdf(&core, &id, "en").unwrap();
    let doc = Document::load_mem(&pdf).unwrap();
    let mut type0 = Vec::new();
    let mut programs = Vec::new();
    for object in doc.objects.values() {
        let dict = match object {
            Object::Dictionary(d) => d,
            Object::Stream(s) => &s.dict,
            _ => continue,
        };
        if dict.get(b"Type").and_then(Object::as_name).ok() == Some(b"Font".as_slice())
            && dict.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Type0".as_slice())
        {
            let name =
                String::from_utf8(dict.get(b"BaseFont").unwrap().as_name().unwrap().to_vec())
                    .unwrap();
            assert_eq!(
                dict.get(b"Encoding").unwrap().as_name().unwrap(),
                b"Identity-H"
            );
            assert!(dict.has(b"ToUnicode"), "{name}: copy and search need it");
            type0.push(name);
        }
        if let Ok(file) = dict.get(b"FontFile2") {
            let stream = doc
                .get_object(file.as_reference().unwrap())
                .unwrap()
                .as_stream()
                .unwrap();
            programs.push(stream.content.len());
        }
    }
    type0.sort_by_key(|n| n.split_once('+').map(|(_, b)| b.to_string()));
    assert_eq!(type0.len(), 2, "{type0:?}");
    // a subset is named TAG+Name, the tag six capital letters
    for (name, base) in type0.iter().zip(["DejaVuSans", "DejaVuSans-Bold"]) {
        let (tag, rest) = name.split_once('+').unwrap();
        assert!(
            tag.len() == 6 && tag.chars().all(|c| c.is_ascii_uppercase()),
            "{name}"
        );
        assert_eq!(rest, base);
    }
    // only the glyphs used: a small fraction of the 700 KB fonts
    assert_eq!(programs.len(), 2);
    for size in programs {
        assert!(size < 60_000, "an embedded font program of {size} bytes");
    }
    assert!(pdf.len() < 200_000, "{} bytes", pdf.len());
}

#[test]
fn right_to_left_text_and_characters_the_font_lacks_are_refused_by_question() {
    let (_dir, core, id) = fresh();
    reports::set_answer(&core, &id, "general_info/party_name", "Maroc").unwrap();
    reports::set_answer(
        &core,
        &id,
        "general_info/focal_point/nfp_institution",
        "وزارة البيئة",
    )
    .unwrap();
    for (lang, label) in [("fr", "Institution"), ("en", "Institution")] {
        let err = reports::export_pdf(&core, &id, lang).unwrap_err();
        assert_eq!(err.code().as_str(), "pdf_right_to_left", "{err}");
        let report = stopover_core::ErrorReport::from(&err);
        let params = serde_json::to_value(&report).unwrap()["params"].clone();
        assert_eq!(params["question"], label, "{params}");
        assert_eq!(params["character"], "و");
    }
    // the DOCX keeps it: nothing typed is lost
    let docx = reports::export_docx(&core, &id, "fr").unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(docx)).unwrap();
    let mut xml = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("word/document.xml").unwrap(), &mut xml)
        .unwrap();
    assert!(xml.contains("وزارة البيئة"));

    reports::set_answer(
        &core,
        &id,
        "general_info/focal_point/nfp_institution",
        "Ministère 🦆",
    )
    .unwrap();
    let err = reports::export_pdf(&core, &id, "fr").unwrap_err();
    assert_eq!(err.code().as_str(), "pdf_character_missing", "{err}");
    assert!(err.to_string().contains("U+1F986"), "{err}");
    // an emoji's variation selector alone is invisible and left out
    reports::set_answer(
        &core,
        &id,
        "general_info/focal_point/nfp_institution",
        "Ministère ✓\u{FE0F}",
    )
    .unwrap();
    let pdf = reports::export_pdf(&core, &id, "fr").unwrap();
    assert!(plain_text(&pdf).contains("Ministère ✓"));
}

#[test]
fn a_matrix_is_a_table_with_the_choices_as_columns() {
    let (_dir, core, id) = fresh();
    let matrix = "goal_5/target_15/research_matrix";
    reports::set_answer(&core, &id, &format!("{matrix}/research_birds"), "yes").unwrap();
    reports::set_answer(&core, &id, &format!("{matrix}/research_fish"), "partly").unwrap();
    let pdf = reports::export_pdf(&core, &id, "en").unwrap();
    let lines: Vec<Line> = pages(&pdf).into_iter().flatten().collect();
    let caption = lines
        .iter()
        .position(|l| l.text == "Research on migratory species")
        .unwrap();
    // the header row: "Question" and the choices, side by side
    let header: Vec<&Line> = lines[caption + 1..]
        .iter()
        .take_while(|l| l.text != "Birds")
        .filter(|l| l.size == 8.5)
        .collect();
    let names: Vec<&str> = header.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(names, ["Question", "Yes", "Partly", "No"], "{header:?}");
    assert!(
        header
            .windows(2)
            .all(|w| w[0].x < w[1].x && w[0].y == w[1].y)
    );
    // a row per question: "X" under the chosen column, on the row's line
    let cell = |row: &str| -> (&Line, &Line) {
        let i = lines.iter().position(|l| l.text == row).unwrap();
        (&lines[i], &lines[i + 1])
    };
    let column = |name: &str| header.iter().find(|l| l.text == name).unwrap();
    let (birds, mark) = cell("Birds");
    assert_eq!((mark.text.as_str(), mark.y), ("X", birds.y));
    let centre = |l: &Line| l.x + 2.0;
    assert!((centre(mark) - column("Yes").x).abs() < 40.0);
    assert!(mark.x < column("Partly").x);
    let (fish, mark) = cell("Fish");
    assert_eq!((mark.text.as_str(), mark.y), ("X", fish.y));
    assert!(mark.x > column("Partly").x - 20.0 && mark.x < column("No").x);
    // unanswered: a dash
    let (_, mark) = cell("Insects");
    assert_eq!(mark.text, "—");

    // a choice wider than its column is set smaller, never cut inside a word
    let fr: Vec<Line> = self::pages(&reports::export_pdf(&core, &id, "fr").unwrap())
        .into_iter()
        .flatten()
        .collect();
    let caption = fr
        .iter()
        .position(|l| l.text == "Niveau de mise en œuvre par pression")
        .unwrap();
    let header: Vec<&str> = fr[caption + 1..]
        .iter()
        .filter(|l| l.size < 9.0 && !l.text.starts_with('['))
        .take_while(|l| !l.text.starts_with("Abattage"))
        .map(|l| l.text.as_str())
        .collect();
    assert!(header.contains(&"Partiellement"), "{header:?}");
    assert!(
        header
            .iter()
            .all(|l| l.split(' ').all(|w| w.chars().count() != 1 || w == "—")),
        "{header:?}"
    );
}

#[test]
fn a_long_report_runs_over_numbered_pages() {
    let (_dir, core, id) = fresh();
    reports::set_answer(&core, &id, "appendix_i/app1_present", "yes").unwrap();
    // picked from the species list (the form's CSV file); none of these has a French common
    // name in it, so the French label is the scientific name
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
            i + 1 == total || page.iter().filter(|l| l.size > FOOTER).count() > 10,
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
    let (_dir, core, id) = fresh();
    assert_eq!(
        reports::export_pdf(&core, &id, "de")
            .unwrap_err()
            .code()
            .as_str(),
        "unknown_language"
    );
    let err = reports::export_pdf(&core, "no-such-draft", "fr").unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");
    // an empty draft still exports: title, the cycle line, the notice and every relevant
    // question as "—"
    let pdf = reports::export_pdf(&core, &id, "en").unwrap();
    let ps = paragraphs(&pages(&pdf));
    assert_eq!(ps[0].2, ["CMS national report"]);
    assert!(ps[2].2[0].starts_with("Drafting aid, not the official report."));
    assert_eq!(after(&ps, "Name of the Party"), "—");
    let doc = Document::load_mem(&pdf).unwrap();
    let info = doc.trailer.get(b"Info").unwrap().as_reference().unwrap();
    let info = doc.get_dictionary(info).unwrap();
    assert_eq!(
        info.get(b"Author").unwrap().as_str().unwrap(),
        b"Stopover",
        "nobody is signed in"
    );
}

#[path = "support/fill_all.rs"]
mod fill_all;

#[test]
fn the_full_report_stays_small_and_every_answer_is_in_it() {
    let (_dir, core, id) = fresh();
    fill_all::fill_all(&core, &id, 3);
    let started = std::time::Instant::now();
    let pdf = reports::export_pdf(&core, &id, "fr").unwrap();
    let took = started.elapsed();
    let pages = pages(&pdf);
    eprintln!(
        "full CMS report: {} pages, {} bytes, exported in {took:?} (debug build)",
        pages.len(),
        pdf.len()
    );
    // STOPOVER_PDF_OUT=/tmp/full.pdf keeps it, to look at (pdftoppm -png)
    // (and its English and Spanish exports next to it)
    if let Some(out) = std::env::var_os("STOPOVER_PDF_OUT") {
        std::fs::write(&out, &pdf).unwrap();
        for lang in ["en", "es"] {
            let mut other = out.clone();
            other.push(format!(".{lang}.pdf"));
            std::fs::write(other, reports::export_pdf(&core, &id, lang).unwrap()).unwrap();
        }
    }
    assert!(pdf.len() < 500_000, "{} bytes", pdf.len());
    assert!(pages.len() > 20, "{} pages", pages.len());
    let text = plain_text(&pdf);
    assert!(text.contains("Łódź et à Bichkek (Кыргызстан)"));
    assert!(text.contains("Türkiye (Muğla, Şanlıurfa) et de Ελλάδα"));
    // every page's text stays inside the page
    for page in &pages {
        for line in page {
            assert!(
                line.x >= MARGIN - 0.01 && line.y > 20.0 && line.y < PAGE.1 - MARGIN,
                "{line:?}"
            );
        }
    }
}
