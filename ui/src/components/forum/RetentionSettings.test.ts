import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../../App.svelte';
import { goTo, mockBackend, syncStatus, type Args } from '../../test/backend';
import { category } from '../../test/forum-fixtures';

describe('Forum retention setting', () => {
  it('keeps only the chosen categories and months, and shows what was stored', async () => {
    goTo('#/forum');
    const backend = mockBackend({
      sync_status: syncStatus({ state: 'up_to_date', server: 'https://e.example.org', account: 'amina' }),
      forum_categories: [category({ id: 'africa', title: 'Africa', kind: 'region' }), category({ id: 'general', title: 'General' })],
      set_forum_retention: (a: Args) => a.setting,
    });
    const user = userEvent.setup();
    render(App);
    const panel = await screen.findByTestId('forum-retention');
    await user.click(within(panel).getByText('How much of the forum this laptop keeps'));
    await waitFor(() => expect((within(panel).getByTestId('retention-months') as HTMLInputElement).value).toBe('24'));
    const months = within(panel).getByTestId('retention-months');
    await user.clear(months);
    await user.type(months, '6');
    await user.click(within(panel).getByTestId('retention-all'));
    const boxes = within(panel).getAllByTestId('retention-category');
    expect(boxes.map((b) => b.dataset.id)).toEqual(['africa', 'general']);
    await user.click(boxes[0]!);
    await user.click(within(panel).getByTestId('retention-save'));
    await within(panel).findByTestId('retention-saved');
    expect(backend.argsOf('set_forum_retention')).toEqual([{ setting: { months: 6, categories: ['africa'], max_posts: 20000 } }]);
  });

  it('says why a setting was refused', async () => {
    goTo('#/forum');
    mockBackend({
      forum_categories: [category({ id: 'general', title: 'General' })],
      set_forum_retention: () => {
        throw {
          code: 'retention_posts',
          params: { min: 100, max: 1000000 },
          message: 'the most posts kept must be between 100 and 1000000',
        };
      },
    });
    const user = userEvent.setup();
    render(App);
    const panel = await screen.findByTestId('forum-retention');
    await user.click(within(panel).getByText('How much of the forum this laptop keeps'));
    await user.click(within(panel).getByTestId('retention-save'));
    expect((await within(panel).findByRole('alert')).textContent).toContain('must be between 100 and 1000000');
  });
});
