import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../App.svelte';
import type { SyncStatus } from '../lib/api';
import { setLang } from '../lib/i18n/index.svelte';
import { syncStore } from '../lib/sync.svelte';
import { emitSyncStatus, mockBackend, syncStatus, type Reply } from '../test/backend';

const signedIn = (partial: Partial<SyncStatus> = {}) =>
  syncStatus({ state: 'up_to_date', server: 'https://ecommunity.example.org', account: 'ana', ...partial });

async function start(replies: Record<string, Reply> = {}) {
  const backend = mockBackend(replies);
  const user = userEvent.setup();
  render(App);
  const indicator = await screen.findByTestId('sync-status');
  await waitFor(() => expect(indicator.getAttribute('data-state')).not.toBe('unknown'));
  return { backend, user, indicator };
}

// Collapses template whitespace only (not the narrow no-break space of French punctuation).
const text = (el: HTMLElement) => el.textContent?.replace(/[ \t\n]+/g, ' ').trim();

describe('sync indicator', () => {
  it('starts from sync_status: not signed in is a link to the sign-in page', async () => {
    const { backend, indicator } = await start();
    expect(backend.argsOf('sync_status')).toHaveLength(1);
    expect(indicator.getAttribute('data-state')).toBe('signed_out');
    expect(indicator.getAttribute('role')).toBe('status');
    expect(indicator.getAttribute('aria-live')).toBe('polite');
    expect(text(indicator)).toContain('Not signed in');
    const link = within(indicator).getByRole('link', { name: /Not signed in/ });
    expect(link.getAttribute('href')).toBe('#/sync');
    expect(indicator.querySelector('svg')).toBeTruthy();
    expect((screen.getByTestId('sync-now') as HTMLButtonElement).disabled).toBe(true);
  });

  it('follows the sync-status event through every state', async () => {
    const { indicator } = await start();
    const cases: [SyncStatus, string][] = [
      [signedIn({ state: 'offline', waiting: 2 }), 'Offline'],
      [signedIn({ state: 'syncing', progress: { phase: 'pushing', done: 3, total: 10, bytes_done: 0 } }), 'Syncing… 3/10'],
      [signedIn({ state: 'syncing', progress: null }), 'Syncing…'],
      [signedIn({ state: 'waiting', waiting: 1 }), '1 waiting'],
      [signedIn({ state: 'waiting', waiting: 4 }), '4 waiting'],
      [signedIn({ state: 'needs_attention', conflicts: 1 }), 'Needs attention'],
      [signedIn({ state: 'up_to_date', last_sync: null }), 'Up to date'],
    ];
    for (const [status, words] of cases) {
      await emitSyncStatus(status);
      await waitFor(() => expect(indicator.getAttribute('data-state')).toBe(status.state));
      expect(text(indicator)).toBe(`Sync: ${words}`);
    }
  });

  it('shows each state with its own icon and "Sync now" only when it can work', async () => {
    const { indicator } = await start();
    const button = screen.getByTestId('sync-now') as HTMLButtonElement;
    const shapes = new Set<string>();
    for (const state of ['offline', 'syncing', 'waiting', 'needs_attention', 'up_to_date', 'signed_out'] as const) {
      await emitSyncStatus(state === 'signed_out' ? syncStatus() : signedIn({ state, waiting: 2 }));
      await waitFor(() => expect(indicator.getAttribute('data-state')).toBe(state));
      shapes.add(indicator.querySelector('svg')!.innerHTML);
      expect(button.disabled, state).toBe(state === 'syncing' || state === 'signed_out');
    }
    expect(shapes.size).toBe(6);
  });

  it('says when it last synced, relatively, with the exact time as a tooltip', async () => {
    const lastSync = new Date(Date.now() - 5 * 60_000).toISOString();
    const { indicator } = await start({ sync_status: signedIn({ last_sync: lastSync }) });
    expect(indicator.getAttribute('data-state')).toBe('up_to_date');
    const when = within(indicator).getByTestId('sync-last');
    expect(when.textContent).toBe('5 minutes ago');
    expect(when.getAttribute('datetime')).toBe(lastSync);
    expect(when.getAttribute('title')).toMatch(/^Last sync: .*\d/);
    expect(text(indicator)).toBe('Sync: Up to date · 5 minutes ago');
  });

  it('is translated', async () => {
    const { indicator } = await start({ sync_status: signedIn({ state: 'waiting', waiting: 3 }) });
    setLang('fr');
    await waitFor(() => expect(text(indicator)).toBe('Synchronisation\u202f: 3 en attente'));
    expect(screen.getByTestId('sync-now').textContent).toBe('Synchroniser maintenant');
    setLang('es');
    await waitFor(() => expect(text(indicator)).toBe('Sincronización: 3 pendientes'));
  });

  it('says so when the status cannot be read', async () => {
    mockBackend({ sync_status: () => Promise.reject({ code: 'internal', message: 'sync not managed' }) });
    render(App);
    const indicator = await screen.findByTestId('sync-status');
    await waitFor(() => expect(text(indicator)).toBe('Sync: Sync status unavailable'));
    expect(indicator.getAttribute('data-state')).toBe('unknown');
    expect(indicator.getAttribute('title')).toBe('Something went wrong inside Stopover. Your data is safe; please try again.');
  });

  it('Sync now calls sync_now and shows the status it returns', async () => {
    let finish: (s: SyncStatus) => void = () => {};
    const { backend, user, indicator } = await start({
      sync_status: signedIn({ state: 'waiting', waiting: 2 }),
      sync_now: () => new Promise<SyncStatus>((r) => (finish = r)),
    });
    const button = screen.getByTestId('sync-now') as HTMLButtonElement;
    expect(button.disabled).toBe(false);
    await user.click(button);
    expect(backend.argsOf('sync_now')).toEqual([{}]);
    expect(button.disabled).toBe(true);
    expect(button.getAttribute('aria-busy')).toBe('true');
    finish(signedIn({ last_sync: new Date().toISOString() }));
    await waitFor(() => expect(indicator.getAttribute('data-state')).toBe('up_to_date'));
    expect(text(indicator)).toBe('Sync: Up to date · now');
    expect(button.disabled).toBe(false);
  });

  it('shows why Sync now failed', async () => {
    const { user } = await start({
      sync_status: signedIn({ state: 'waiting', waiting: 2 }),
      sync_now: () => Promise.reject({ code: 'network', params: {}, message: 'could not reach the server: timed out' }),
    });
    await user.click(screen.getByTestId('sync-now'));
    const error = await screen.findByTestId('sync-now-error');
    expect(error.textContent?.trim()).toBe(
      'Could not sync: The e-community server could not be reached. Your changes are kept and will be sent later.',
    );
    expect(error.getAttribute('role')).toBe('alert');
  });

  it('tells the Rust side when the network comes back', async () => {
    const { backend } = await start();
    expect(backend.argsOf('network_changed')).toEqual([]);
    window.dispatchEvent(new Event('online'));
    await waitFor(() => expect(backend.argsOf('network_changed')).toEqual([{}]));
  });

  it('stops listening when the app goes away', async () => {
    const { backend } = await start();
    const { cleanup } = await import('@testing-library/svelte');
    cleanup();
    expect(syncStore.status).toBeNull();
    await emitSyncStatus(signedIn());
    window.dispatchEvent(new Event('online'));
    await new Promise((r) => setTimeout(r, 20));
    expect(syncStore.status).toBeNull();
    expect(backend.argsOf('network_changed')).toEqual([]);
  });
});
