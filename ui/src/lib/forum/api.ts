// The e-community commands (src-tauri/src/commands/forum.rs) and their types: the forum, the
// NFP directory, training events and the home view's notice. Field names are those of
// stopover_core::forum (snake_case); arguments are camelCase (Tauri converts).
import { invoke } from '@tauri-apps/api/core';
import type { Lang } from '../bindings';

import type {
  Category,
  DraftKey,
  EventView,
  HomeNotice,
  PostHit,
  PostView,
  Profile,
  Retention,
  SharedContact,
  ThreadSummary,
  ThreadView,
} from '../bindings';

export type {
  Category,
  CategoryKind,
  DraftKey,
  EventView,
  HomeNotice,
  PostConflict,
  PostHit,
  PostView,
  Profile,
  Registration,
  Retention,
  Role,
  SharedContact,
  ThreadSummary,
  ThreadView,
} from '../bindings';

export interface DirectoryFilter {
  query: string;
  country: string | null;
  instrument: string | null;
  region: string | null;
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
  newThread: (category: string): DraftKey => ({ place: 'new', category }),
  reply: (thread: string): DraftKey => ({ place: 'reply', thread }),
  edit: (post: string): DraftKey => ({ place: 'edit', post }),
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
  draft: (key: DraftKey) => invoke<string | null>('forum_draft', { key }),
  saveDraft: (key: DraftKey, body: string) => invoke<void>('forum_save_draft', { key, body }),
  clearDraft: (key: DraftKey) => invoke<void>('forum_clear_draft', { key }),
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
