import { render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { mockBackend, type Args } from '../../test/backend';
import Composer from './Composer.svelte';

type Send = (title: string, body: string) => Promise<void>;

function setup(replies: Record<string, unknown> = {}, onsend = vi.fn<Send>(async () => {})) {
  const backend = mockBackend({ forum_draft: null, forum_save_draft: null, forum_clear_draft: null, ...replies });
  const user = userEvent.setup();
  const view = render(Composer, { draftKey: { place: 'reply', thread: 't1' }, label: 'Your reply', sendLabel: 'Send reply', onsend });
  const box = screen.getByTestId('composer-body') as HTMLTextAreaElement;
  return { backend, user, box, onsend, view };
}

describe('Composer', () => {
  it('saves the draft once typing pauses, well within a second', async () => {
    const { backend, user, box } = setup();
    await user.type(box, 'Three words here');
    // Nothing while typing (one save per pause, not per key), then within a second.
    expect(backend.argsOf('forum_save_draft')).toEqual([]);
    await waitFor(() => expect(backend.argsOf('forum_save_draft')).toHaveLength(1), { timeout: 1000 });
    expect(backend.argsOf('forum_save_draft')).toEqual([{ key: { place: 'reply', thread: 't1' }, body: 'Three words here' }]);
    await waitFor(() => expect(screen.getByTestId('composer-draft-state').textContent).toContain('Draft saved on this laptop'));
  });

  it('saves what is not saved yet when it goes away', async () => {
    const { backend, user, box, view } = setup();
    await user.type(box, 'Leaving now');
    expect(backend.argsOf('forum_save_draft')).toEqual([]);
    view.unmount();
    await waitFor(() => expect(backend.argsOf('forum_save_draft')).toEqual([{ key: { place: 'reply', thread: 't1' }, body: 'Leaving now' }]));
  });

  it('sends with Ctrl+Enter after the last autosave landed, then empties', async () => {
    const order: string[] = [];
    let release: () => void = () => {};
    const { user, box, onsend } = setup(
      {
        forum_save_draft: (a: Args) =>
          new Promise<null>((resolve) => {
            release = () => {
              order.push(`saved:${a.body as string}`);
              resolve(null);
            };
          }),
      },
      vi.fn<Send>(async (_title, body) => {
        order.push(`sent:${body}`);
      }),
    );
    await user.type(box, 'Reply text');
    await waitFor(() => expect(screen.getByTestId('composer-draft-state').dataset.state).toBe('saving'), { timeout: 1000 });
    await user.keyboard('{Control>}{Enter}{/Control}');
    expect(onsend).not.toHaveBeenCalled();
    release();
    await waitFor(() => expect(onsend).toHaveBeenCalledWith('', 'Reply text'));
    expect(order).toEqual(['saved:Reply text', 'sent:Reply text']);
    await waitFor(() => expect(box.value).toBe(''));
  });

  it('refuses an empty post and keeps the text when sending fails', async () => {
    const { user, box } = setup(
      {},
      vi.fn(async () => {
        throw { code: 'sign_in_required', params: {}, message: 'Writing in the forum needs an e-community account' };
      }),
    );
    await user.click(screen.getByTestId('composer-send'));
    expect(screen.getByTestId('composer-error').textContent).toBe('Write something first.');
    await user.type(box, 'Offline words');
    await user.click(screen.getByTestId('composer-send'));
    expect((await screen.findByTestId('composer-error')).textContent).toContain('Please sign in again.');
    expect(box.value).toBe('Offline words');
  });

  it('discarding clears the box and the saved draft', async () => {
    const { backend, user, box } = setup({ forum_draft: 'Old draft' });
    await waitFor(() => expect(box.value).toBe('Old draft'));
    await user.click(screen.getByTestId('composer-discard'));
    expect(box.value).toBe('');
    await waitFor(() => expect(backend.argsOf('forum_clear_draft')).toEqual([{ key: { place: 'reply', thread: 't1' } }]));
  });
});
