// A fake Rust side for component tests, over @tauri-apps/api/mocks.
import { mockIPC } from '@tauri-apps/api/mocks';
import type { AppStatus, ItemSummary, LibraryFacets } from '../lib/api';

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
  });
  return { calls, argsOf: (cmd) => calls.filter((c) => c.cmd === cmd).map((c) => c.args) };
}

/** Sets the address without a hashchange event (before the app is rendered). */
export function goTo(hash: string): void {
  history.replaceState(null, '', hash);
}

export function summary(partial: Partial<ItemSummary> & Pick<ItemSummary, 'kind' | 'id' | 'title'>): ItemSummary {
  return { summary: '', lang: 'en', fallback: false, ...partial };
}
