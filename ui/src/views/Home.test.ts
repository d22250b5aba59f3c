import { render, screen, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import App from '../App.svelte';
import { mockBackend, summary } from '../test/backend';

describe('Home', () => {
  it('shows pack version, recent items, bookmarks and checklist progress', async () => {
    const backend = mockBackend({
      list_recent: [
        summary({ kind: 'manual', id: 'meetings', title: 'Meetings' }),
        summary({ kind: 'library', id: 'funding-gef', title: 'GEF' }),
      ],
      list_bookmarks: [summary({ kind: 'checklist', id: 'after-cop', title: 'After the COP' })],
      list_checklists: [
        summary({ kind: 'checklist', id: 'after-cop', title: 'After the COP', progress: { done: 3, total: 12 } }),
        summary({ kind: 'checklist', id: 'workshop', title: 'Workshop', progress: { done: 1, total: 4 } }),
      ],
    });
    render(App);
    const home = await screen.findByTestId('home');
    expect(within(home).getByRole('heading', { level: 1 }).textContent).toBe('Welcome to Stopover');
    expect(screen.getByTestId('pack-version').textContent).toBe('Content version 2025.1');

    const recent = await screen.findAllByTestId('recent-item');
    expect(recent.map((a) => a.getAttribute('href'))).toEqual(['#/manual/meetings', '#/library/funding-gef']);
    expect(screen.getByTestId('bookmark-item').getAttribute('href')).toBe('#/checklists/after-cop');
    const progress = screen.getByTestId('checklist-summary');
    expect(progress.textContent).toContain('3 of 12');
    expect(progress.textContent).toContain('1 of 4');
    expect(screen.getByTestId('checklist-totals').textContent).toContain('4 of 16 steps');
    for (const cmd of ['list_recent', 'list_bookmarks', 'list_checklists']) {
      expect(backend.argsOf(cmd)).toEqual([{ lang: 'en' }]);
    }
  });

  it('says when there is nothing yet', async () => {
    mockBackend();
    render(App);
    expect(await screen.findByText('No bookmarks yet. Use the Bookmark button on any page to keep it here.')).toBeTruthy();
    expect(screen.getByText('Nothing yet. What you open appears here.')).toBeTruthy();
  });
});
