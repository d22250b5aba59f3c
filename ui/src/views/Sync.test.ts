import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../App.svelte';
import type { PendingOperation, RejectedOperation, SyncConflict, SyncStatus } from '../lib/api';
import { emitSyncStatus, goTo, mockBackend, syncStatus, type Reply } from '../test/backend';

const SERVER = 'https://ecommunity.example.org';
const signedIn = (partial: Partial<SyncStatus> = {}) =>
  syncStatus({ state: 'up_to_date', server: SERVER, account: 'ana', ...partial });

const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();

function op(partial: Partial<PendingOperation>): PendingOperation {
  return {
    op_id: crypto.randomUUID(),
    kind: 'checklist_progress',
    entity_id: 'cop-preparation/register',
    field: 'done',
    subject: { kind: 'checklist_progress', title: 'Preparing for a COP', detail: 'Register the delegation' },
    seq: 1,
    base_version: 0,
    value: true,
    created_at: minutesAgo(3),
    sent: false,
    ...partial,
  };
}

const conflict: SyncConflict = {
  kind: 'checklist_progress',
  entity_id: 'cop-preparation/register',
  field: 'note',
  subject: { kind: 'checklist_progress', title: 'Preparing for a COP', detail: 'Register the delegation' },
  local_value: 'Sent to the ministry',
  server_value: 'Waiting for the embassy',
  server_version: 7,
  created_at: minutesAgo(10),
};

async function open(replies: Record<string, Reply> = {}) {
  goTo('#/sync');
  const backend = mockBackend(replies);
  const user = userEvent.setup();
  render(App);
  const page = await screen.findByTestId('sync-page');
  await waitFor(() => expect(within(page).queryByText('Loading…')).toBeNull());
  return { backend, user, page };
}

const field = (id: string) => screen.getByTestId(id) as HTMLInputElement;

describe('Sync page', () => {
  it('has a navigation entry', async () => {
    const { user } = await open();
    const nav = screen.getByTestId('nav-sync');
    expect(nav.textContent).toBe('Sync');
    expect(nav.getAttribute('aria-current')).toBe('page');
    await user.click(screen.getByTestId('nav-home'));
    await screen.findByTestId('home');
    expect(screen.getByTestId('nav-sync').getAttribute('aria-current')).toBeNull();
  });

  it('signed out: shows the sign-in form with the remembered server', async () => {
    await open({ sync_status: syncStatus({ server: SERVER }) });
    expect(field('signin-server').value).toBe(SERVER);
    expect(field('signin-server').placeholder).toBe('https://ecommunity.example.org');
    expect(field('signin-user').value).toBe('');
    const password = field('signin-password');
    expect(password.type).toBe('password');
    expect(password.getAttribute('autocomplete')).toBe('current-password');
    expect(screen.getByLabelText('Server address')).toBe(field('signin-server'));
    expect(screen.getByLabelText('User name')).toBe(field('signin-user'));
    expect(screen.getByLabelText('Password')).toBe(password);
    expect(screen.queryByTestId('signout')).toBeNull();
  });

  it('sign-in calls sign_in and then shows the account', async () => {
    const { backend, user } = await open({ sign_in: signedIn({ state: 'waiting', waiting: 2 }) });
    await user.type(field('signin-server'), SERVER);
    await user.type(field('signin-user'), 'ana');
    await user.type(field('signin-password'), 's3cret{Enter}');
    await waitFor(() => expect(backend.argsOf('sign_in')).toEqual([{ server: SERVER, username: 'ana', password: 's3cret', newPassword: null }]));
    expect((await screen.findByTestId('sync-account')).textContent).toBe('ana');
    expect(screen.getByTestId('sync-server').textContent).toBe(SERVER);
    expect(screen.queryByTestId('signin-form')).toBeNull();
    expect(screen.getByTestId('sync-status').getAttribute('data-state')).toBe('waiting');
  });

  it('a failed sign-in shows the message and clears only the password', async () => {
    const { backend, user } = await open({
      sign_in: () =>
        Promise.reject({ code: 'server', server_code: 'bad_credentials', params: {}, message: 'the server answered 401: wrong username or password' }),
    });
    await user.type(field('signin-server'), SERVER);
    await user.type(field('signin-user'), 'ana');
    await user.type(field('signin-password'), 'wrong');
    await user.click(screen.getByTestId('signin-submit'));
    const error = await screen.findByTestId('signin-error');
    expect(error.textContent).toBe('Could not sign in: Wrong user name or password.');
    expect(error.getAttribute('role')).toBe('alert');
    expect(field('signin-server').value).toBe(SERVER);
    expect(field('signin-user').value).toBe('ana');
    expect(field('signin-password').value).toBe('');
    expect(document.activeElement).toBe(field('signin-password'));
    expect(backend.argsOf('sign_in')).toHaveLength(1);
  });

  it('asks for every field before calling sign_in', async () => {
    const { backend, user } = await open();
    await user.type(field('signin-user'), 'ana');
    await user.click(screen.getByTestId('signin-submit'));
    expect((await screen.findByTestId('signin-error')).textContent).toBe(
      'Enter the server address, your user name and your password.',
    );
    expect(backend.argsOf('sign_in')).toEqual([]);
  });

  it('signed in: shows the details, and Sync now and Sign out work', async () => {
    const { backend, user } = await open({
      sync_status: signedIn({
        state: 'needs_attention',
        waiting: 2,
        conflicts: 1,
        rejected: 3,
        last_sync: minutesAgo(120),
        last_error: { code: 'network', params: {}, message: 'could not reach the server: connection refused' },
        next_attempt: new Date(Date.now() + 5 * 60_000).toISOString(),
      }),
      sync_now: signedIn({ last_sync: minutesAgo(0) }),
      sign_out: syncStatus({ server: SERVER }),
    });
    const details = screen.getByTestId('sync-details');
    expect(screen.getByTestId('sync-waiting').textContent).toBe('2');
    expect(screen.getByTestId('sync-conflicts').textContent).toBe('1');
    expect(screen.getByTestId('sync-rejected').textContent).toBe('3');
    expect(screen.getByTestId('sync-last-error').textContent).toBe(
      'The e-community server could not be reached. Your changes are kept and will be sent later.',
    );
    expect(details.textContent).toContain('2 hours ago');
    expect(details.textContent).toContain('in 5 minutes');

    await user.click(screen.getByTestId('sync-now-page'));
    expect(backend.argsOf('sync_now')).toEqual([{}]);
    await waitFor(() => expect(screen.queryByTestId('sync-last-error')).toBeNull());

    await user.click(screen.getByTestId('signout'));
    expect(backend.argsOf('sign_out')).toEqual([{}]);
    expect(((await screen.findByTestId('signin-server')) as HTMLInputElement).value).toBe(SERVER);
    expect(screen.getByTestId('sync-status').getAttribute('data-state')).toBe('signed_out');
  });

  it('forgetting the device asks first and says local data stays', async () => {
    const { backend, user } = await open({ sync_status: signedIn(), forget_device: syncStatus() });
    const forget = screen.getByTestId('forget-device');
    await user.click(forget);
    const confirm = screen.getByTestId('forget-confirm');
    expect(confirm.textContent).toContain('removes the sign-in token');
    expect(confirm.textContent).toContain('stay on this laptop');
    expect(forget.getAttribute('aria-expanded')).toBe('true');
    expect(document.activeElement).toBe(screen.getByTestId('forget-cancel'));
    expect(backend.argsOf('forget_device')).toEqual([]);

    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByTestId('forget-confirm')).toBeNull());
    expect(document.activeElement).toBe(forget);

    await user.click(forget);
    await user.click(screen.getByTestId('forget-confirm-yes'));
    await waitFor(() => expect(backend.argsOf('forget_device')).toEqual([{}]));
    expect(await screen.findByTestId('signin-form')).toBeTruthy();
    expect(field('signin-server').value).toBe('');
  });

  it('sign-in required: a notice and the form pre-filled with server and user', async () => {
    const { backend, user } = await open({
      sync_status: signedIn({ state: 'needs_attention', sign_in_required: true, waiting: 5 }),
      sign_in: signedIn(),
    });
    const notice = screen.getByTestId('signin-required');
    expect(notice.textContent).toContain('Sign in again');
    expect(notice.textContent).toContain('your queued changes are kept');
    expect(field('signin-server').value).toBe(SERVER);
    expect(field('signin-user').value).toBe('ana');
    expect(screen.getByTestId('sync-waiting').textContent).toBe('5');
    await user.type(field('signin-password'), 'new-pass');
    await user.click(screen.getByTestId('signin-submit'));
    await waitFor(() => expect(backend.argsOf('sign_in')).toEqual([{ server: SERVER, username: 'ana', password: 'new-pass', newPassword: null }]));
    await waitFor(() => expect(screen.queryByTestId('signin-required')).toBeNull());
  });
});

describe('Sync lists', () => {
  it('describes waiting operations in words', async () => {
    await open({
      sync_status: signedIn({ state: 'waiting', waiting: 3 }),
      list_outbox: [
        op({ entity_id: 'cop-preparation/register', value: true, sent: true }),
        op({
          entity_id: 'cop-preparation/credentials',
          value: false,
          subject: { kind: 'checklist_progress', title: 'Preparing for a COP', detail: 'Prepare the credentials' },
        }),
        op({
          entity_id: 'after-cop/report',
          field: 'note',
          value: 'Draft sent',
          subject: { kind: 'checklist_progress', title: 'After the COP', detail: 'Report back' },
        }),
      ],
    });
    const rows = await screen.findAllByTestId('outbox-op');
    expect(rows.map((r) => r.querySelector('.sync-item-title')?.textContent)).toEqual([
      '“Register the delegation” — ticked',
      '“Prepare the credentials” — unticked',
      '“Report back” — note changed',
    ]);
    expect(rows[0]!.textContent).toContain('Sent, waiting for the server’s answer');
    expect(rows[1]!.textContent).toContain('Not sent yet');
    expect(rows[0]!.textContent).toContain('3 minutes ago');
    expect(rows[2]!.textContent).toContain('Checklist: After the COP');
  });

  it('shows both sides of a conflict; Keep mine calls resolve_conflict and refreshes', async () => {
    let conflicts: SyncConflict[] = [conflict];
    const { backend, user } = await open({
      sync_status: signedIn({ state: 'needs_attention', conflicts: 1 }),
      list_conflicts: () => conflicts,
      resolve_conflict: () => {
        conflicts = [];
        return signedIn({ state: 'waiting', waiting: 1 });
      },
    });
    const item = await screen.findByTestId('conflict');
    expect(item.textContent).toContain('Preparing for a COP — Register the delegation');
    expect(item.textContent).not.toContain('cop-preparation');
    const mine = within(item).getByTestId('conflict-mine');
    const theirs = within(item).getByTestId('conflict-theirs');
    expect(mine.textContent).toContain('On this laptop');
    expect(mine.textContent).toContain('Sent to the ministry');
    expect(theirs.textContent).toContain('On the server');
    expect(theirs.textContent).toContain('Waiting for the embassy');

    const before = backend.argsOf('list_conflicts').length;
    await user.click(within(item).getByTestId('conflict-keep-mine'));
    expect(backend.argsOf('resolve_conflict')).toEqual([
      { kind: 'checklist_progress', entityId: 'cop-preparation/register', field: 'note', choice: 'keep_mine' },
    ]);
    await waitFor(() => expect(screen.queryByTestId('conflict')).toBeNull());
    expect(backend.argsOf('list_conflicts').length).toBeGreaterThan(before);
    expect(screen.getByText('No conflicts.')).toBeTruthy();
    expect(screen.getByTestId('sync-status').getAttribute('data-state')).toBe('waiting');
  });

  it('Take theirs sends take_theirs; a failure is shown on the conflict', async () => {
    const { backend, user } = await open({
      sync_status: signedIn({ state: 'needs_attention', conflicts: 1 }),
      list_conflicts: [{ ...conflict, field: 'done', local_value: true, server_value: false }],
      resolve_conflict: () => Promise.reject({ code: 'database', message: 'disk full' }),
    });
    const item = await screen.findByTestId('conflict');
    expect(within(item).getByTestId('conflict-mine').textContent).toContain('Ticked');
    expect(within(item).getByTestId('conflict-theirs').textContent).toContain('Not ticked');
    await user.click(within(item).getByTestId('conflict-take-theirs'));
    expect(backend.argsOf('resolve_conflict')[0]).toMatchObject({ field: 'done', choice: 'take_theirs' });
    expect((await within(item).findByRole('alert')).textContent).toBe(
      'The conflict could not be resolved: Stopover could not read or write its data file.',
    );
  });

  it('shows refused operations with the server’s reason', async () => {
    const rejected: RejectedOperation = {
      op_id: 'x',
      kind: 'checklist_progress',
      entity_id: 'cop-preparation/register',
      field: 'note',
      subject: { kind: 'checklist_progress', title: 'Preparing for a COP', detail: 'Register the delegation' },
      value: 'x'.repeat(10),
      refusal: { code: 'text_too_long', params: { max: 4000 } },
      reason: 'field `note` holds at most 4000 characters',
      created_at: minutesAgo(60),
    };
    await open({ sync_status: signedIn({ state: 'needs_attention', rejected: 1 }), list_rejected: [rejected] });
    const row = await screen.findByTestId('rejected-op');
    expect(row.textContent).toContain('“Register the delegation” — note changed');
    expect(row.textContent).toContain('Why: Too long: at most 4000 characters.');
    expect(row.textContent).not.toContain('cop-preparation');
  });

  it('reloads the lists when a sync-status event arrives', async () => {
    let outbox: PendingOperation[] = [op({})];
    const { backend } = await open({ sync_status: signedIn({ state: 'waiting', waiting: 1 }), list_outbox: () => outbox });
    expect(await screen.findAllByTestId('outbox-op')).toHaveLength(1);
    const calls = backend.argsOf('list_outbox').length;
    outbox = [];
    await emitSyncStatus(signedIn());
    expect(await screen.findByTestId('outbox-empty')).toBeTruthy();
    expect(backend.argsOf('list_outbox').length).toBeGreaterThan(calls);
    expect(backend.argsOf('list_rejected').length).toBeGreaterThan(1);
    expect(backend.argsOf('list_conflicts').length).toBeGreaterThan(1);
  });

  it('is translated', async () => {
    const { user } = await open({ sync_status: signedIn({ state: 'waiting', waiting: 1 }), list_outbox: [op({})], list_conflicts: [conflict] });
    await user.selectOptions(screen.getByTestId('lang-select'), 'es');
    expect(await screen.findByRole('heading', { level: 1, name: 'Sincronización' })).toBeTruthy();
    expect(screen.getByTestId('outbox-op').textContent).toContain('«Register the delegation» — marcado');
    expect(screen.getByTestId('conflict-mine').textContent).toContain('En este equipo');
  });
});
