import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import App from '../App.svelte';
import type { ItemView } from '../lib/api';
import { goTo, mockBackend, type Reply } from '../test/backend';

const meetings = (over: Partial<ItemView> = {}): ItemView => ({
  kind: 'manual',
  id: 'meetings',
  title: 'Meetings',
  summary: 'COP',
  html:
    '<h2 id="sec-before">Before</h2><p>See <a href="#/manual/finances">finances</a> and <a href="https://www.cms.int/en/documents">the documents</a>.</p>' +
    '<h2 id="sec-credentials">Credentials</h2><p>Text</p>',
  lang: 'en',
  fallback: false,
  provenance: { reviewed: null, sources: [] },
  bookmarked: false,
  ...over,
});

async function open(hash: string, replies: Record<string, Reply>) {
  goTo(hash);
  const backend = mockBackend(replies);
  const user = userEvent.setup();
  render(App);
  const reader = await screen.findByTestId('reader');
  return { backend, user, reader };
}

describe('Reader', () => {
  it('opens the item in the current language and renders its html', async () => {
    const { backend, reader } = await open('#/manual/meetings', { open_item: meetings() });
    expect(backend.argsOf('open_item')).toEqual([{ kind: 'manual', id: 'meetings', lang: 'en' }]);
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Meetings');
    expect(reader.querySelector('.prose h2#sec-credentials')).not.toBeNull();
    expect(screen.queryByTestId('fallback-notice')).toBeNull();
  });

  it('shows the fallback notice when the item is in English instead of French', async () => {
    await open('#/manual/meetings', {
      app_status: { startup_error: null, content: { state: 'ready', version: '1' }, language: 'fr', user_data: null, data_dir: '' },
      open_item: meetings({ fallback: true, lang: 'en' }),
    });
    const notice = screen.getByTestId('fallback-notice');
    expect(notice.textContent?.trim()).toBe('Ce contenu n’est pas encore disponible en français\u202f; le texte anglais est affiché.');
    expect(document.querySelector('.prose')?.getAttribute('lang')).toBe('en');
  });

  it('shows the notice in Spanish after switching language', async () => {
    const { user } = await open('#/manual/meetings', {
      open_item: (a: Record<string, unknown>) => meetings({ fallback: a.lang !== 'en' }),
    });
    expect(screen.queryByTestId('fallback-notice')).toBeNull();
    await user.selectOptions(screen.getByTestId('lang-select'), 'es');
    expect((await screen.findByTestId('fallback-notice')).textContent?.trim()).toBe(
      'Este contenido aún no está disponible en español; se muestra el texto en inglés.',
    );
  });

  it('toggles the bookmark with set_bookmark and aria-pressed', async () => {
    const { backend, user } = await open('#/manual/meetings', {
      open_item: meetings(),
      set_bookmark: (a: Record<string, unknown>) => a.on,
    });
    const toggle = screen.getByTestId('bookmark-toggle');
    expect(toggle.tagName).toBe('BUTTON');
    expect(toggle.getAttribute('aria-pressed')).toBe('false');
    await user.click(toggle);
    await waitFor(() => expect(toggle.getAttribute('aria-pressed')).toBe('true'));
    await user.click(toggle);
    await waitFor(() => expect(toggle.getAttribute('aria-pressed')).toBe('false'));
    expect(backend.argsOf('set_bookmark')).toEqual([
      { kind: 'manual', id: 'meetings', on: true },
      { kind: 'manual', id: 'meetings', on: false },
    ]);
  });

  it('does not follow https links: it shows the address instead', async () => {
    const { user } = await open('#/manual/meetings', { open_item: meetings() });
    const link = screen.getByRole('link', { name: 'the documents' });
    link.focus();
    const click = new MouseEvent('click', { bubbles: true, cancelable: true });
    link.dispatchEvent(click);
    expect(click.defaultPrevented).toBe(true);
    const url = (await screen.findByTestId('external-link-url')) as HTMLInputElement;
    expect(url.value).toBe('https://www.cms.int/en/documents');
    await user.click(screen.getByRole('button', { name: 'Close' }));
    expect(screen.queryByTestId('external-link-notice')).toBeNull();
    expect(document.activeElement).toBe(link);
    expect(location.hash).toBe('#/manual/meetings');
  });

  it('follows internal #/ links', async () => {
    const { backend } = await open('#/manual/meetings', {
      open_item: (a: Record<string, unknown>) => meetings({ id: a.id as string, title: a.id === 'finances' ? 'Finances' : 'Meetings' }),
    });
    const link = screen.getByRole('link', { name: 'finances' });
    const click = new MouseEvent('click', { bubbles: true, cancelable: true });
    link.dispatchEvent(click);
    expect(click.defaultPrevented).toBe(false);
    // jsdom does not navigate on click; do what the browser would.
    location.hash = link.getAttribute('href')!;
    expect(await screen.findByRole('heading', { level: 1, name: 'Finances' })).toBeTruthy();
    expect(backend.argsOf('open_item').at(-1)).toEqual({ kind: 'manual', id: 'finances', lang: 'en' });
    expect(screen.queryByTestId('external-link-notice')).toBeNull();
  });

  it('scrolls to the section named in the address', async () => {
    const spy = vi.spyOn(Element.prototype, 'scrollIntoView');
    await open('#/manual/meetings/credentials', { open_item: meetings() });
    await waitFor(() => expect(spy).toHaveBeenCalled());
    expect(spy.mock.contexts.at(-1)).toBe(document.getElementById('sec-credentials'));
    expect(document.activeElement?.id).toBe('sec-credentials');
  });

  it('lists the sections on the page', async () => {
    await open('#/manual/meetings', { open_item: meetings() });
    const toc = await screen.findByRole('navigation', { name: 'On this page' });
    expect([...toc.querySelectorAll('a')].map((a) => a.getAttribute('href'))).toEqual([
      '#/manual/meetings/before',
      '#/manual/meetings/credentials',
    ]);
  });

  it('shows library metadata with the address as text, not a link', async () => {
    await open('#/library/funding-gef', {
      open_item: {
        kind: 'library',
        id: 'funding-gef',
        title: 'Global Environment Facility',
        summary: '',
        html: '<p>Grants.</p>',
        lang: 'en',
        fallback: false,
        bookmarked: true,
        provenance: { reviewed: null, sources: [] },
        meta: {
          kind: 'funding',
          regions: ['africa', 'latin-america-caribbean'],
          instruments: ['CMS', 'AEWA'],
          date: '2025-03-01',
          deadline: '2025-06-30',
          languages: ['en', 'fr'],
          url: 'https://www.thegef.org',
        },
      },
    });
    const meta = screen.getByTestId('library-meta');
    expect(meta.textContent).toContain('Funding');
    expect(meta.textContent).toContain('Africa, Latin America and the Caribbean');
    expect(meta.textContent).toContain('CMS, AEWA');
    expect(meta.textContent).toContain('June 30, 2025');
    expect(meta.textContent).toContain('English, French');
    expect(meta.querySelector('a')).toBeNull();
    expect((screen.getByTestId('url-field') as HTMLInputElement).value).toBe('https://www.thegef.org');
    expect(screen.getByTestId('bookmark-toggle').getAttribute('aria-pressed')).toBe('true');
    expect(document.querySelector('.crumbs a')?.getAttribute('href')).toBe('#/library');
  });

  it('ends the page with its sources and the review date in the UI language', async () => {
    const { user } = await open('#/manual/meetings', {
      open_item: meetings({
        provenance: {
          reviewed: '2026-12-06',
          sources: [
            { title: 'Convention text', url: 'https://www.cms.int/en/convention-text' },
            { title: 'Rules of procedure', url: 'https://www.cms.int/en/rules' },
          ],
        },
      }),
    });
    const foot = screen.getByTestId('provenance');
    expect(within(foot).getByRole('heading', { level: 2 }).textContent).toBe('Sources');
    expect(screen.getAllByTestId('provenance-source').map((a) => [a.textContent, a.getAttribute('href')])).toEqual([
      ['Convention text', 'https://www.cms.int/en/convention-text'],
      ['Rules of procedure', 'https://www.cms.int/en/rules'],
    ]);
    expect(screen.getByTestId('provenance-reviewed').textContent?.trim()).toBe('Last reviewed: December 6, 2026');
    // A source is not opened on click: the notice asks first, and offers the browser.
    const link = screen.getAllByTestId('provenance-source')[1]!;
    const click = new MouseEvent('click', { bubbles: true, cancelable: true });
    link.dispatchEvent(click);
    expect(click.defaultPrevented).toBe(true);
    expect(((await screen.findByTestId('external-link-url')) as HTMLInputElement).value).toBe('https://www.cms.int/en/rules');
    expect(screen.getByTestId('external-link-open')).toBeTruthy();
    // The table of contents lists the page's sections, not the foot.
    const toc = screen.getByRole('navigation', { name: 'On this page' });
    expect(toc.querySelectorAll('a')).toHaveLength(2);

    await user.selectOptions(screen.getByTestId('lang-select'), 'fr');
    await waitFor(() =>
      expect(screen.getByTestId('provenance-reviewed').textContent?.trim()).toBe('Dernière vérification des faits : 6 décembre 2026'),
    );
    await user.selectOptions(screen.getByTestId('lang-select'), 'es');
    await waitFor(() => expect(screen.getByTestId('provenance-reviewed').textContent?.trim()).toBe('Última revisión de los datos: 6 de diciembre de 2026'));
    expect(within(screen.getByTestId('provenance')).getByRole('heading', { level: 2 }).textContent).toBe('Fuentes');
  });

  it('has no foot when the item names no sources', async () => {
    await open('#/manual/meetings', { open_item: meetings() });
    expect(screen.queryByTestId('provenance')).toBeNull();
  });

  it('shows an error when the item cannot be opened', async () => {
    goTo('#/manual/nope');
    mockBackend({ open_item: () => Promise.reject({ code: 'not_found', message: 'No such module: nope' }) });
    render(App);
    expect((await screen.findByRole('alert')).textContent).toContain('This item is no longer on this laptop.');
  });

  it('handles an in-page #anchor link by scrolling, not routing', async () => {
    await open('#/manual/meetings', {
      open_item: meetings({ html: '<p><a href="#sec-x">down</a></p><h2 id="sec-x">X</h2>' }),
    });
    const link = screen.getByRole('link', { name: 'down' });
    await fireEvent.click(link);
    expect(location.hash).toBe('#/manual/meetings');
    expect(document.activeElement?.id).toBe('sec-x');
  });
});
