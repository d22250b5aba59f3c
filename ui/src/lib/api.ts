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
}

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
  /** Tells the shell the first view is on screen (start-up time measurement). */
  uiReady: () => invoke<void>('ui_ready'),
};
