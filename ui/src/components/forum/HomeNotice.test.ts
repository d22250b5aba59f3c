import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../../App.svelte';
import type { HomeNotice } from '../../lib/forum/api';
import { emitSyncStatus, mockBackend, syncStatus } from '../../test/backend';
import { T1, threadSummary } from '../../test/forum-fixtures';

const none: HomeNotice = { new_replies_to_my_threads: 0, threads: [] };

describe('Home: new replies to my threads', () => {
  it('appears when a sync brought replies, links to the threads, and can be dismissed', async () => {
    let notice = none;
    const backend = mockBackend({
      sync_status: syncStatus({ state: 'up_to_date', server: 'https://e.example.org', account: 'amina' }),
      forum_home_notice: () => notice,
      acknowledge_forum_notice: () => {
        notice = none;
        return null;
      },
    });
    const user = userEvent.setup();
    render(App);
    await screen.findByTestId('home');
    await waitFor(() => expect(backend.argsOf('forum_home_notice').length).toBeGreaterThan(0));
    expect(screen.queryByTestId('forum-home-notice')).toBeNull();

    // A sync round brings three replies to a thread Amina started.
    notice = { new_replies_to_my_threads: 3, threads: [threadSummary({ id: T1, title: 'Credentials for COP15' })] };
    await emitSyncStatus(syncStatus({ state: 'up_to_date', server: 'https://e.example.org', account: 'amina', last_sync: new Date().toISOString() }));
    const box = await screen.findByTestId('forum-home-notice');
    expect(within(box).getByRole('heading').textContent).toBe('3 new replies to threads you started');
    expect(within(box).getByTestId('forum-home-thread').getAttribute('href')).toBe(`#/forum/t/${T1}`);

    await user.click(within(box).getByTestId('forum-home-dismiss'));
    await waitFor(() => expect(screen.queryByTestId('forum-home-notice')).toBeNull());
    expect(backend.argsOf('acknowledge_forum_notice')).toHaveLength(1);
  });

  it('words a single reply in the singular', async () => {
    mockBackend({ forum_home_notice: { new_replies_to_my_threads: 1, threads: [threadSummary({ id: T1, title: 'Visa' })] } });
    render(App);
    expect((await screen.findByTestId('forum-home-notice')).textContent).toContain('1 new reply to a thread you started');
  });
});
