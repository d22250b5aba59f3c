import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../App.svelte';
import type { BandwidthUsage, SyncStatus } from '../lib/api';
import { goTo, mockBackend, syncStatus, type Args, type Reply } from '../test/backend';

const SERVER = 'https://ecommunity.example.org';
const signedIn = (partial: Partial<SyncStatus> = {}) =>
  syncStatus({ state: 'up_to_date', server: SERVER, account: 'ana', ...partial });

const MiB = 1024 * 1024;
function usage(partial: Partial<BandwidthUsage> = {}): BandwidthUsage {
  return {
    today: [],
    month: [],
    month_total: 0,
    settings: { monthly_budget_mib: null, metered: false },
    over_budget: false,
    deferring: false,
    allowed_until: null,
    ...partial,
  };
}

async function open(replies: Record<string, Reply> = {}) {
  goTo('#/sync');
  const backend = mockBackend({ sync_status: signedIn(), ...replies });
  const user = userEvent.setup();
  render(App);
  await screen.findByTestId('sync-files');
  return { backend, user };
}

describe('Sync with a file', () => {
  it('is not offered before signing in', async () => {
    goTo('#/sync');
    mockBackend();
    render(App);
    await screen.findByTestId('signin-form');
    expect(screen.queryByTestId('sync-files')).toBeNull();
    expect(screen.queryByTestId('bandwidth')).toBeNull();
  });

  it('saves the waiting changes and says where', async () => {
    const { backend, user } = await open({
      save_sync_file: { path: '/home/ana/Documents/Stopover/stopover-changes-2026-12-07.stopsync', operations: 12, bytes: 3 * 1024 },
    });
    await user.click(screen.getByTestId('sync-file-save'));
    expect((await screen.findByTestId('sync-file-saved')).textContent?.trim()).toBe(
      '12 changes saved to /home/ana/Documents/Stopover/stopover-changes-2026-12-07.stopsync (3 KiB).',
    );
    expect(backend.argsOf('save_sync_file')).toEqual([{}]);
  });

  it('saving before the first online sync says what to do', async () => {
    const { user } = await open({
      save_sync_file: () => Promise.reject({ code: 'sync_file_key_missing', params: {}, message: 'sync online once' }),
    });
    await user.click(screen.getByTestId('sync-file-save'));
    const error = await screen.findByTestId('sync-file-error');
    expect(error.getAttribute('role')).toBe('alert');
    expect(error.textContent).toContain('need one online sync first');
  });

  it('loads a reply file: its bytes go to the app, the result is shown', async () => {
    const { backend, user } = await open({
      load_sync_reply: { acknowledged: 7, conflicts: 1, rejected: 0, pulled: 40, applied_locally: 38, more: true },
    });
    const file = new File([new Uint8Array([83, 84, 79, 80])], 'reply.stopsync');
    await user.upload(screen.getByTestId('sync-file-input') as HTMLInputElement, file);
    expect((await screen.findByTestId('sync-file-loaded')).textContent).toBe(
      'Reply loaded: 7 changes confirmed by the server, 40 changes received.',
    );
    expect(screen.getByTestId('sync-file-issues').textContent).toContain('1 conflicts and 0 refused changes');
    expect(screen.getByTestId('sync-file-more')).toBeTruthy();
    expect(backend.argsOf('load_sync_reply')).toEqual([{ bytes: [83, 84, 79, 80] }]);
  });

  it('a refused reply says why and that nothing changed', async () => {
    const { user } = await open({
      load_sync_reply: () => Promise.reject({ code: 'sync_file_tampered', params: {}, message: 'signature does not match' }),
    });
    await user.upload(screen.getByTestId('sync-file-input') as HTMLInputElement, new File([new Uint8Array([1])], 'x.stopsync'));
    const error = await screen.findByTestId('sync-file-error');
    expect(error.textContent).toBe(
      'Nothing was changed. This sync file was changed after it was written, so it cannot be trusted. Ask for it again.',
    );
    expect(screen.queryByTestId('sync-file-loaded')).toBeNull();
  });
});

describe('Data used by sync', () => {
  it('shows today and this month by kind, and the total', async () => {
    await open({
      bandwidth_usage: usage({
        today: [{ kind: 'reports', bytes_up: 2048, bytes_down: 512 }],
        month: [
          { kind: 'reports', bytes_up: 4096, bytes_down: 1024 },
          { kind: 'forum', bytes_up: 0, bytes_down: 3 * MiB },
        ],
        month_total: 4096 + 1024 + 3 * MiB,
      }),
    });
    const reports = await screen.findByTestId('bandwidth-row-reports');
    const cells = within(reports).getAllByRole('cell').map((c) => c.textContent);
    expect(cells).toEqual(['↑ 2 KiB ↓ 512 B', '↑ 4 KiB ↓ 1 KiB']);
    const forum = screen.getByTestId('bandwidth-row-forum');
    expect(within(forum).getByRole('rowheader').textContent).toBe('Forum, directory and events');
    expect(within(forum).getAllByRole('cell').map((c) => c.textContent)).toEqual(['↑ 0 B ↓ 0 B', '↑ 0 B ↓ 3 MiB']);
    expect(screen.queryByTestId('bandwidth-row-attachments')).toBeNull();
    expect(screen.getByTestId('bandwidth-month-total').textContent?.trim()).toBe('This month: 3 MiB.');
  });

  it('over the budget: says what waits, and Allow now lets it go', async () => {
    const until = Math.floor(Date.now() / 1000) + 12 * 3600;
    const { backend, user } = await open({
      bandwidth_usage: usage({
        month_total: 60 * MiB,
        settings: { monthly_budget_mib: 50, metered: false },
        over_budget: true,
        deferring: true,
      }),
      allow_deferred_traffic: usage({
        month_total: 60 * MiB,
        settings: { monthly_budget_mib: 50, metered: false },
        over_budget: true,
        allowed_until: until,
      }),
    });
    expect((await screen.findByTestId('bandwidth-month-total')).textContent?.trim()).toBe(
      'This month: 60 MiB of your 50 MiB budget.',
    );
    expect(screen.getByTestId('bandwidth-over-budget')).toBeTruthy();
    expect(screen.getByTestId('bandwidth-deferring').textContent).toContain('Report answers and checklist ticks are always sent.');
    await user.click(screen.getByTestId('bandwidth-allow'));
    await screen.findByTestId('bandwidth-allowed');
    expect(screen.queryByTestId('bandwidth-deferring')).toBeNull();
    expect(backend.argsOf('allow_deferred_traffic')).toEqual([{}]);
  });

  it('saves the budget and the metered setting, and refuses a bad budget without calling', async () => {
    const { backend, user } = await open({
      set_bandwidth_settings: (args: Args) =>
        usage({ settings: (args as { settings: BandwidthUsage['settings'] }).settings, deferring: true }),
    });
    const budget = (await screen.findByTestId('bandwidth-budget')) as HTMLInputElement;
    expect(budget.value).toBe('');
    await user.type(budget, '1.5');
    await user.click(screen.getByTestId('bandwidth-save'));
    expect((await screen.findByTestId('bandwidth-form-error')).textContent).toBe(
      'Enter a whole number of MiB, 1 or more, or leave the field empty.',
    );
    expect(backend.argsOf('set_bandwidth_settings')).toEqual([]);
    expect(budget.value).toBe('1.5');

    await user.clear(budget);
    await user.type(budget, '200');
    await user.click(screen.getByTestId('bandwidth-metered'));
    await user.click(screen.getByTestId('bandwidth-save'));
    await screen.findByTestId('bandwidth-saved');
    expect(backend.argsOf('set_bandwidth_settings')).toEqual([{ settings: { monthly_budget_mib: 200, metered: true } }]);
    await waitFor(() => expect(screen.getByTestId('bandwidth-deferring')).toBeTruthy());
    expect((screen.getByTestId('bandwidth-metered') as HTMLInputElement).checked).toBe(true);
  });
});
