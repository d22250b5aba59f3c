import { render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../App.svelte';
import type { RelayStatus, SyncStatus } from '../lib/api';
import { setLang } from '../lib/i18n/index.svelte';
import { emitSyncStatus, goTo, mockBackend, readyStatus, syncStatus, type Reply } from '../test/backend';

const SERVER = 'https://ecommunity.example.org';
const signedIn = (partial: Partial<SyncStatus> = {}) =>
  syncStatus({ state: 'up_to_date', server: SERVER, account: 'ana', ...partial });

/** 10:42 today, local time, in Unix seconds. */
function todayAt(hours: number, minutes: number): number {
  const d = new Date();
  d.setHours(hours, minutes, 0, 0);
  return Math.floor(d.getTime() / 1000);
}

const shortTime = (secs: number, lang = 'en') => new Intl.DateTimeFormat(lang, { timeStyle: 'short' }).format(new Date(secs * 1000));

function relay(partial: Partial<RelayStatus> = {}): RelayStatus {
  return {
    address: 'http://192.168.1.20:8787',
    heard_at: '2026-12-07T09:42:00Z',
    uplink_reachable: true,
    last_contact: todayAt(10, 42),
    community_signed_at: todayAt(10, 40),
    held: 0,
    credential_expires_at: todayAt(10, 0) + 10 * 86400,
    ...partial,
  };
}

async function open(replies: Record<string, Reply> = {}, status = signedIn()) {
  goTo('#/sync');
  const backend = mockBackend({ sync_status: status, ...replies });
  const user = userEvent.setup();
  render(App);
  await screen.findByTestId('relay');
  return { backend, user };
}

describe('Workshop relay', () => {
  it('is not offered before signing in', async () => {
    goTo('#/sync');
    mockBackend();
    render(App);
    await screen.findByTestId('signin-form');
    expect(screen.queryByTestId('relay')).toBeNull();
  });

  it('syncing directly: says so, offers the address field and no "Sync directly"', async () => {
    await open();
    expect(screen.getByTestId('relay-status').textContent).toBe('Syncing directly with the e-community server.');
    expect((screen.getByTestId('relay-address') as HTMLInputElement).value).toBe('');
    expect(screen.queryByTestId('relay-clear')).toBeNull();
    expect(screen.queryByTestId('relay-held')).toBeNull();
  });

  it('uses the typed relay, then shows where it stands and what it holds', async () => {
    const contact = todayAt(10, 42);
    const { backend, user } = await open({
      use_relay: signedIn({ waiting: 3, relay: relay({ held: 2, last_contact: contact }) }),
    });
    await user.type(screen.getByTestId('relay-address'), ' 192.168.1.20:8787 ');
    await user.click(screen.getByTestId('relay-use'));
    await waitFor(() =>
      expect(screen.getByTestId('relay-status').textContent).toBe(
        `Syncing through the relay at 192.168.1.20:8787 — it last reached the server at ${shortTime(contact)}.`,
      ),
    );
    expect(backend.argsOf('use_relay')).toEqual([{ address: '192.168.1.20:8787' }]);
    expect(screen.getByTestId('relay-held').textContent).toBe('2 changes at the relay');
    expect(screen.getByTestId('sync-waiting').textContent).toBe('3');
    expect(screen.getByTestId('relay-fresh').textContent).toContain('The forum and events here are as the server had them at');
    expect(screen.queryByTestId('relay-no-pass')).toBeNull();
  });

  it('a relay that cannot reach the server: the changes wait there safely', async () => {
    const contact = todayAt(9, 5);
    await open({}, signedIn({ relay: relay({ uplink_reachable: false, last_contact: contact, held: 1 }) }));
    expect(screen.getByTestId('relay-status').textContent).toBe(
      `Syncing through the relay at 192.168.1.20:8787 — it cannot reach the server now (it last did at ${shortTime(contact)}); your changes wait there safely.`,
    );
    expect(screen.getByTestId('relay-held').textContent).toBe('1 change at the relay');
    expect((screen.getByTestId('relay-address') as HTMLInputElement).value).toBe('192.168.1.20:8787');
  });

  it('an acknowledged change leaves the count as the status comes in', async () => {
    await open({}, signedIn({ relay: relay({ held: 2 }) }));
    expect(screen.getByTestId('relay-held').textContent).toBe('2 changes at the relay');
    await emitSyncStatus(signedIn({ relay: relay({ held: 0 }) }));
    await waitFor(() => expect(screen.queryByTestId('relay-held')).toBeNull());
  });

  it('a refused relay says why, keeps what was typed and sets nothing', async () => {
    const { user } = await open({
      use_relay: () =>
        Promise.reject({
          code: 'relay_other_server',
          params: { address: 'http://10.0.0.9:8787', upstream: 'https://other.example.org' },
          message: 'forwards to another server',
        }),
    });
    await user.type(screen.getByTestId('relay-address'), '10.0.0.9:8787');
    await user.click(screen.getByTestId('relay-use'));
    const error = await screen.findByTestId('relay-error');
    expect(error.getAttribute('role')).toBe('alert');
    expect(error.textContent).toBe(
      'The relay was not set. The relay at http://10.0.0.9:8787 forwards to another e-community server, not yours. Ask the trainer, or sync directly.',
    );
    expect((screen.getByTestId('relay-address') as HTMLInputElement).value).toBe('10.0.0.9:8787');
    expect(screen.getByTestId('relay-status').textContent).toBe('Syncing directly with the e-community server.');
  });

  it('an empty address is refused without calling', async () => {
    const { backend, user } = await open();
    await user.click(screen.getByTestId('relay-use'));
    expect((await screen.findByTestId('relay-error')).textContent).toContain('Enter the relay address the trainer gave you');
    expect(backend.argsOf('use_relay')).toEqual([]);
  });

  it('"Sync directly" forgets the relay', async () => {
    const { backend, user } = await open({ clear_relay: signedIn() }, signedIn({ relay: relay() }));
    await user.click(screen.getByTestId('relay-clear'));
    await waitFor(() => expect(screen.getByTestId('relay-status').textContent).toBe('Syncing directly with the e-community server.'));
    expect(backend.argsOf('clear_relay')).toEqual([{}]);
    expect(screen.queryByTestId('relay-clear')).toBeNull();
  });

  it('without a pass from the server: says to sync directly once', async () => {
    await open({}, signedIn({ relay: relay({ credential_expires_at: null, uplink_reachable: null, last_contact: null }) }));
    expect(screen.getByTestId('relay-status').textContent).toBe(
      'Syncing through the relay at 192.168.1.20:8787 — waiting for its first answer.',
    );
    expect(screen.getByTestId('relay-no-pass')).toBeTruthy();
  });

  it('speaks French and Spanish', async () => {
    for (const [lang, status, held] of [
      ['fr', 'Synchronisation par le relais 192.168.1.20:8787 — il n’a pas encore joint le serveur ; vos modifications y attendent en sécurité.', '2 modifications au relais'],
      ['es', 'Sincronizando a través del relé 192.168.1.20:8787: aún no ha llegado al servidor; sus cambios esperan allí de forma segura.', '2 cambios en el relé'],
    ] as const) {
      goTo('#/sync');
      mockBackend({
        app_status: { ...readyStatus, language: lang },
        sync_status: signedIn({ relay: relay({ held: 2, uplink_reachable: false, last_contact: null }) }),
      });
      const { unmount } = render(App);
      await waitFor(() => expect(screen.getByTestId('relay-status').textContent).toBe(status));
      expect(screen.getByTestId('relay-held').textContent).toBe(held);
      unmount();
    }
    setLang('en');
  });
});
