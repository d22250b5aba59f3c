//! The content pack: the Manual, checklists and library, in en/fr/es.
//!
//! `pack` reads and validates the files, `markdown` renders them safely, `import` replaces the
//! content tables in one transaction, `read` and `search` answer the UI, [`update`] installs
//! signed packs from the e-community server.

mod import;
pub(crate) mod markdown;
mod pack;
mod read;
mod search;
pub mod update;

pub use import::{ImportReport, import, imported_pack};
pub use markdown::{plain_text, render_html};
pub use pack::{
    Checklist, ChecklistStep, ChecklistText, GLOSSARY_ID, Glossary, GlossaryTerm, GlossaryText,
    ItemText, LibraryItem, LibraryKind, LibraryMeta, Manifest, ManualModule, PROVENANCE_REQUIRED,
    Pack, PackError, PackFiles, Provenance, REGIONS, ReportForm, Source,
};
pub(crate) use read::title_of;
pub use read::{
    ChecklistStepView, ChecklistView, ItemKind, ItemSummary, ItemView, LibraryFacets,
    LibraryFilter, Progress, checklist, get_item, library_facets, list_checklists, list_library,
    list_manual, summaries, summary,
};
pub use search::{HIGHLIGHT_END, HIGHLIGHT_START, SearchHit, build_match_expression, search};
/// A published content pack (from the server, or a workshop relay that holds it).
pub use stopover_protocol::PackRelease;
