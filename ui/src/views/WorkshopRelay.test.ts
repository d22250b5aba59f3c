import { render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../App.svelte';
import type { FoundRelay, RelayStatus, SyncStatus } from '../lib/api';
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

describe('Finding a relay on the network', () => {
  const ours: FoundRelay = {
    address: 'http://192.168.1.20:8787',
    name: 'Stopover relay on trainer-laptop',
    upstream: 'https://ecommunity.example.org',
    same_server: true,
  };
  const theirs: FoundRelay = {
    address: 'http://192.168.1.31:8787',
    name: 'Stopover relay on other-room',
    upstream: 'https://other.example.org',
    same_server: false,
  };

  it('searches, lists what it found (this server’s relay first, another server’s marked), and picking fills the address', async () => {
    let answer: (found: FoundRelay[]) => void = () => {};
    const { backend, user } = await open({
      find_relays: () => new Promise<FoundRelay[]>((resolve) => (answer = resolve)),
      use_relay: signedIn({ relay: relay() }),
    });
    const find = screen.getByTestId('relay-find') as HTMLButtonElement;
    expect(find.textContent?.trim()).toBe('Find a relay on this network');
    await user.click(find);
    await waitFor(() => expect(find.textContent?.trim()).toBe('Searching this network…'));
    expect(find.disabled).toBe(true);
    expect(find.getAttribute('aria-busy')).toBe('true');
    answer([ours, theirs]);
    const items = await screen.findAllByTestId('relay-found');
    expect(find.disabled).toBe(false);
    expect(items).toHaveLength(2);
    expect(items[0].textContent).toContain('Stopover relay on trainer-laptop');
    expect(items[0].textContent).toContain('192.168.1.20:8787');
    expect(items[0].textContent).not.toContain('http://');
    expect(items[0].querySelector('[data-testid="relay-found-other"]')).toBeNull();
    expect(items[1].getAttribute('data-same-server')).toBe('false');
    expect(items[1].querySelector('[data-testid="relay-found-other"]')?.textContent?.trim()).toBe(
      'Forwards to another e-community server (https://other.example.org), not yours.',
    );
    expect(backend.argsOf('find_relays')).toEqual([{}]);

    // Picking fills the field and sets nothing: "Sync through this relay" checks it.
    await user.click(items[0].querySelector('button')!);
    const field = screen.getByTestId('relay-address') as HTMLInputElement;
    expect(field.value).toBe('192.168.1.20:8787');
    expect(document.activeElement).toBe(field);
    expect(backend.argsOf('use_relay')).toEqual([]);
    await user.click(screen.getByTestId('relay-use'));
    await waitFor(() => expect(backend.argsOf('use_relay')).toEqual([{ address: '192.168.1.20:8787' }]));
  });

  it('a relay that does not say its server is marked too', async () => {
    const { user } = await open({ find_relays: [{ ...theirs, upstream: null }] });
    await user.click(screen.getByTestId('relay-find'));
    const [item] = await screen.findAllByTestId('relay-found');
    expect(item.querySelector('[data-testid="relay-found-other"]')?.textContent?.trim()).toBe(
      'Does not say which e-community server it forwards to.',
    );
  });

  it('none found: says so and that the address can be typed; what was typed stays', async () => {
    const { user } = await open({ find_relays: [] });
    await user.type(screen.getByTestId('relay-address'), '10.0.0.9:87');
    await user.click(screen.getByTestId('relay-find'));
    expect((await screen.findByTestId('relay-none')).textContent).toBe(
      'No relay answered on this network. Some wifi networks block this search: type the address the trainer gave you.',
    );
    expect(screen.queryAllByTestId('relay-found')).toHaveLength(0);
    expect((screen.getByTestId('relay-address') as HTMLInputElement).value).toBe('10.0.0.9:87');
  });

  it('a search that cannot run says to type the address; searching again clears it', async () => {
    let calls = 0;
    const { user } = await open({
      find_relays: () => (++calls === 1 ? Promise.reject({ code: 'network', params: {}, message: 'no interface' }) : [ours]),
    });
    await user.click(screen.getByTestId('relay-find'));
    expect((await screen.findByTestId('relay-find-failed')).textContent).toBe(
      'This laptop could not search the network. Type the address the trainer gave you instead.',
    );
    await user.click(screen.getByTestId('relay-find'));
    expect(await screen.findAllByTestId('relay-found')).toHaveLength(1);
    expect(screen.queryByTestId('relay-find-failed')).toBeNull();
  });

  it('speaks French and Spanish', async () => {
    for (const [lang, button, none, other] of [
      [
        'fr',
        'Chercher un relais sur ce réseau',
        'Aucun relais n’a répondu sur ce réseau. Certains réseaux wifi bloquent cette recherche : saisissez l’adresse donnée par le formateur.',
        'Transmet à un autre serveur (https://other.example.org) que celui de votre e-communauté.',
      ],
      [
        'es',
        'Buscar un relé en esta red',
        'Ningún relé respondió en esta red. Algunas redes wifi bloquean esta búsqueda: escriba la dirección que le dio el formador.',
        'Transmite a otro servidor (https://other.example.org), no al de su e-community.',
      ],
    ] as const) {
      goTo('#/sync');
      let calls = 0;
      mockBackend({
        app_status: { ...readyStatus, language: lang },
        sync_status: signedIn(),
        find_relays: () => (++calls === 1 ? [] : [theirs]),
      });
      const user = userEvent.setup();
      const { unmount } = render(App);
      const find = await screen.findByTestId('relay-find');
      await waitFor(() => expect(find.textContent?.trim()).toBe(button));
      await user.click(find);
      expect((await screen.findByTestId('relay-none')).textContent).toBe(none);
      await user.click(find);
      expect((await screen.findByTestId('relay-found-other')).textContent?.trim()).toBe(other);
      unmount();
    }
    setLang('en');
  });
});
