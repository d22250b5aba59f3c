//! The submission package of a national report (one ZIP for the e-mail route and the archive),
//! against the real embedded pack and real files in the data folder: the report as PDF, DOCX,
//! CSV and JSON, every attachment this device holds, the missing ones listed, a manifest and
//! SHA-256 sums that `sha256sum -c` accepts.

use std::collections::BTreeMap;
use std::io::Read;

use sha2::{Digest, Sha256};
use stopover_core::Core;
use stopover_core::content::PackFiles;
use stopover_core::reports;

const CMS: &str = "cms-national-report";
const FOLDER: &str = "cms-national-report-COP15";

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every entry of the ZIP by name, with its bytes.
fn entries(zip: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("a zip archive");
    (0..archive.len())
        .map(|i| {
            let mut entry = archive.by_index(i).unwrap();
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            (entry.name().to_string(), bytes)
        })
        .collect()
}

/// A file attached the way the app keeps it: its bytes under `attachments/<sha256>` in the data
/// folder, the answer `name sha256:<sha256>`.
fn attach(core: &Core, id: &str, path: &str, name: &str, bytes: &[u8]) -> String {
    let sum = sha(bytes);
    let dir = core.data_dir().join("attachments");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(&sum), bytes).unwrap();
    reports::set_answer(core, id, path, &format!("{name} sha256:{sum}")).unwrap();
    sum
}

#[test]
fn the_package_carries_the_report_in_every_format_with_its_attachments_and_their_sums() {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path(), Ok(PackFiles::embedded())).unwrap();
    let id = reports::create_draft(&core, CMS, "COP15").unwrap().id;
    reports::set_answer(&core, &id, "general_info/party_name", "Türkiye").unwrap();
    let map = b"%PDF-1.4 a map of the wetlands".to_vec();
    let map_sha = attach(
        &core,
        &id,
        "goal_3/target_10/pa_map",
        "carte des sites.pdf",
        &map,
    );
    // the same file attached twice is packed once
    attach(
        &core,
        &id,
        "closing/supporting_documents",
        "carte des sites.pdf",
        &map,
    );
    // a file recorded where the user picked it (the attachment table names its path)
    let own = dir.path().join("publications Łódź.csv");
    std::fs::write(&own, "titre,année\nComptages,2024\n").unwrap();
    let own_sha = sha(&std::fs::read(&own).unwrap());
    core.conn()
        .execute(
            "INSERT INTO attachment (sha256, path, size, filename, created_at) VALUES (?1, ?2, 26, 'publications Łódź.csv', '2026-01-01T00:00:00Z')",
            rusqlite::params![own_sha, own.to_string_lossy()],
        )
        .unwrap();
    reports::set_answer(
        &core,
        &id,
        "goal_5/target_15/research_publications",
        &format!("publications Łódź.csv sha256:{own_sha}"),
    )
    .unwrap();
    // a file this device does not hold (attached on another device, not downloaded)
    let absent = "cd".repeat(32);
    reports::set_answer(&core, &id, "appendix_i/app1_present", "yes").unwrap();
    reports::add_repeat_row(&core, &id, "appendix_i/app1_species").unwrap();
    reports::set_answer(
        &core,
        &id,
        "appendix_i/app1_species[1]/app1_sp_documents",
        &format!("rapport d'inventaire.docx sha256:{absent}"),
    )
    .unwrap();

    let zip = reports::export_package(&core, &id, "fr").unwrap();
    assert_eq!(
        zip,
        reports::export_package(&core, &id, "fr").unwrap(),
        "the same draft gives the same bytes"
    );
    let files = entries(&zip);
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    let want = [
        "README.txt",
        "SHA256SUMS",
        "attachments/carte des sites.pdf",
        "attachments/publications Łódź.csv",
        "cms-national-report-COP15.csv",
        "cms-national-report-COP15.docx",
        "cms-national-report-COP15.json",
        "cms-national-report-COP15.pdf",
        "manifest.json",
    ]
    .map(|n| format!("{FOLDER}/{n}"));
    assert_eq!(names, want.iter().map(String::as_str).collect::<Vec<_>>());

    let file = |name: &str| &files[&format!("{FOLDER}/{name}")];
    // the documents are the exports themselves
    assert_eq!(
        file("cms-national-report-COP15.pdf"),
        &reports::export_pdf(&core, &id, "fr").unwrap()
    );
    assert_eq!(
        String::from_utf8(file("cms-national-report-COP15.csv").clone()).unwrap(),
        reports::export_csv(&core, &id, "fr").unwrap()
    );
    assert!(file("cms-national-report-COP15.docx").starts_with(b"PK"));
    let json: serde_json::Value =
        serde_json::from_slice(file("cms-national-report-COP15.json")).unwrap();
    assert_eq!(json["answers"]["general_info/party_name"], "Türkiye");
    // attachments byte for byte
    assert_eq!(file("attachments/carte des sites.pdf"), &map);
    assert_eq!(sha(file("attachments/publications Łódź.csv")), own_sha);

    // SHA256SUMS covers every other file
    let sums = String::from_utf8(file("SHA256SUMS").clone()).unwrap();
    let listed: BTreeMap<&str, &str> = sums
        .lines()
        .map(|l| {
            let (sum, path) = l.split_once("  ").unwrap();
            (path, sum)
        })
        .collect();
    assert_eq!(listed.len(), files.len() - 1);
    for (name, bytes) in &files {
        let name = name.strip_prefix(&format!("{FOLDER}/")).unwrap();
        if name != "SHA256SUMS" {
            assert_eq!(listed[name], sha(bytes), "{name}");
        }
    }
    // …in the format sha256sum checks
    let out = tempfile::tempdir().unwrap();
    for (name, bytes) in &files {
        let path = out.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    match std::process::Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(out.path().join(FOLDER))
        .output()
    {
        Ok(check) => assert!(
            check.status.success(),
            "{}",
            String::from_utf8_lossy(&check.stdout)
        ),
        Err(e) => eprintln!("sha256sum not available ({e}); sums checked in Rust only"),
    }

    // the manifest: each attachment with its question, included or missing and why
    let manifest: serde_json::Value = serde_json::from_slice(file("manifest.json")).unwrap();
    assert_eq!(manifest["cycle"], "COP15");
    assert_eq!(manifest["language"], "fr");
    assert!(manifest["notice"].as_str().unwrap().contains("(ORS)"));
    let attachments = manifest["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 4, "{attachments:#?}");
    let of = |answer: &str| {
        attachments
            .iter()
            .find(|a| a["answer"] == answer)
            .unwrap_or_else(|| panic!("{answer}"))
    };
    let map_entry = of("goal_3/target_10/pa_map");
    assert_eq!(map_entry["sha256"], map_sha);
    assert_eq!(map_entry["included_as"], "attachments/carte des sites.pdf");
    assert_eq!(
        map_entry["question"],
        "Carte des aires protégées et des sites en réseau"
    );
    assert_eq!(
        of("closing/supporting_documents")["included_as"],
        "attachments/carte des sites.pdf"
    );
    let missing = of("appendix_i/app1_species[1]/app1_sp_documents");
    assert_eq!(missing["included_as"], serde_json::Value::Null);
    assert_eq!(missing["missing"], "not_on_this_device");
    let listed_files = manifest["files"].as_array().unwrap();
    assert!(
        listed_files
            .iter()
            .any(|f| f["path"] == "attachments/carte des sites.pdf"
                && f["sha256"] == map_sha
                && f["size"] == map.len())
    );

    // the README, in the export language: the notice, what is inside, what is missing
    let readme = String::from_utf8(file("README.txt").clone()).unwrap();
    assert!(readme.starts_with("Rapport national à la CMS"), "{readme}");
    assert!(readme.contains("Outil de préparation, et non le rapport officiel."));
    assert!(readme.contains("Pièces jointes manquantes"));
    assert!(readme.contains(&format!(
        "rapport d'inventaire.docx (Documents justificatifs (rapports, cartes, résultats d'inventaires), SHA-256 {absent}): absente de cet appareil"
    )), "{readme}");

    // a file changed since it was attached is missing, not packed with other bytes
    std::fs::write(&own, "changed").unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(
        &entries(&reports::export_package(&core, &id, "en").unwrap())
            [&format!("{FOLDER}/manifest.json")],
    )
    .unwrap();
    let publications = manifest["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["answer"] == "goal_5/target_15/research_publications")
        .unwrap()
        .clone();
    assert_eq!(publications["missing"], "changed_since_attached");
}

#[test]
fn text_the_pdf_cannot_show_leaves_the_pdf_out_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path(), Ok(PackFiles::embedded())).unwrap();
    let id = reports::create_draft(&core, CMS, "COP15").unwrap().id;
    reports::set_answer(&core, &id, "general_info/party_name", "المغرب").unwrap();
    let files = entries(&reports::export_package(&core, &id, "es").unwrap());
    assert!(!files.keys().any(|n| n.ends_with(".pdf")));
    let docx = &files[&format!("{FOLDER}/cms-national-report-COP15.docx")];
    let mut xml = String::new();
    zip::ZipArchive::new(std::io::Cursor::new(docx))
        .unwrap()
        .by_name("word/document.xml")
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    assert!(xml.contains("المغرب"), "the DOCX keeps it");
    let readme = String::from_utf8(files[&format!("{FOLDER}/README.txt")].clone()).unwrap();
    assert!(readme.contains("No se pudo crear el PDF:"), "{readme}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&files[&format!("{FOLDER}/manifest.json")]).unwrap();
    assert!(
        manifest["pdf_left_out"]
            .as_str()
            .unwrap()
            .contains("Nombre de la Parte"),
        "{manifest}"
    );
}
