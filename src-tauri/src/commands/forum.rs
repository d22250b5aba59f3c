//! The e-community on the laptop: the forum (categories, threads, posts, composing offline,
//! drafts, search), the NFP directory with the reader's own contact card, training events,
//! and the home view's notice of new replies. Everything that queues an operation wakes the
//! sync service, so it goes out as soon as the server can be reached.

use stopover_core::Lang;
use stopover_core::forum::{
    self, Category, DraftKey, EventView, HomeNotice, PostHit, PostView, Profile, Retention,
    SharedContact, ThreadSummary, ThreadView,
};
use tauri::State;

use stopover_core::{Error, ErrorCode};

use crate::error::{CommandError, CommandResult, internal, report};
use crate::state::AppState;
use crate::sync_service::SyncHandle;

#[tauri::command]
pub async fn forum_categories(
    state: State<'_, AppState>,
    lang: Lang,
) -> CommandResult<Vec<Category>> {
    state
        .run(move |core| forum::categories(core, lang.code()))
        .await
}

#[tauri::command]
pub async fn forum_threads(
    state: State<'_, AppState>,
    category_id: String,
) -> CommandResult<Vec<ThreadSummary>> {
    state
        .run(move |core| forum::threads(core, &category_id))
        .await
}

/// One thread with its posts; opening it marks it read.
#[tauri::command]
pub async fn forum_thread(
    state: State<'_, AppState>,
    thread_id: String,
) -> CommandResult<ThreadView> {
    state.run(move |core| forum::thread(core, &thread_id)).await
}

#[tauri::command]
pub async fn forum_new_thread(
    state: State<'_, AppState>,
    sync: State<'_, SyncHandle>,
    category_id: String,
    title: String,
    body: String,
) -> CommandResult<PostView> {
    let post = state
        .run(move |core| forum::new_thread(core, &category_id, &title, &body))
        .await?;
    sync.edited();
    Ok(post)
}

#[tauri::command]
pub async fn forum_reply(
    state: State<'_, AppState>,
    sync: State<'_, SyncHandle>,
    thread_id: String,
    body: String,
) -> CommandResult<PostView> {
    let post = state
        .run(move |core| forum::reply(core, &thread_id, &body))
        .await?;
    sync.edited();
    Ok(post)
}

#[tauri::command]
pub async fn forum_edit_post(
    state: State<'_, AppState>,
    sync: State<'_, SyncHandle>,
    post_id: String,
    body: String,
) -> CommandResult<PostView> {
    let post = state
        .run(move |core| forum::edit_post(core, &post_id, &body))
        .await?;
    sync.edited();
    Ok(post)
}

/// Withdraws a post that never left this laptop (its operation goes with it).
#[tauri::command]
pub async fn forum_withdraw_post(
    state: State<'_, AppState>,
    sync: State<'_, SyncHandle>,
    post_id: String,
) -> CommandResult<()> {
    state
        .run(move |core| forum::withdraw_post(core, &post_id))
        .await?;
    // One operation fewer: the indicator's count changes.
    sync.edited();
    Ok(())
}

/// Settles a conflict on one of the reader's posts: keep their text, or take the server's.
#[tauri::command]
pub async fn forum_resolve_conflict(
    state: State<'_, AppState>,
    sync: State<'_, SyncHandle>,
    post_id: String,
    keep_mine: bool,
) -> CommandResult<()> {
    state
        .run(move |core| forum::resolve_post_conflict(core, &post_id, keep_mine))
        .await?;
    sync.edited();
    Ok(())
}

/// The composer's autosaved text for a place a post is written, if any.
#[tauri::command]
pub async fn forum_draft(
    state: State<'_, AppState>,
    key: DraftKey,
) -> CommandResult<Option<String>> {
    state
        .run(move |core| forum::composer_draft(core, &key))
        .await
}

#[tauri::command]
pub async fn forum_save_draft(
    state: State<'_, AppState>,
    key: DraftKey,
    body: String,
) -> CommandResult<()> {
    state
        .run(move |core| forum::save_composer_draft(core, &key, &body))
        .await
}

#[tauri::command]
pub async fn forum_clear_draft(state: State<'_, AppState>, key: DraftKey) -> CommandResult<()> {
    state
        .run(move |core| forum::clear_composer_draft(core, &key))
        .await
}

#[tauri::command]
pub async fn forum_search(
    state: State<'_, AppState>,
    query: String,
    lang: Lang,
) -> CommandResult<Vec<PostHit>> {
    state
        .run(move |core| forum::search(core, &query, lang.code()))
        .await
}

/// The NFP directory; empty filters match everyone.
#[tauri::command]
pub async fn directory(
    state: State<'_, AppState>,
    query: String,
    country: Option<String>,
    instrument: Option<String>,
    region: Option<String>,
) -> CommandResult<Vec<Profile>> {
    state
        .run(move |core| {
            forum::directory(
                core,
                &query,
                country.as_deref(),
                instrument.as_deref(),
                region.as_deref(),
            )
        })
        .await
}

/// Shares (or changes) the signed-in NFP's contact details in the directory; queued for sync.
#[tauri::command]
pub async fn set_my_contact(
    state: State<'_, AppState>,
    sync: State<'_, SyncHandle>,
    contact: SharedContact,
) -> CommandResult<()> {
    state
        .run(move |core| forum::set_my_contact(core, contact))
        .await?;
    sync.edited();
    Ok(())
}

#[tauri::command]
pub async fn list_events(state: State<'_, AppState>, lang: Lang) -> CommandResult<Vec<EventView>> {
    state
        .run(move |core| forum::events(core, lang.code()))
        .await
}

/// Registers for an event (or cancels) offline; queued for sync.
#[tauri::command]
pub async fn register_for_event(
    state: State<'_, AppState>,
    sync: State<'_, SyncHandle>,
    event_id: String,
    registered: bool,
) -> CommandResult<EventView> {
    let event = state
        .run(move |core| forum::register_for_event(core, &event_id, registered))
        .await?;
    sync.edited();
    Ok(event)
}

#[tauri::command]
pub async fn forum_home_notice(state: State<'_, AppState>) -> CommandResult<HomeNotice> {
    state.run(forum::home_notice).await
}

#[tauri::command]
pub async fn acknowledge_forum_notice(state: State<'_, AppState>) -> CommandResult<()> {
    state.run(forum::acknowledge_home_notice).await
}

/// `url` when the system browser may be handed it (see [`forum::openable_link`]: web and
/// e-mail addresses without invisible characters; the UI offers "Open" only for those).
fn openable(url: &str) -> Result<&str, CommandError> {
    forum::openable_link(url).map_err(report)
}

/// Opens a link from a post in the system browser, after the person confirmed it.
#[tauri::command]
pub async fn open_external_link(url: String) -> CommandResult<()> {
    let url = openable(&url)?.to_string();
    tauri::async_runtime::spawn_blocking(move || open::that_detached(&url))
        .await
        .map_err(internal)?
        .map_err(|e| {
            report(Error::invalid(
                ErrorCode::NoBrowser,
                format!("the web browser could not be started: {e}"),
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::openable;

    /// The cases the UI's `isOpenable` is tested against too (ui/src/lib/openable.test.ts):
    /// the notice offers "Open" exactly for what this command opens.
    #[test]
    fn only_web_and_mail_addresses_without_hidden_characters_open() {
        #[derive(serde::Deserialize)]
        struct Case {
            url: String,
            openable: bool,
            #[serde(default)]
            code: Option<String>,
        }
        let cases: Vec<Case> =
            serde_json::from_str(include_str!("../../../ui/src/lib/link-cases.json")).unwrap();
        assert!(cases.len() > 10);
        for case in cases {
            match openable(&case.url) {
                Ok(url) => {
                    assert!(case.openable, "{:?} should be refused", case.url);
                    assert_eq!(url, case.url);
                }
                Err(e) => {
                    assert!(!case.openable, "{:?} should open: {}", case.url, e.message);
                    if let Some(code) = case.code {
                        assert_eq!(e.code.as_str(), code, "{:?}", case.url);
                    }
                }
            }
        }
    }
}

/// How much of the forum this laptop keeps (months, categories, most posts).
#[tauri::command]
pub async fn forum_retention(state: State<'_, AppState>) -> CommandResult<Retention> {
    state.run(forum::retention).await
}

/// Stores the retention setting and prunes the cache to it at once; answers with it as stored.
#[tauri::command]
pub async fn set_forum_retention(
    state: State<'_, AppState>,
    setting: Retention,
) -> CommandResult<Retention> {
    state
        .run(move |core| {
            forum::set_retention(core, setting)?;
            forum::retention(core)
        })
        .await
}
