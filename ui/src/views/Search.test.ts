import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../App.svelte';
import { HIGHLIGHT_END as E, HIGHLIGHT_START as S, type SearchHit } from '../lib/api';
import { goTo, mockBackend } from '../test/backend';

const hits: SearchHit[] = [
  // bm25: lower is better. Library has the best hit (though not listed first), then Manual, then Checklists.
  { kind: 'manual', id: 'meetings', title: 'Meetings', snippet: `bring <script>alert(1)</script> your ${S}credentials${E} & passport`, score: -7, section: null },
  { kind: 'library', id: 'faq-full-powers', title: `${S}Credentials${E} and full powers`, snippet: `Who signs ${S}credentials${E}…`, score: -9.5, section: null },
  { kind: 'checklist', id: 'cop-preparation', title: 'Preparing for the COP', snippet: `Request ${S}credentials${E}`, score: -5, section: null },
  { kind: 'manual', id: 'appointing-nfps', title: 'Appointing NFPs', snippet: 'delegation', score: -4, section: null },
];

async function renderAt(hash: string, reply: unknown = hits) {
  goTo(hash);
  const backend = mockBackend({ search: reply });
  const user = userEvent.setup();
  render(App);
  return { backend, user };
}

describe('Search', () => {
  it('opens a glossary term at its own entry', async () => {
    await renderAt('#/search?q=NBSAP', [
      { kind: 'manual', id: 'glossary', title: `${S}NBSAP${E} — National biodiversity strategy and action plan`, snippet: 'The plan', score: -9, section: 'nbsap' },
      { kind: 'manual', id: 'glossary', title: 'KMGBF — Kunming-Montreal Global Biodiversity Framework', snippet: `in each ${S}NBSAP${E}`, score: -6, section: 'kmgbf' },
      { kind: 'manual', id: 'implementation', title: 'Implementation', snippet: `your ${S}NBSAP${E}`, score: -5, section: null },
    ]);
    const results = await screen.findAllByTestId('search-result');
    expect(results.map((a) => a.getAttribute('href'))).toEqual([
      '#/manual/glossary/nbsap',
      '#/manual/glossary/kmgbf',
      '#/manual/implementation',
    ]);
    expect(results[0]!.querySelector('mark')?.textContent).toBe('NBSAP');
  });

  it('renders results grouped by kind, groups ordered by their best hit, with <mark>', async () => {
    await renderAt('#/search?q=credentials');
    const results = await screen.findAllByTestId('search-result');
    expect(results).toHaveLength(4);

    const groups = screen.getAllByTestId('search-group');
    expect(groups.map((g) => g.querySelector('h2')?.textContent?.replace(/\s+/g, ' ').trim())).toEqual([
      'Library (1)',
      'Manual (2)',
      'Checklists (1)',
    ]);
    expect(within(groups[1]!).getAllByTestId('search-result').map((a) => a.getAttribute('href'))).toEqual([
      '#/manual/meetings',
      '#/manual/appointing-nfps',
    ]);
    expect(within(groups[2]!).getByTestId('search-result').getAttribute('href')).toBe('#/checklists/cop-preparation');
    expect(within(groups[0]!).getByTestId('search-result').getAttribute('href')).toBe('#/library/faq-full-powers');

    const first = within(groups[0]!).getByTestId('search-result');
    expect(first.tagName).toBe('A');
    expect(first.querySelector('.result-title')?.innerHTML).toBe('<mark>Credentials</mark> and full powers');
    expect(first.querySelectorAll('mark')).toHaveLength(2);
  });

  it('escapes HTML in snippets before marking', async () => {
    await renderAt('#/search?q=credentials');
    const results = await screen.findAllByTestId('search-result');
    const snippet = results.find((r) => r.getAttribute('href') === '#/manual/meetings')!.querySelector('.result-snippet')!;
    expect(snippet.querySelector('script')).toBeNull();
    expect(snippet.textContent).toBe('bring <script>alert(1)</script> your credentials & passport');
    expect(snippet.innerHTML).toContain('&lt;script&gt;');
    expect(snippet.querySelector('mark')?.textContent).toBe('credentials');
  });

  it('searches in the current language and again when it changes', async () => {
    const { backend, user } = await renderAt('#/search?q=lettres');
    await screen.findAllByTestId('search-result');
    expect(backend.argsOf('search')).toEqual([{ query: 'lettres', lang: 'en' }]);
    await user.selectOptions(screen.getByTestId('lang-select'), 'fr');
    await waitFor(() => expect(backend.argsOf('search')).toEqual([
      { query: 'lettres', lang: 'en' },
      { query: 'lettres', lang: 'fr' },
    ]));
    expect(screen.getAllByTestId('search-group')[0]!.querySelector('h2')?.textContent).toContain('Bibliothèque');
  });

  it('debounces typing, keeps the query in the address, and Enter searches at once', async () => {
    const { backend, user } = await renderAt('#/search');
    const input = (await screen.findByTestId('search-input')) as HTMLInputElement;
    expect(document.activeElement).toBe(input);
    expect(screen.getByTestId('search-hint')).toBeTruthy();

    await user.type(input, 'cred');
    // Typing four letters quickly makes one search, not four.
    expect(backend.argsOf('search')).toEqual([]);
    await waitFor(() => expect(backend.argsOf('search')).toEqual([{ query: 'cred', lang: 'en' }]));
    expect(location.hash).toBe('#/search?q=cred');
    expect(await screen.findAllByTestId('search-result')).toHaveLength(4);

    await user.type(input, 'entials{Enter}');
    expect(backend.argsOf('search').at(-1)).toEqual({ query: 'credentials', lang: 'en' });
    expect(location.hash).toBe('#/search?q=credentials');
    expect(input.value).toBe('credentials');
  });

  it('follows a new query from a link', async () => {
    const { backend } = await renderAt('#/search?q=first');
    await screen.findAllByTestId('search-result');
    location.hash = '#/search?q=second%20term';
    await waitFor(() => expect(backend.argsOf('search').at(-1)).toEqual({ query: 'second term', lang: 'en' }));
    expect((screen.getByTestId('search-input') as HTMLInputElement).value).toBe('second term');
  });

  it('says when nothing is found, with a hint', async () => {
    await renderAt('#/search?q=zzzz', []);
    const none = await screen.findByTestId('search-no-results');
    expect(none.textContent).toContain('No results for “zzzz”.');
    expect(none.textContent).toContain('Try fewer words');
  });

  it('shows a search error', async () => {
    await renderAt('#/search?q=x', () => {
      throw { code: 'database', message: 'index is locked' };
    });
    expect((await screen.findByRole('alert')).textContent).toContain('Stopover could not read or write its data file.');
  });

  it('goes from the home quick search to the results', async () => {
    const { backend, user } = await renderAt('#/');
    await user.type(await screen.findByTestId('home-search'), 'full powers{Enter}');
    expect(await screen.findAllByTestId('search-result')).toHaveLength(4);
    expect(backend.argsOf('search')).toEqual([{ query: 'full powers', lang: 'en' }]);
    expect((screen.getByTestId('search-input') as HTMLInputElement).value).toBe('full powers');
  });
});
