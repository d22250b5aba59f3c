//! The TypeScript of every type the UI and the app exchange, generated from these Rust types
//! (ts-rs) into `ui/src/lib/bindings/`. The files are committed; `bindings_are_current` fails
//! when they are stale. Regenerate with `UPDATE_BINDINGS=1 cargo test -p stopover bindings`.

use std::any::TypeId;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use stopover_core::content::{
    ItemKind, ItemSummary, LibraryFacets, LibraryFilter, Progress, SearchHit,
};
use stopover_core::forum::{
    Category, DraftKey, EventView, HomeNotice, PostHit, PostView, Profile, Retention,
    SharedContact, ThreadSummary, ThreadView,
};
use stopover_core::reports::delegation::Assignment;
use stopover_core::reports::files::ReportFile;
use stopover_core::reports::view::{DraftView, FormSummary, ReportState};
use stopover_core::reports::{Draft, DraftSummary, ExportFormat};
use stopover_core::store::recovery::{BackupInfo, RecoveryReport, RestoreReport};
use stopover_core::sync::attachments::AttachmentLimits;
use stopover_core::sync::{
    BandwidthSettings, BandwidthUsage, FoundRelay, PendingOperation, RejectedOperation, Resolution,
    SyncConflict, SyncFileLoaded,
};
use stopover_core::user::feedback::Feedback;
use stopover_core::{ErrorCode, Lang, RecordKind};
use stopover_protocol::{ErrorCode as ServerErrorCode, RefusalCode};
use ts_rs::{Config, TS, TypeVisitor};

use crate::commands::app::AppStatus;
use crate::commands::checklists::OpenedChecklist;
use crate::commands::reading::OpenedItem;
use crate::commands::report_files::{AttachedFile, SavedFile};
use crate::commands::reports::{CreatedReport, ExportedFile, RowsChanged};
use crate::commands::sync_files::SavedSyncFile;
use crate::error::CommandError;
use crate::sync_service::SyncStatusView;

/// Where the bindings live, from the repository root.
pub const BINDINGS_DIR: &str = "ui/src/lib/bindings";

fn config(dir: &Path) -> Config {
    // Counts and versions fit in a JavaScript number; `bigint` would not survive JSON.
    Config::new().with_out_dir(dir).with_large_int("number")
}

/// Every exported type by its file, to catch two Rust types of one name (ts-rs would write
/// both to the same file, the second silently replacing the first).
#[derive(Default)]
struct Names {
    files: HashMap<PathBuf, (TypeId, &'static str)>,
    clashes: Vec<String>,
}

impl Names {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        TypeVisitor::visit::<T>(self);
    }
}

impl TypeVisitor for Names {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        let Some(path) = T::output_path() else {
            return;
        };
        let me = (TypeId::of::<T>(), std::any::type_name::<T>());
        match self.files.get(&path) {
            Some((id, _)) if *id == me.0 => {}
            // serde_json's Value is written through ts-rs's own stand-in for it, on purpose.
            Some((_, other)) if other.contains("serde_json") && me.1.contains("serde_json") => {}
            Some((_, other)) => self.clashes.push(format!("{other} and {}", me.1)),
            None => {
                self.files.insert(path, me);
                T::visit_dependencies(self);
                T::visit_generics(self);
            }
        }
    }
}

/// Writes every binding, plus `codes.ts` (each code as a list, for the translation tests)
/// and `index.ts`, into `dir`. Returns the file names written.
pub fn export(dir: &Path) -> Result<Vec<String>, String> {
    let cfg = config(dir);
    let mut seen = Names::default();
    macro_rules! all {
        ($($t:ty),+ $(,)?) => {{
            $(
                seen.visit::<$t>();
                <$t as TS>::export_all(&cfg).map_err(|e| format!("{}: {e}", stringify!($t)))?;
            )+
        }};
    }
    all!(
        // arguments
        Lang,
        ItemKind,
        LibraryFilter,
        ExportFormat,
        Resolution,
        RecordKind,
        DraftKey,
        SharedContact,
        Retention,
        BandwidthSettings,
        // answers and events
        AppStatus,
        OpenedItem,
        ItemSummary,
        OpenedChecklist,
        Progress,
        Feedback,
        LibraryFacets,
        SearchHit,
        SyncStatusView,
        PendingOperation,
        SyncConflict,
        RejectedOperation,
        FormSummary,
        DraftSummary,
        CreatedReport,
        DraftView,
        ReportState,
        RowsChanged,
        ExportedFile,
        ReportFile,
        AttachmentLimits,
        SavedFile,
        AttachedFile,
        Assignment,
        Draft,
        Category,
        ThreadSummary,
        ThreadView,
        PostView,
        PostHit,
        Profile,
        EventView,
        HomeNotice,
        RecoveryReport,
        BackupInfo,
        RestoreReport,
        SavedSyncFile,
        SyncFileLoaded,
        BandwidthUsage,
        FoundRelay,
        // errors
        CommandError,
        ErrorCode,
        ServerErrorCode,
        RefusalCode,
    );
    if !seen.clashes.is_empty() {
        return Err(format!(
            "two Rust types would be one TypeScript type (rename one with #[ts(rename)]): {:?}",
            seen.clashes
        ));
    }
    let list = |codes: Vec<&str>| {
        codes
            .iter()
            .map(|c| format!("'{c}'"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let codes = format!(
        "// Every error and refusal code, for the translation tests. Generated by src-tauri/src/bindings.rs.\n\
         export const ERROR_CODES = [{}] as const;\n\
         export const SERVER_ERROR_CODES = [{}] as const;\n\
         export const REFUSAL_CODES = [{}] as const;\n",
        list(ErrorCode::ALL.iter().map(|c| c.as_str()).collect()),
        list(ServerErrorCode::ALL.iter().map(|c| c.as_str()).collect()),
        list(RefusalCode::ALL.iter().map(|c| c.as_str()).collect()),
    );
    std::fs::write(dir.join("codes.ts"), codes).map_err(|e| e.to_string())?;
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".ts") && n != "index.ts")
        .collect();
    names.sort();
    let index: String = std::iter::once(
        "// The types the UI and the app exchange. Generated by src-tauri/src/bindings.rs.\n"
            .to_string(),
    )
    .chain(names.iter().map(|n| {
        let stem = n.trim_end_matches(".ts");
        if stem == "codes" {
            "export * from './codes';\n".to_string()
        } else {
            format!("export type {{ {stem} }} from './{stem}';\n")
        }
    }))
    .collect();
    std::fs::write(dir.join("index.ts"), index).map_err(|e| e.to_string())?;
    names.push("index.ts".into());
    Ok(names)
}

/// The files of a bindings folder (and its subfolders) by path relative to it.
pub fn read_all(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if let (Ok(rel), Ok(text)) =
                (path.strip_prefix(root), std::fs::read_to_string(&path))
            {
                out.insert(rel.to_string_lossy().replace('\\', "/"), text);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bindings_are_current() {
        let checked_in = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(BINDINGS_DIR);
        let fresh = tempfile::tempdir().unwrap();
        export(fresh.path()).unwrap();
        let generated = read_all(fresh.path());
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            let _ = std::fs::remove_dir_all(&checked_in);
            std::fs::create_dir_all(&checked_in).unwrap();
            for (name, text) in &generated {
                let path = checked_in.join(name);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, text).unwrap();
            }
            return;
        }
        let current = read_all(&checked_in);
        let stale: Vec<&String> = generated
            .iter()
            .filter(|(name, text)| current.get(*name) != Some(text))
            .map(|(name, _)| name)
            .chain(current.keys().filter(|n| !generated.contains_key(*n)))
            .collect();
        assert!(
            stale.is_empty(),
            "ui/src/lib/bindings is out of date with the Rust types ({stale:?}).\n\
             Regenerate with: UPDATE_BINDINGS=1 cargo test -p stopover bindings\n\
             and review the diff before committing."
        );
    }
}
