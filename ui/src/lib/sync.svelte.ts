// The sync status shown everywhere: fetched once at start, then kept current by the Rust
// side's SYNC_STATUS_EVENT. Also tells the Rust side when the webview sees the network
// come back, so it can probe the server at once instead of waiting for its next attempt.
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import { api, CONTENT_UPDATED_EVENT, SYNC_STATUS_EVENT, type SyncStatus } from './api';
import { errorMessage } from './errors';

/** How often relative times ("5 minutes ago") are brought up to date. */
const CLOCK_TICK_MS = 30_000;

class SyncStore {
  /** null until the first answer of sync_status. */
  status = $state<SyncStatus | null>(null);
  /** Why sync_status could not be read at start (the indicator then says so). */
  loadError = $state<string | null>(null);
  /** A "Sync now" started here is waiting for its answer. */
  busy = $state(false);
  /** What went wrong with the last "Sync now" started here. */
  actionError = $state<string | null>(null);
  /** Changes whenever a new status arrives: lists that depend on it reload. */
  revision = $state(0);
  /** Version of a content pack that sync installed while the app was open (reload to see it). */
  contentUpdated = $state<string | null>(null);
  /** The current time, refreshed now and then for relative times. */
  now = $state(Date.now());

  // Bumped by every status received, so a slow first sync_status never overwrites a newer event.
  #seq = 0;
  #starts = 0;

  /** Starts following the status; the returned function stops (for `$effect`/`onDestroy`). */
  start(): () => void {
    const run = ++this.#starts;
    let stopped = false;
    const unlisteners: UnlistenFn[] = [];
    const follow = <T>(event: string, handler: (payload: T) => void) =>
      listen<T>(event, (e) => handler(e.payload)).then(
        (fn) => {
          if (stopped) void fn();
          else unlisteners.push(fn);
        },
        () => {
          // Outside Tauri (or events not allowed): the status is still fetched on demand.
        },
      );
    void follow<SyncStatus>(SYNC_STATUS_EVENT, (status) => this.apply(status));
    void follow<string>(CONTENT_UPDATED_EVENT, (version) => (this.contentUpdated = version));

    const onOnline = () => {
      api.networkChanged().catch(() => {
        // Only a hint to the Rust side; its own timer retries anyway.
      });
    };
    window.addEventListener('online', onOnline);
    const clock = setInterval(() => (this.now = Date.now()), CLOCK_TICK_MS);

    void this.refresh();

    return () => {
      stopped = true;
      window.removeEventListener('online', onOnline);
      clearInterval(clock);
      for (const fn of unlisteners.splice(0)) void fn();
      if (run === this.#starts) this.#reset();
    };
  }

  /** Reads the status again from the Rust side. */
  async refresh(): Promise<void> {
    const seq = this.#seq;
    try {
      const status = await api.syncStatus();
      if (seq === this.#seq) this.apply(status);
    } catch (e) {
      if (seq === this.#seq && this.status === null) this.loadError = errorMessage(e);
    }
  }

  /** Takes a status from an event or from a command's answer. */
  apply(status: SyncStatus): void {
    this.#seq++;
    this.status = status;
    this.loadError = null;
    if (status.state === 'up_to_date') this.actionError = null;
    this.now = Date.now();
    this.revision++;
  }

  get canSyncNow(): boolean {
    const state = this.status?.state;
    return !this.busy && state !== undefined && state !== 'syncing' && state !== 'signed_out';
  }

  /** "Sync now": shows the status it returns, or its error message. */
  async syncNow(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.actionError = null;
    try {
      this.apply(await api.syncNow());
    } catch (e) {
      this.actionError = errorMessage(e);
    } finally {
      this.busy = false;
    }
  }

  #reset(): void {
    this.#seq++;
    this.status = null;
    this.loadError = null;
    this.busy = false;
    this.actionError = null;
    this.contentUpdated = null;
  }
}

export const syncStore = new SyncStore();
