// The e-community commands (src-tauri/src/commands/forum.rs) and their types: the forum, the
// NFP directory, training events and the home view's notice. Field names are those of
// stopover_core::forum (snake_case); arguments are camelCase (Tauri converts).
import { invoke } from '@tauri-apps/api/core';
import type { Lang } from '../api';

export type CategoryKind = 'region' | 'instrument' | 'general' | 'qa';

export interface Category {
  id: string;
  /** In the reader's language, English when there is no translation. */
  title: string;
  kind: CategoryKind;
  threads: number;
  unread_threads: number;
}

export interface ThreadSummary {
  id: string;
  category: string;
  /** Plain text: shown escaped, never as HTML. Empty when `hidden`. */
  title: string;
  /** Empty (and `country` null) when `hidden`. */
  author_name: string;
  country: string | null;
  /** Its first post was hidden by moderation (and the reader is not its author): shown with a placeholder title. */
  hidden: boolean;
  replies: number;
  /** RFC 3339. */
  last_activity: string;
  unread: boolean;
  locked: boolean;
  /** Some post of it waits to be sent. */
  pending: boolean;
}

/** Both versions of a post whose edit could not simply apply, in Markdown. */
export interface PostConflict {
  mine: string;
  theirs: string;
}

export interface PostView {
  id: string;
  author: string;
  author_name: string;
  country: string | null;
  /** The server's date; null while the post waits to be sent. */
  created_at: string | null;
  /** Sanitized by the Rust side: the only text ever put in the page as HTML. */
  body_html: string;
  hidden: boolean;
  edited: boolean;
  pending: boolean;
  mine: boolean;
  /** The post's Markdown, for its author's edit box (own posts only). */
  source?: string;
  conflict: PostConflict | null;
  /** Why the server refused this post or its last edit. */
  refusal?: string;
}

export interface ThreadView {
  id: string;
  category: string;
  /** Empty when `hidden`. */
  title: string;
  /** Its first post was hidden by moderation (and the reader is not its author): shown with a placeholder title. */
  hidden: boolean;
  locked: boolean;
  posts: PostView[];
}

export interface PostHit {
  post_id: string;
  thread_id: string;
  thread_title: string;
  author_name: string;
  /** Escaped text; matches in <mark>…</mark>, no other markup. */
  snippet_html: string;
}

export type Role = 'nfp' | 'secretariat' | 'admin';

export interface SharedContact {
  organisation?: string | null;
  email?: string | null;
  phone?: string | null;
  languages?: string[];
}

export interface Profile {
  username: string;
  display_name: string;
  role: Role;
  country: string | null;
  instruments: string[];
  shared: SharedContact;
}

export interface DirectoryFilter {
  query: string;
  country: string | null;
  instrument: string | null;
  region: string | null;
}

export type Registration = 'none' | 'waiting' | 'registered' | 'cancel_waiting';

export interface EventView {
  id: string;
  title: string;
  /** YYYY-MM-DD. */
  starts_on: string;
  ends_on: string;
  location: string;
  region: string | null;
  instrument: string | null;
  registration_closes_on: string;
  capacity: number | null;
  registration: Registration;
  /** Why the server refused the last registration (e.g. the event is full). */
  refusal?: string;
}

export interface HomeNotice {
  new_replies_to_my_threads: number;
  threads: ThreadSummary[];
}

/** The CMS regions the directory filters by (stopover_core::forum::REGIONS). */
export const FORUM_REGIONS = [
  'africa',
  'asia',
  'europe',
  'oceania',
  'south-central-america-caribbean',
  'north-america',
] as const;

/** Keys of the composer's autosaved drafts. */
export const draftKey = {
  newThread: (category: string) => `new:${category}`,
  reply: (thread: string) => `reply:${thread}`,
  edit: (post: string) => `edit:${post}`,
};

export const forumApi = {
  categories: (lang: Lang) => invoke<Category[]>('forum_categories', { lang }),
  threads: (categoryId: string) => invoke<ThreadSummary[]>('forum_threads', { categoryId }),
  /** Opening a thread marks it read. */
  thread: (threadId: string) => invoke<ThreadView>('forum_thread', { threadId }),
  newThread: (categoryId: string, title: string, body: string) =>
    invoke<PostView>('forum_new_thread', { categoryId, title, body }),
  reply: (threadId: string, body: string) => invoke<PostView>('forum_reply', { threadId, body }),
  editPost: (postId: string, body: string) => invoke<PostView>('forum_edit_post', { postId, body }),
  withdrawPost: (postId: string) => invoke<void>('forum_withdraw_post', { postId }),
  resolveConflict: (postId: string, keepMine: boolean) =>
    invoke<void>('forum_resolve_conflict', { postId, keepMine }),
  draft: (key: string) => invoke<string | null>('forum_draft', { key }),
  saveDraft: (key: string, body: string) => invoke<void>('forum_save_draft', { key, body }),
  clearDraft: (key: string) => invoke<void>('forum_clear_draft', { key }),
  search: (query: string, lang: Lang) => invoke<PostHit[]>('forum_search', { query, lang }),
  directory: (filter: DirectoryFilter) => invoke<Profile[]>('directory', { ...filter }),
  setMyContact: (contact: SharedContact) => invoke<void>('set_my_contact', { contact }),
  events: (lang: Lang) => invoke<EventView[]>('list_events', { lang }),
  registerForEvent: (eventId: string, registered: boolean) =>
    invoke<EventView>('register_for_event', { eventId, registered }),
  homeNotice: () => invoke<HomeNotice>('forum_home_notice'),
  acknowledgeNotice: () => invoke<void>('acknowledge_forum_notice'),
  /** Opens a post's link in the system browser (after the person confirmed it). */
  openExternal: (url: string) => invoke<void>('open_external_link', { url }),
  retention: () => invoke<Retention>('forum_retention'),
  setRetention: (setting: Retention) => invoke<Retention>('set_forum_retention', { setting }),
};

/** How much of the forum the laptop keeps (crates/core/src/forum/retention.rs). */
export interface Retention {
  /** Threads without activity for this many months are removed; 0 keeps all. */
  months: number;
  /** Categories kept; empty keeps all. */
  categories: string[];
  max_posts: number;
}
