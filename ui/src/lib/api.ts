// The only door to the Rust side: typed wrappers over the app's #[tauri::command]s.
// Rust field names stay snake_case on the wire; arguments are camelCase (Tauri converts).
import { invoke } from '@tauri-apps/api/core';

export type Lang = 'en' | 'fr' | 'es';
export const LANGS: Lang[] = ['en', 'fr', 'es'];
export type ItemKind = 'manual' | 'checklist' | 'library';
export type LibraryKind = 'funding' | 'training' | 'practice' | 'faq';

/** Every command error: a stable code and a message a person can read. */
export interface AppError {
  code: string;
  message: string;
}

export function isAppError(e: unknown): e is AppError {
  return typeof e === 'object' && e !== null && 'code' in e && 'message' in e;
}

export type ContentStatus =
  | { state: 'ready'; version: string }
  | { state: 'broken'; file: string; reason: string; installed_version: string | null };

export interface UserDataCounts {
  ticks: number;
  notes: number;
  bookmarks: number;
}

export interface AppStatus {
  /** Set when the app could not open its database (e.g. written by a newer Stopover). */
  startup_error: AppError | null;
  content: ContentStatus | null;
  language: Lang;
  user_data: UserDataCounts | null;
  data_dir: string;
}

export interface LibraryMeta {
  kind: LibraryKind;
  regions: string[];
  instruments: string[];
  date: string | null;
  deadline: string | null;
  languages: string[];
  url: string | null;
}

export interface Progress {
  done: number;
  total: number;
}

export interface ItemSummary {
  kind: ItemKind;
  id: string;
  title: string;
  summary: string;
  /** Language actually shown; `fallback` is true when it is English instead of the one asked. */
  lang: Lang;
  fallback: boolean;
  meta?: LibraryMeta;
  progress?: Progress;
}

/** A document an item's facts were checked against. */
export interface Source {
  title: string;
  url: string;
}

/** Where an item's facts come from, shown at the foot of its page. */
export interface Provenance {
  /** YYYY-MM-DD: when a person last checked the facts against the sources. */
  reviewed: string | null;
  sources: Source[];
}

export interface ItemView {
  kind: ItemKind;
  id: string;
  title: string;
  summary: string;
  /** Rendered and sanitized on the Rust side. Internal links are hash routes (#/manual/<id>). */
  html: string;
  lang: Lang;
  fallback: boolean;
  meta?: LibraryMeta;
  provenance: Provenance;
  bookmarked: boolean;
}

export interface ChecklistStepView {
  id: string;
  text: string;
  detail_html: string;
  fallback: boolean;
  done: boolean;
  note: string;
}

export interface ChecklistView {
  id: string;
  title: string;
  summary: string;
  lang: Lang;
  fallback: boolean;
  steps: ChecklistStepView[];
  progress: Progress;
  provenance: Provenance;
  bookmarked: boolean;
}

export interface LibraryFilter {
  kind?: string;
  region?: string;
  instrument?: string;
  language?: string;
}

export interface LibraryFacets {
  kinds: string[];
  regions: string[];
  instruments: string[];
  languages: string[];
}

/** Highlighted words in `title` and `snippet` sit between these two private-use characters. */
export const HIGHLIGHT_START = '\u{E000}';
export const HIGHLIGHT_END = '\u{E001}';

export interface SearchHit {
  kind: ItemKind;
  id: string;
  title: string;
  snippet: string;
  score: number;
  /** The part of the item the hit is about (a glossary term), opened at that anchor. */
  section: string | null;
}

// --- Sync with the e-community server --------------------------------------------------

/** What the always-visible sync indicator shows. */
export type SyncState = 'signed_out' | 'offline' | 'syncing' | 'up_to_date' | 'waiting' | 'needs_attention';

export interface SyncProgress {
  phase: 'probe' | 'push' | 'pull';
  done: number;
  total: number;
  /** Bytes sent and received so far (no total: a pull's size is not known in advance). */
  bytes_done: number;
}

export interface SyncStatus {
  state: SyncState;
  /** Server address and account name once signed in. */
  server: string | null;
  account: string | null;
  /** Operations waiting in the outbox. */
  waiting: number;
  conflicts: number;
  rejected: number;
  /** ISO 8601, UTC. */
  last_sync: string | null;
  /** Why the last attempt failed, in words for people (null after a success). */
  last_error: AppError | null;
  /** When the next automatic attempt is due (ISO 8601), while backing off. */
  next_attempt: string | null;
  progress: SyncProgress | null;
  /** The server revoked this device's token: sign in again (queued work is kept). */
  sign_in_required: boolean;
}

export interface PendingOperation {
  op_id: string;
  kind: string;
  entity_id: string;
  field: string;
  value: unknown;
  created_at: string;
  /** Sent at least once, answer not yet received. */
  sent: boolean;
}

export interface SyncConflict {
  kind: string;
  entity_id: string;
  field: string;
  local_value: unknown;
  server_value: unknown;
  server_version: number;
  created_at: string;
}

export interface RejectedOperation {
  op_id: string;
  kind: string;
  entity_id: string;
  field: string;
  value: unknown;
  reason: string;
  created_at: string;
}

/** Name of the Tauri event carrying the new version after a signed content pack was installed. */
export const CONTENT_UPDATED_EVENT = 'content-updated';

/** Name of the Tauri event carrying a SyncStatus whenever it changes. */
export const SYNC_STATUS_EVENT = 'sync-status';

export const api = {
  appStatus: () => invoke<AppStatus>('app_status'),
  setLanguage: (lang: Lang) => invoke<void>('set_language', { lang }),
  listManual: (lang: Lang) => invoke<ItemSummary[]>('list_manual', { lang }),
  openItem: (kind: ItemKind, id: string, lang: Lang) => invoke<ItemView>('open_item', { kind, id, lang }),
  listChecklists: (lang: Lang) => invoke<ItemSummary[]>('list_checklists', { lang }),
  getChecklist: (id: string, lang: Lang) => invoke<ChecklistView>('get_checklist', { id, lang }),
  setStepDone: (checklistId: string, stepId: string, done: boolean) =>
    invoke<Progress>('set_step_done', { checklistId, stepId, done }),
  setStepNote: (checklistId: string, stepId: string, note: string) =>
    invoke<void>('set_step_note', { checklistId, stepId, note }),
  listLibrary: (lang: Lang, filter: LibraryFilter) => invoke<ItemSummary[]>('list_library', { lang, filter }),
  libraryFacets: () => invoke<LibraryFacets>('library_facets'),
  search: (query: string, lang: Lang) => invoke<SearchHit[]>('search', { query, lang }),
  setBookmark: (kind: ItemKind, id: string, on: boolean) => invoke<boolean>('set_bookmark', { kind, id, on }),
  listBookmarks: (lang: Lang) => invoke<ItemSummary[]>('list_bookmarks', { lang }),
  listRecent: (lang: Lang) => invoke<ItemSummary[]>('list_recent', { lang }),
  syncStatus: () => invoke<SyncStatus>('sync_status'),
  signIn: (server: string, username: string, password: string) =>
    invoke<SyncStatus>('sign_in', { server, username, password }),
  signOut: () => invoke<SyncStatus>('sign_out'),
  /** Removes the token and the server settings from this laptop; local data stays. */
  forgetDevice: () => invoke<SyncStatus>('forget_device'),
  syncNow: () => invoke<SyncStatus>('sync_now'),
  /** The webview saw the network come back (the `online` event): probe the server now. */
  networkChanged: () => invoke<void>('network_changed'),
  listOutbox: () => invoke<PendingOperation[]>('list_outbox'),
  listConflicts: () => invoke<SyncConflict[]>('list_conflicts'),
  listRejected: () => invoke<RejectedOperation[]>('list_rejected'),
  resolveConflict: (kind: string, entityId: string, field: string, choice: 'keep_mine' | 'take_theirs') =>
    invoke<SyncStatus>('resolve_conflict', { kind, entityId, field, choice }),
  /** Tells the shell the first view is on screen (start-up time measurement). */
  uiReady: () => invoke<void>('ui_ready'),
};
