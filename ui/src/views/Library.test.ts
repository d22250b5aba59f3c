import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../App.svelte';
import type { ItemSummary, LibraryKind } from '../lib/api';
import { goTo, mockBackend, summary } from '../test/backend';

const item = (id: string, kind: LibraryKind, title: string, extra: Partial<ItemSummary['meta']> = {}): ItemSummary =>
  summary({
    kind: 'library',
    id,
    title,
    summary: `About ${title}`,
    meta: { kind, regions: ['global'], instruments: ['CMS'], date: null, deadline: null, languages: ['en'], url: null, ...extra },
  });

const all = [
  item('faq-full-powers', 'faq', 'Credentials and full powers'),
  item('funding-gef', 'funding', 'Global Environment Facility', { deadline: '2025-06-30' }),
  item('training-waterbird-counts', 'training', 'Waterbird counts', { date: '2025-02-10' }),
  item('funding-darwin', 'funding', 'Darwin Initiative'),
];

async function open() {
  goTo('#/library');
  const backend = mockBackend({
    library_facets: {
      kinds: ['faq', 'funding', 'practice', 'training'],
      regions: ['global', 'africa', 'oceania'],
      instruments: ['CMS', 'AEWA'],
      languages: ['en', 'fr', 'es'],
    },
    list_library: (a: Record<string, unknown>) => {
      const f = a.filter as { kind?: string };
      return f.kind ? all.filter((i) => i.meta!.kind === f.kind) : all;
    },
  });
  const user = userEvent.setup();
  render(App);
  await screen.findAllByTestId('library-item');
  return { backend, user };
}

describe('Library', () => {
  it('groups results by kind with links, summaries and dates', async () => {
    await open();
    const groups = screen.getAllByTestId('library-group');
    expect(groups.map((g) => g.querySelector('h2')?.textContent?.replace(/\s+/g, ' ').trim())).toEqual([
      'Funding (2)',
      'Training (1)',
      'Questions and answers (1)',
    ]);
    const gef = within(groups[0]!).getAllByTestId('library-item')[0]!;
    expect(gef.getAttribute('href')).toBe('#/library/funding-gef');
    expect(gef.textContent).toContain('About Global Environment Facility');
    expect(gef.textContent).toContain('Deadline: June 30, 2025');
    expect(within(groups[1]!).getByTestId('library-item').textContent).toContain('Date: February 10, 2025');
    expect(screen.getByTestId('library-count').textContent?.trim()).toBe('4 items');
  });

  it('offers translated facets and filters through list_library', async () => {
    const { backend, user } = await open();
    const region = screen.getByTestId('library-region') as HTMLSelectElement;
    expect([...region.options].map((o) => o.textContent)).toEqual(['All', 'Africa', 'Global', 'Oceania']);
    const kind = screen.getByTestId('library-kind') as HTMLSelectElement;
    expect([...kind.options].map((o) => o.value)).toEqual(['', 'funding', 'training', 'practice', 'faq']);
    const language = screen.getByTestId('library-language') as HTMLSelectElement;
    expect([...language.options].map((o) => o.textContent)).toContain('Spanish');

    await user.selectOptions(kind, 'funding');
    await waitFor(() => expect(screen.getAllByTestId('library-item')).toHaveLength(2));
    expect(backend.argsOf('list_library')).toEqual([
      { lang: 'en', filter: {} },
      { lang: 'en', filter: { kind: 'funding' } },
    ]);
    await user.selectOptions(region, 'africa');
    await waitFor(() =>
      expect(backend.argsOf('list_library').at(-1)).toEqual({ lang: 'en', filter: { kind: 'funding', region: 'africa' } }),
    );

    await user.click(screen.getByRole('button', { name: 'Clear filters' }));
    await waitFor(() => expect(backend.argsOf('list_library').at(-1)).toEqual({ lang: 'en', filter: {} }));
  });

  it('filters titles as you type, ignoring case and accents', async () => {
    const { backend, user } = await open();
    const calls = backend.argsOf('list_library').length;
    await user.type(screen.getByTestId('library-text'), 'DÁRWIN');
    expect(screen.getAllByTestId('library-item').map((a) => a.getAttribute('href'))).toEqual(['#/library/funding-darwin']);
    expect(backend.argsOf('list_library')).toHaveLength(calls);
    await user.clear(screen.getByTestId('library-text'));
    await user.type(screen.getByTestId('library-text'), 'nothing like this');
    expect(screen.getByTestId('library-empty')).toBeTruthy();
  });

  it('translates kinds and regions', async () => {
    const { user } = await open();
    await user.selectOptions(screen.getByTestId('lang-select'), 'fr');
    await waitFor(() =>
      expect(screen.getAllByTestId('library-group')[0]!.querySelector('h2')?.textContent).toContain('Financement'),
    );
    const region = screen.getByTestId('library-region') as HTMLSelectElement;
    expect([...region.options].map((o) => o.textContent)).toEqual(['Tous', 'Afrique', 'Monde', 'Océanie']);
  });
});
