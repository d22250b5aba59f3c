import { render, screen, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import App from '../App.svelte';
import { setLang } from '../lib/i18n/index.svelte';
import { goTo, mockBackend, syncStatus, type Reply } from '../test/backend';
import { category, post, T1, threadSummary, threadView } from '../test/forum-fixtures';

async function open(hash: string, replies: Record<string, Reply>) {
  goTo(hash);
  mockBackend({
    sync_status: syncStatus({ state: 'up_to_date', server: 'https://e.example.org', account: 'amina' }),
    forum_draft: null,
    forum_save_draft: null,
    ...replies,
  });
  render(App);
}

describe('Forum: a thread whose first post the moderators hid', () => {
  it('is listed with a translated placeholder instead of its title and author', async () => {
    await open('#/forum/c/general', {
      forum_categories: [category({ id: 'general', title: 'General' })],
      forum_threads: [
        threadSummary({ id: 't-hidden', title: '', author_name: '', country: null, hidden: true, replies: 2 }),
        threadSummary({ id: 't-shown', title: 'Visa for COP15' }),
      ],
    });
    const threads = await screen.findAllByTestId('forum-thread');
    expect(within(threads[0]!).getByTestId('thread-hidden').textContent).toBe('Thread hidden by the moderators');
    expect(threads[0]!.textContent).toContain('2 replies');
    expect(threads[0]!.textContent).not.toContain('NFP Baraka');
    expect(within(threads[1]!).queryByTestId('thread-hidden')).toBeNull();
    expect(threads[1]!.textContent).toContain('Visa for COP15');
  });

  it('shows the placeholder as the thread heading, in the reader’s language', async () => {
    await open(`#/forum/t/${T1}`, {
      forum_thread: threadView([post({ id: T1, hidden: true, body_html: '' })], { title: '', hidden: true }),
    });
    expect((await screen.findByTestId('thread-title')).textContent).toBe('Thread hidden by the moderators');
    setLang('fr');
    await screen.findByText('Discussion masquée par les modérateurs');
    setLang('es');
    await screen.findByText('Hilo ocultado por los moderadores');
  });
});
