// The damaged-database screen: recover the readable rows, or restore a backup; either way
// the file kept aside is named, and the app then goes on to its home view.
import { render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../App.svelte';
import type { AppStatus, RecoveryReport, RestoreReport } from '../lib/api';
import { mockBackend, readyStatus } from '../test/backend';

const damaged: AppStatus = {
  startup_error: {
    code: 'database_damaged',
    params: { file: '/data/stopover/stopover.sqlite3', tables: 'report_answer' },
    message: 'damaged',
  },
  content: null,
  language: 'en',
  user_data: null,
  data_dir: '/data/stopover',
};

const report: RecoveryReport = {
  damaged_file: '/data/stopover/stopover.sqlite3.damaged-20261207T031500Z',
  tables: [
    { table: 'report_answer', recovered: 1767, lost: null, damaged: true },
    { table: 'checklist_progress', recovered: 1437, lost: 63, damaged: true },
    { table: 'setting', recovered: 0, lost: 0, damaged: false },
  ],
  rows_recovered: 3204,
  rows_lost: 63,
  losses_uncounted: true,
  rebuilt: ['search_index'],
};

/** app_status answers "damaged" until a repair command ran, then "ready". */
function backend(extra: Record<string, unknown> = {}) {
  let repaired = false;
  return mockBackend({
    app_status: () => (repaired ? readyStatus : damaged),
    list_backups: [
      { name: 'stopover-20261206T081500Z.sqlite3', created_at: '2026-12-06T08:15:00Z', bytes: 19_100_000 },
    ],
    recover_database: () => {
      repaired = true;
      return report;
    },
    restore_backup: () => {
      repaired = true;
      const done: RestoreReport = {
        restored: { name: 'stopover-20261206T081500Z.sqlite3', created_at: '2026-12-06T08:15:00Z', bytes: 19_100_000 },
        previous_file: '/data/stopover/stopover.sqlite3.replaced-20261207T031600Z',
      };
      return done;
    },
    ...extra,
  });
}

describe('damaged database screen', () => {
  it('recovers the readable rows, names the kept file, then opens the app', async () => {
    const calls = backend();
    const user = userEvent.setup();
    render(App);
    const screenEl = await screen.findByTestId('error-screen');
    expect(screenEl.querySelector('h1')?.textContent).toBe('Your data file is damaged');
    expect(screen.getByTestId('damaged-file').textContent).toBe('/data/stopover/stopover.sqlite3');
    await screen.findByTestId('backup');

    await user.click(screen.getByTestId('recover-data'));
    expect((await screen.findByTestId('recovery-rows')).textContent).toBe('3204 records came back.');
    expect(screen.getByTestId('recovery-lost').textContent?.trim()).toBe(
      'Some records could not be read; how many is not known.',
    );
    expect(screen.getByTestId('recovery-damaged-file').textContent).toBe(report.damaged_file);
    expect(screen.getByTestId('recovery-tables').textContent).toContain('63 records could not be read.');
    expect(screen.getByTestId('recovery-tables').textContent).not.toContain('setting');

    await user.click(screen.getByTestId('recovery-continue'));
    await screen.findByTestId('nav-home');
    expect(calls.argsOf('recover_database')).toHaveLength(1);
    expect(calls.argsOf('restore_backup')).toHaveLength(0);
  });

  it('restores a backup only after confirming, and names the replaced file', async () => {
    const calls = backend();
    const user = userEvent.setup();
    render(App);
    await user.click(await screen.findByTestId('restore-backup'));
    expect(screen.getByTestId('restore-confirm').textContent).toContain('will not be in the restored data');
    await user.click(screen.getByTestId('restore-no'));
    expect(calls.argsOf('restore_backup')).toHaveLength(0);

    await user.click(screen.getByTestId('restore-backup'));
    await user.click(screen.getByTestId('restore-yes'));
    expect(calls.argsOf('restore_backup')).toEqual([{ name: 'stopover-20261206T081500Z.sqlite3' }]);
    expect((await screen.findByTestId('restore-previous-file')).textContent).toBe(
      '/data/stopover/stopover.sqlite3.replaced-20261207T031600Z',
    );
    await user.click(screen.getByTestId('recovery-continue'));
    await screen.findByTestId('nav-home');
  });

  it('says when there is no backup, and shows a failed recovery in words', async () => {
    backend({
      list_backups: [],
      recover_database: () => {
        throw { code: 'data_dir', params: { path: '/data/stopover' }, message: 'read-only' };
      },
      app_status: { ...damaged, language: 'es' },
    });
    const user = userEvent.setup();
    render(App);
    expect((await screen.findByTestId('no-backups')).textContent).toContain('Todavía no hay');
    await user.click(screen.getByTestId('recover-data'));
    await waitFor(() => expect(screen.getByTestId('recovery-error').textContent).toContain('No funcionó'));
    expect(screen.getByTestId('recovery-error').textContent).not.toContain('read-only');
  });

  it('after a rebuild of the search index on start, says so and names the kept file', async () => {
    mockBackend({ app_status: { ...readyStatus, rebuilt: { ...report, tables: [], rows_lost: 0, losses_uncounted: false } } });
    render(App);
    const banner = await screen.findByTestId('rebuilt-banner');
    expect(banner.textContent).toContain('Stopover rebuilt it. None of your own data was lost.');
    expect(banner.textContent).toContain(report.damaged_file);
    expect(screen.queryByTestId('error-screen')).toBeNull();
  });
});
