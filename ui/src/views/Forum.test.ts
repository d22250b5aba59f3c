import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../App.svelte';
import type { SyncStatus } from '../lib/api';
import type { PostView, ThreadView } from '../lib/forum/api';
import { emitSyncStatus, goTo, mockBackend, syncStatus, type Args, type Reply } from '../test/backend';
import { category, minutesAgo, P2, post, T1, threadSummary, threadView } from '../test/forum-fixtures';

const signedIn = (partial: Partial<SyncStatus> = {}) =>
  syncStatus({ state: 'up_to_date', server: 'https://e.example.org', account: 'amina', ...partial });

async function open(hash: string, replies: Record<string, Reply> = {}) {
  goTo(hash);
  const backend = mockBackend({ sync_status: signedIn(), forum_draft: null, forum_save_draft: null, ...replies });
  const user = userEvent.setup();
  render(App);
  return { backend, user };
}

describe('Forum: categories and threads', () => {
  it('lists the categories with their unread counts under a nav entry', async () => {
    const { user, backend } = await open('#/', {
      forum_categories: [
        category({ id: 'africa', title: 'Africa', kind: 'region', threads: 4, unread_threads: 2 }),
        category({ id: 'general', title: 'General', threads: 1 }),
      ],
    });
    await user.click(await screen.findByTestId('nav-forum'));
    const cats = await screen.findAllByTestId('forum-category');
    expect(screen.getByTestId('nav-forum').getAttribute('aria-current')).toBe('page');
    expect(cats.map((c) => c.dataset.id)).toEqual(['africa', 'general']);
    expect(cats[0]!.textContent).toContain('4 threads');
    expect(within(cats[0]!).getByTestId('category-unread').textContent).toBe('2 with new posts');
    expect(within(cats[1]!).queryByTestId('category-unread')).toBeNull();
    expect(within(cats[0]!).getByRole('link').getAttribute('href')).toBe('#/forum/c/africa');
    expect(backend.argsOf('forum_categories')).toEqual([{ lang: 'en' }]);
  });

  it('says how to get the forum when there is none yet, and asks to sign in', async () => {
    await open('#/forum', { forum_categories: [], sync_status: syncStatus() });
    expect((await screen.findByTestId('forum-categories-empty')).textContent).toContain('arrive with the first sync');
    expect(screen.getByTestId('forum-signin-hint').querySelector('a')!.getAttribute('href')).toBe('#/sync');
  });

  it('marks threads with new posts and posts waiting to be sent; titles stay text', async () => {
    const { backend } = await open('#/forum/c/general', {
      forum_categories: [category({ id: 'general', title: 'General' })],
      forum_threads: [
        threadSummary({ id: 't-new', title: '<b>Visa</b> for <script>x()</script>', unread: true, replies: 3 }),
        threadSummary({ id: 't-mine', title: 'My question', pending: true, author_name: 'NFP Amina', country: 'KE' }),
        threadSummary({ id: 't-old', title: 'Old news', locked: true }),
      ],
    });
    const threads = await screen.findAllByTestId('forum-thread');
    expect(threads.map((t) => t.dataset.id)).toEqual(['t-new', 't-mine', 't-old']);
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('General');
    expect(within(threads[0]!).getByTestId('thread-unread')).toBeTruthy();
    expect(within(threads[0]!).queryByTestId('thread-pending')).toBeNull();
    expect(threads[0]!.textContent).toContain('<b>Visa</b> for <script>x()</script>');
    expect(threads[0]!.querySelector('script, b')).toBeNull();
    expect(threads[0]!.textContent).toContain('3 replies');
    expect(threads[0]!.textContent).toContain('Uganda');
    expect(within(threads[1]!).getByTestId('thread-pending').textContent).toBe('Waiting to be sent');
    expect(within(threads[1]!).queryByTestId('thread-unread')).toBeNull();
    expect(within(threads[2]!).getByTestId('thread-locked-marker')).toBeTruthy();
    expect(within(threads[0]!).getByRole('link').getAttribute('href')).toBe('#/forum/t/t-new');
    expect(backend.argsOf('forum_threads')).toContainEqual({ categoryId: 'general' });
  });

  it('starts a thread with a title and opens it', async () => {
    const created = post({ id: T1, mine: true, pending: true, created_at: null, author: 'amina', author_name: 'NFP Amina' });
    const { backend, user } = await open('#/forum/c/general', {
      forum_categories: [category({ id: 'general', title: 'General' })],
      forum_threads: [],
      forum_new_thread: created,
      forum_thread: threadView([created]),
    });
    await screen.findByTestId('forum-threads-empty');
    await user.click(screen.getByTestId('forum-new-thread'));
    expect(document.activeElement).toBe(screen.getByTestId('composer-body'));
    await user.type(screen.getByTestId('composer-body'), 'How do we send them?');
    await user.click(screen.getByTestId('composer-send'));
    expect((await screen.findByTestId('composer-error')).textContent).toBe('Give the thread a title.');
    expect(backend.argsOf('forum_new_thread')).toEqual([]);
    await user.type(screen.getByTestId('composer-title'), '  Credentials for COP15 ');
    await user.click(screen.getByTestId('composer-send'));
    await waitFor(() => expect(location.hash).toBe(`#/forum/t/${T1}`));
    expect(backend.argsOf('forum_new_thread')).toEqual([
      { categoryId: 'general', title: 'Credentials for COP15', body: 'How do we send them?' },
    ]);
    expect(await screen.findByTestId('post-pending')).toBeTruthy();
  });
});

describe('Forum: a thread', () => {
  it('renders posts from their sanitized HTML, marks pending ones, and opens nothing by itself', async () => {
    await open(`#/forum/t/${T1}`, {
      forum_thread: threadView([
        post({ id: T1, body_html: '<p>See <a href="https://www.cms.int/x" rel="noopener noreferrer nofollow" data-external="true">the COP page</a></p>' }),
        post({ id: P2, mine: true, pending: true, created_at: null, author: 'amina', author_name: 'NFP Amina', body_html: '<p><strong>Mine</strong></p>' }),
      ]),
    });
    const posts = await screen.findAllByTestId('forum-post');
    expect(posts).toHaveLength(2);
    expect(screen.getByTestId('thread-title').textContent).toBe('Credentials for COP15');
    expect(posts[1]!.querySelector('strong')!.textContent).toBe('Mine');
    expect(within(posts[0]!).queryByTestId('post-pending')).toBeNull();
    expect(within(posts[1]!).getByTestId('post-pending').textContent).toBe('Waiting to be sent');
    expect(posts[1]!.dataset.pending).toBe('true');
    // Only own posts have edit buttons; only pending ones can be withdrawn.
    expect(within(posts[0]!).queryByTestId('post-edit')).toBeNull();
    expect(within(posts[1]!).getByTestId('post-withdraw')).toBeTruthy();
  });

  it('asks before a link in a post goes to the system browser, then opens it there', async () => {
    const url = 'https://www.cms.int/en/cop15';
    const { backend, user } = await open(`#/forum/t/${T1}`, {
      forum_thread: threadView([
        post({ id: T1, body_html: `<p><a href="${url}" rel="noopener noreferrer nofollow" data-external="true">the COP page</a></p>` }),
      ]),
      open_external_link: null,
    });
    const link = await screen.findByRole('link', { name: 'the COP page' });
    const click = new MouseEvent('click', { bubbles: true, cancelable: true });
    link.dispatchEvent(click);
    expect(click.defaultPrevented).toBe(true);
    const notice = await screen.findByTestId('external-link-notice');
    expect(notice.textContent).toContain('Open it in your web browser?');
    expect((screen.getByTestId('external-link-url') as HTMLInputElement).value).toBe(url);
    expect(backend.argsOf('open_external_link')).toEqual([]);
    await user.click(screen.getByTestId('external-link-open'));
    await waitFor(() => expect(screen.queryByTestId('external-link-notice')).toBeNull());
    expect(backend.argsOf('open_external_link')).toEqual([{ url }]);
  });

  it('says why a link could not be opened', async () => {
    await open(`#/forum/t/${T1}`, {
      forum_thread: threadView([post({ id: T1, body_html: '<p><a href="https://x.org" data-external="true">x</a></p>' })]),
      open_external_link: () => {
        throw { code: 'no_browser', message: 'the web browser could not be started: xdg-open missing' };
      },
    });
    const user = userEvent.setup();
    (await screen.findByRole('link', { name: 'x' })).click();
    await user.click(await screen.findByTestId('external-link-open'));
    expect((await screen.findByTestId('external-link-error')).textContent).toContain('Your web browser could not be started.');
  });

  it('a reply shows at once as waiting, and the marker clears after the sync', async () => {
    let sent = false;
    let onServer = false;
    const first = post({ id: T1 });
    const reply = (): PostView =>
      post({
        id: P2,
        mine: true,
        pending: !onServer,
        created_at: onServer ? minutesAgo(0) : null,
        author: 'amina',
        author_name: 'NFP Amina',
        body_html: '<p>By pouch.</p>',
      });
    const { backend, user } = await open(`#/forum/t/${T1}`, {
      forum_thread: () => threadView(sent ? [first, reply()] : [first]),
      forum_reply: () => {
        sent = true;
        return reply();
      },
    });
    await screen.findAllByTestId('forum-post');
    await user.type(screen.getByTestId('composer-body'), 'By pouch.');
    await user.click(screen.getByTestId('composer-send'));
    await waitFor(() => expect(screen.getAllByTestId('forum-post')).toHaveLength(2));
    expect(screen.getByTestId('post-pending')).toBeTruthy();
    expect((screen.getByTestId('composer-body') as HTMLTextAreaElement).value).toBe('');
    expect(backend.argsOf('forum_reply')).toEqual([{ threadId: T1, body: 'By pouch.' }]);

    // A sync round took it to the server: the view reloads by itself.
    onServer = true;
    const loads = backend.argsOf('forum_thread').length;
    await emitSyncStatus(signedIn({ last_sync: new Date().toISOString() }));
    await waitFor(() => expect(screen.queryByTestId('post-pending')).toBeNull());
    expect(backend.argsOf('forum_thread').length).toBeGreaterThan(loads);
    expect(screen.getAllByTestId('forum-post')).toHaveLength(2);
  });

  it('keeps the reply as a draft while typing and brings it back', async () => {
    const { backend, user } = await open(`#/forum/t/${T1}`, {
      forum_thread: threadView([post({ id: T1 })]),
      forum_draft: (a: Args) => ((a.key as { thread?: string }).thread === T1 ? 'Half-written answer' : null),
    });
    const box = (await screen.findByTestId('composer-body')) as HTMLTextAreaElement;
    await waitFor(() => expect(box.value).toBe('Half-written answer'));
    expect(screen.getByTestId('composer-draft-state').dataset.state).toBe('restored');
    await user.type(box, ', more');
    // Saved within a second of the last key, once.
    await waitFor(() => expect(backend.argsOf('forum_save_draft')).toEqual([{ key: { place: 'reply', thread: T1 }, body: 'Half-written answer, more' }]), {
      timeout: 1000,
    });
    await waitFor(() => expect(screen.getByTestId('composer-draft-state').dataset.state).toBe('saved'));
  });

  it('edits an own pending post from its Markdown, and withdraws one after asking', async () => {
    let posts: PostView[] = [
      post({ id: T1 }),
      post({ id: P2, mine: true, pending: true, created_at: null, source: 'First **draft**', body_html: '<p>First <strong>draft</strong></p>' }),
    ];
    const { backend, user } = await open(`#/forum/t/${T1}`, {
      forum_thread: () => threadView(posts),
      forum_edit_post: (a: Args) => {
        posts = [posts[0]!, { ...posts[1]!, source: a.body as string, body_html: '<p>Second</p>' }];
        return posts[1];
      },
      forum_withdraw_post: () => {
        posts = [posts[0]!];
        return null;
      },
    });
    await user.click(await screen.findByTestId('post-edit'));
    const boxes = screen.getAllByTestId('composer-body') as HTMLTextAreaElement[];
    const editBox = boxes.find((b) => b.closest('[data-testid="forum-post"]'))!;
    expect(editBox.value).toBe('First **draft**');
    await user.clear(editBox);
    await user.type(editBox, 'Second');
    await user.click(within(editBox.closest('form')!).getByTestId('composer-send'));
    await waitFor(() => expect(screen.getAllByTestId('forum-post')[1]!.textContent).toContain('Second'));
    expect(backend.argsOf('forum_edit_post')).toEqual([{ postId: P2, body: 'Second' }]);

    await user.click(screen.getByTestId('post-withdraw'));
    expect(backend.argsOf('forum_withdraw_post')).toEqual([]);
    await user.click(screen.getByTestId('post-withdraw-confirm'));
    await waitFor(() => expect(screen.getAllByTestId('forum-post')).toHaveLength(1));
    expect(backend.argsOf('forum_withdraw_post')).toEqual([{ postId: P2 }]);
  });

  it('shows why a post cannot be withdrawn any more', async () => {
    const { user } = await open(`#/forum/t/${T1}`, {
      forum_thread: threadView([post({ id: T1, mine: true, pending: true, created_at: null })]),
      forum_withdraw_post: () => {
        throw {
          code: 'post_already_sent',
          params: {},
          message: 'this post has already been sent to the e-community and cannot be withdrawn; you can still edit it',
        };
      },
    });
    await user.click(await screen.findByTestId('post-withdraw'));
    await user.click(screen.getByTestId('post-withdraw-confirm'));
    expect((await screen.findByTestId('post-error')).textContent).toContain('This post has already been sent and cannot be withdrawn');
  });

  it('shows both versions of a conflicting edit and lets the author choose', async () => {
    let view: ThreadView = threadView([
      post({ id: T1, mine: true, source: 'Mine', conflict: { mine: 'My **new** text', theirs: 'The <b>moderated</b> text' } }),
    ]);
    const { backend, user } = await open(`#/forum/t/${T1}`, {
      forum_thread: () => view,
      forum_resolve_conflict: () => {
        view = threadView([post({ id: T1, mine: true, pending: true, body_html: '<p>My <strong>new</strong> text</p>' })]);
        return null;
      },
    });
    const conflict = await screen.findByTestId('post-conflict');
    expect(within(conflict).getByTestId('conflict-mine').textContent).toBe('My **new** text');
    expect(within(conflict).getByTestId('conflict-theirs').textContent).toBe('The <b>moderated</b> text');
    await user.click(within(conflict).getByTestId('conflict-keep-mine'));
    await waitFor(() => expect(screen.queryByTestId('post-conflict')).toBeNull());
    expect(backend.argsOf('forum_resolve_conflict')).toEqual([{ postId: T1, keepMine: true }]);
  });

  it('a locked thread takes no reply; a hidden post of someone else shows no text', async () => {
    await open(`#/forum/t/${T1}`, {
      forum_thread: threadView([post({ id: T1 }), post({ id: P2, hidden: true, body_html: '' })], { locked: true }),
    });
    await screen.findAllByTestId('forum-post');
    expect(screen.getByTestId('thread-locked')).toBeTruthy();
    expect(screen.queryByTestId('composer-body')).toBeNull();
    expect(screen.getAllByTestId('forum-post')[1]!.textContent).toContain('hidden by the Secretariat');
  });

  it('says when a thread is not on this laptop', async () => {
    await open('#/forum/t/nope', {
      forum_thread: () => {
        throw { code: 'not_found', message: 'not found: forum thread `nope`' };
      },
    });
    expect((await screen.findByTestId('thread-error')).textContent).toContain('This item is no longer on this laptop.');
  });
});

describe('Forum: search', () => {
  it('finds posts and shows the snippet as text with its matches highlighted', async () => {
    const { backend, user } = await open('#/forum', {
      forum_categories: [],
      forum_search: [
        {
          post_id: P2,
          thread_id: T1,
          thread_title: 'Credentials',
          author_name: 'NFP Baraka',
          snippet_html: '&lt;img src=x&gt; the <mark>délégation</mark> letter',
        },
      ],
    });
    await user.type(await screen.findByTestId('forum-search'), 'delegation{Enter}');
    const hit = await screen.findByTestId('forum-search-hit');
    expect(hit.querySelector('mark')!.textContent).toBe('délégation');
    expect(hit.querySelector('img')).toBeNull();
    expect(hit.textContent).toContain('<img src=x> the délégation letter');
    expect(within(hit).getByRole('link').getAttribute('href')).toBe(`#/forum/t/${T1}`);
    expect(backend.argsOf('forum_search').at(-1)).toEqual({ query: 'delegation', lang: 'en' });
    expect(screen.getByTestId('forum-search-count').textContent).toContain('1 post found');
  });
});
