// A fake Rust side for component tests, over @tauri-apps/api/mocks.
import { emit } from '@tauri-apps/api/event';
import { mockIPC } from '@tauri-apps/api/mocks';
import { SYNC_STATUS_EVENT, type AppStatus, type ItemSummary, type LibraryFacets, type SyncStatus } from '../lib/api';

export type Args = Record<string, unknown>;
/** A value to answer with, or a function of the command's arguments (may throw or reject). */
export type Reply = unknown | ((args: Args) => unknown);

export interface Call {
  cmd: string;
  args: Args;
}

export const readyStatus: AppStatus = {
  startup_error: null,
  content: { state: 'ready', version: '2025.1' },
  language: 'en',
  user_data: { ticks: 3, notes: 1, bookmarks: 2 },
  data_dir: '/home/nfp/.local/share/stopover',
};

/** Never signed in: what a fresh install reports. */
export const signedOutStatus: SyncStatus = {
  state: 'signed_out',
  server: null,
  account: null,
  waiting: 0,
  conflicts: 0,
  rejected: 0,
  last_sync: null,
  last_error: null,
  next_attempt: null,
  progress: null,
  sign_in_required: false,
  clock_skew_secs: null,
  files_waiting: 0,
  files_refused: 0,
  uploads: null,
  relay: null,
};

/** A sync status with some fields changed (signed out unless said otherwise). */
export function syncStatus(partial: Partial<SyncStatus> = {}): SyncStatus {
  return { ...signedOutStatus, ...partial };
}

/** What the Rust side sends when the sync status changes (needs a mocked backend). */
export async function emitSyncStatus(status: SyncStatus): Promise<void> {
  await emit(SYNC_STATUS_EVENT, status);
}

export const emptyFacets: LibraryFacets = { kinds: [], regions: [], instruments: [], languages: [] };

const defaults: Record<string, Reply> = {
  app_status: readyStatus,
  set_language: null,
  ui_ready: null,
  list_manual: [] as ItemSummary[],
  list_checklists: [] as ItemSummary[],
  list_library: [] as ItemSummary[],
  library_facets: emptyFacets,
  list_bookmarks: [] as ItemSummary[],
  list_recent: [] as ItemSummary[],
  search: [],
  sync_status: signedOutStatus,
  network_changed: null,
  list_outbox: [],
  list_conflicts: [],
  list_rejected: [],
  bandwidth_usage: {
    today: [],
    month: [],
    month_total: 0,
    settings: { monthly_budget_mib: null, metered: false },
    over_budget: false,
    deferring: false,
    allowed_until: null,
  },
  forum_home_notice: { new_replies_to_my_threads: 0, threads: [] },
  forum_retention: { months: 24, categories: [], max_posts: 20000 },
  report_files: [],
  attachment_limits: {
    max_bytes: 25 * 1024 * 1024,
    extensions: ['pdf', 'doc', 'docx', 'odt', 'rtf', 'xls', 'xlsx', 'ods', 'ppt', 'pptx', 'odp', 'csv', 'png', 'jpg', 'jpeg', 'gif', 'webp', 'tif', 'tiff', 'zip'],
  },
  get_feedback: { useful: null, missing: '' },
};

export interface Backend {
  calls: Call[];
  /** Arguments of every call of one command, in order. */
  argsOf(cmd: string): Args[];
}

export function mockBackend(replies: Record<string, Reply> = {}): Backend {
  const calls: Call[] = [];
  const table: Record<string, Reply> = { ...defaults, ...replies };
  mockIPC((cmd, payload) => {
    const args = (payload ?? {}) as Args;
    calls.push({ cmd, args });
    if (!(cmd in table)) throw { code: 'not_mocked', message: `no mock for ${cmd}` };
    const reply = table[cmd];
    return typeof reply === 'function' ? (reply as (a: Args) => unknown)(args) : structuredClone(reply);
  }, { shouldMockEvents: true });
  return { calls, argsOf: (cmd) => calls.filter((c) => c.cmd === cmd).map((c) => c.args) };
}

/** Sets the address without a hashchange event (before the app is rendered). */
export function goTo(hash: string): void {
  history.replaceState(null, '', hash);
}

export function summary(partial: Partial<ItemSummary> & Pick<ItemSummary, 'kind' | 'id' | 'title'>): ItemSummary {
  return { summary: '', lang: 'en', fallback: false, ...partial };
}
