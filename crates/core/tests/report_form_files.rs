//! A report form published with a CSV file (`forms/<id>/<file>.csv` in the content pack):
//! imported into a real SQLite file, its choices read from the file in the reader's language,
//! answers checked against the file, the DOCX export showing the choice labels; and a geopoint
//! answered as typed coordinates.

use std::io::Read;

use stopover_core::Core;
use stopover_core::content::PackFiles;
use stopover_core::reports::{self, view};

const FORM_ID: &str = "species-check";

const FORM: &str = "\
[survey]
type | name | label::English (en) | label::Français (fr) | label::Español (es) | choice_filter
begin_group | main | Species | Espèces | Especies
select_one_from_file cms-species.csv | species | Which species? | Quelle espèce ? | ¿Qué especie?
select_one groups | group | Group | Groupe | Grupo
select_multiple_from_file cms-species.csv | of_group | Species of the group | Espèces du groupe | Especies del grupo | group = ${group}
geopoint | site | Where? | Où ? | ¿Dónde?
end_group
[choices]
list_name | name | label::English (en) | label::Français (fr) | label::Español (es)
groups | birds | Birds | Oiseaux | Aves
groups | fish | Fish | Poissons | Peces
[settings]
form_id | version | default_language | form_title::English (en)
species_check | 1 | English (en) | Species check
";

/// About the size of the CMS list: 1,500 species, three languages, extra columns.
fn species_csv() -> String {
    let mut s = String::from(
        "name,label::English (en),label::Français (fr),label::Español (es),appendix,group\n",
    );
    for i in 1..=1_500 {
        let group = if i % 2 == 0 { "birds" } else { "fish" };
        s.push_str(&format!(
            "sp{i:04},Species {i},Espèce {i},Especie {i},{},{group}\n",
            if i % 3 == 0 { "I" } else { "II" }
        ));
    }
    s
}

fn core_with_form() -> (tempfile::TempDir, Core) {
    let mut pack = PackFiles::embedded();
    pack.0
        .insert(format!("forms/{FORM_ID}.txt"), FORM.as_bytes().to_vec());
    pack.0.insert(
        format!("forms/{FORM_ID}/cms-species.csv"),
        species_csv().into_bytes(),
    );
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path(), Ok(pack)).unwrap();
    (dir, core)
}

#[test]
fn choices_from_the_published_file_in_the_readers_language_and_in_the_export() {
    let (_dir, core) = core_with_form();
    let draft = reports::create_draft(&core, FORM_ID, "COP15").unwrap();

    let v = view::open_draft(&core, &draft.id, "fr").unwrap();
    let list = &v.choice_lists["cms-species.csv"];
    assert_eq!(list.len(), 1_500);
    assert_eq!(
        (list[2].name.as_str(), list[2].label.as_str()),
        ("sp0003", "Espèce 3")
    );
    let es = view::open_draft(&core, &draft.id, "es").unwrap();
    assert_eq!(es.choice_lists["cms-species.csv"][2].label, "Especie 3");
    let site = &v.sections[0].children[3];
    assert_eq!((site.name.as_str(), site.kind), ("site", "geopoint"));

    let live = reports::set_answer(&core, &draft.id, "main/species", "sp0003").unwrap();
    assert!(live.issues.is_empty(), "{:?}", live.issues);
    let live = reports::set_answer(&core, &draft.id, "main/species", "sp9999").unwrap();
    assert_eq!(live.issues[0].path, "main/species");
    reports::set_answer(&core, &draft.id, "main/species", "sp0003").unwrap();

    // a choice_filter on a column of the file
    let live = reports::set_answer(&core, &draft.id, "main/group", "birds").unwrap();
    let state = view::report_state(&core, &draft.id, live).unwrap();
    assert_eq!(state.choices["main/of_group"].len(), 750);
    assert_eq!(state.choices["main/of_group"][0], "sp0002");
    reports::set_answer(&core, &draft.id, "main/of_group", "sp0002 sp0004").unwrap();

    // coordinates typed by hand
    let live = reports::set_answer(&core, &draft.id, "main/site", "95 10").unwrap();
    assert_eq!(live.issues[0].path, "main/site");
    let live = reports::set_answer(&core, &draft.id, "main/site", "12.5 -3.25").unwrap();
    assert!(live.issues.is_empty(), "{:?}", live.issues);

    // the export shows labels in the reader's language, the coordinates as typed
    let docx = reports::export_docx(&core, &draft.id, "fr").unwrap();
    let mut xml = String::new();
    zip::ZipArchive::new(std::io::Cursor::new(docx))
        .unwrap()
        .by_name("word/document.xml")
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    assert!(xml.contains("Espèce 3"), "species label");
    assert!(xml.contains("Espèce 2; Espèce 4"), "several species");
    assert!(xml.contains("12.5 -3.25"), "coordinates");
    assert!(!xml.contains("sp0003"), "codes are not shown");
    let csv = reports::export_csv(&core, &draft.id, "en").unwrap();
    // section, path, question, reference (none in this form), answer, choice labels
    assert!(csv.contains("main/site,Where?,,12.5 -3.25,\r\n"), "{csv}");
    assert!(
        csv.contains(",sp0002 sp0004,Species 2; Species 4\r\n"),
        "{csv}"
    );
}
