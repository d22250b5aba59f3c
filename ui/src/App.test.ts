import { cleanup, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from './App.svelte';
import type { AppStatus } from './lib/api';
import { emit } from '@tauri-apps/api/event';
import { CONTENT_UPDATED_EVENT } from './lib/api';
import { goTo, mockBackend, readyStatus, summary, syncStatus } from './test/backend';

const manual = (lang: string) => [
  summary({ kind: 'manual', id: 'meetings', title: lang === 'fr' ? 'Réunions' : 'Meetings', summary: 'COP and more' }),
  summary({ kind: 'manual', id: 'finances', title: 'Finances', fallback: lang !== 'en', summary: 'Money' }),
];

describe('App start-up', () => {
  it('announces a content pack that sync installed, in the current language', async () => {
    mockBackend({ app_status: { ...readyStatus, language: 'fr' } });
    render(App);
    await screen.findByTestId('home');
    expect(screen.queryByTestId('content-updated')).toBeNull();
    await emit(CONTENT_UPDATED_EVENT, '2027.1.0');
    const banner = await screen.findByTestId('content-updated');
    expect(banner.textContent).toContain('2027.1.0');
    expect(banner.textContent).toContain('nouveau contenu');
  });

  it('warns when the laptop’s clock is far off the server’s, in the current language', async () => {
    const threeYears = 3 * 365 * 86_400;
    mockBackend({ app_status: readyStatus, sync_status: syncStatus({ clock_skew_secs: -threeYears }) });
    render(App);
    const banner = await screen.findByTestId('clock-warning');
    expect(banner.textContent).toContain('3 years ahead of the e-community server’s');
    cleanup();
    mockBackend({ app_status: { ...readyStatus, language: 'fr' }, sync_status: syncStatus({ clock_skew_secs: 720 }) });
    render(App);
    expect((await screen.findByTestId('clock-warning')).textContent).toContain('retarde de 12 minutes');
    cleanup();
    mockBackend({ app_status: readyStatus, sync_status: syncStatus({ clock_skew_secs: null }) });
    render(App);
    await screen.findByTestId('home');
    expect(screen.queryByTestId('clock-warning')).toBeNull();
  });

  it('takes the language from app_status and calls ui_ready once', async () => {
    const backend = mockBackend({ app_status: { ...readyStatus, language: 'es' } });
    render(App);
    expect(await screen.findByTestId('nav-library')).toHaveProperty('textContent', 'Biblioteca');
    expect(document.documentElement.lang).toBe('es');
    await waitFor(() => expect(backend.argsOf('ui_ready')).toHaveLength(1));
    expect(backend.argsOf('list_recent')).toEqual([{ lang: 'es' }]);
  });

  it('still starts when ui_ready fails', async () => {
    mockBackend({
      ui_ready: () => {
        throw { code: 'x', message: 'no' };
      },
    });
    render(App);
    expect(await screen.findByTestId('home')).toBeTruthy();
  });

  it('shows the navigation with the current page marked', async () => {
    goTo('#/manual/meetings');
    mockBackend({
      open_item: { kind: 'manual', id: 'meetings', title: 'Meetings', summary: '', html: '<p>x</p>', lang: 'en', fallback: false, provenance: { reviewed: null, sources: [] }, bookmarked: false },
    });
    render(App);
    await screen.findByTestId('reader');
    for (const id of ['home', 'manual', 'checklists', 'library', 'search', 'sync']) {
      const link = screen.getByTestId(`nav-${id}`);
      expect(link.tagName).toBe('A');
      expect(link.getAttribute('aria-current')).toBe(id === 'manual' ? 'page' : null);
    }
    expect(screen.getByText('Skip to content').getAttribute('href')).toBe('#main');
  });
});

describe('language switch', () => {
  it('switches strings, calls set_language, sets <html lang> and reloads the view', async () => {
    goTo('#/manual');
    const backend = mockBackend({ list_manual: (args: Record<string, unknown>) => manual(args.lang as string) });
    const user = userEvent.setup();
    render(App);

    expect(await screen.findByText('Meetings')).toBeTruthy();
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Manual');
    const select = screen.getByTestId('lang-select') as HTMLSelectElement;
    expect([...select.options].map((o) => [o.value, o.textContent])).toEqual([
      ['en', 'English'],
      ['fr', 'Français'],
      ['es', 'Español'],
    ]);

    await user.selectOptions(select, 'fr');

    await waitFor(() => expect(backend.argsOf('set_language')).toEqual([{ lang: 'fr' }]));
    expect(await screen.findByText('Réunions')).toBeTruthy();
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Manuel');
    expect(screen.getByTestId('nav-checklists').textContent).toBe('Listes de contrôle');
    expect(document.documentElement.lang).toBe('fr');
    expect(backend.argsOf('list_manual')).toEqual([{ lang: 'en' }, { lang: 'fr' }]);
    expect(select.value).toBe('fr');
    // The module that fell back to English is badged.
    const modules = screen.getAllByTestId('manual-module');
    expect(within(modules[1]!).getByTestId('fallback-badge').textContent).toBe('Non traduit');
    expect(within(modules[0]!).queryByTestId('fallback-badge')).toBeNull();
  });

  it('switches the interface even if the language could not be saved, and says so', async () => {
    mockBackend({
      set_language: () => {
        throw { code: 'database', message: 'disk full' };
      },
    });
    const user = userEvent.setup();
    render(App);
    await user.selectOptions(await screen.findByTestId('lang-select'), 'es');
    expect(await screen.findByText(/could not read or write its data file/)).toBeTruthy();
    expect(screen.getByTestId('nav-home').textContent).toBe('Inicio');
  });
});

describe('error screen', () => {
  it('shows on database_too_new with the user data counts', async () => {
    const status: AppStatus = {
      startup_error: {
        code: 'database_too_new',
        params: { found: 9, supported: 3 },
        message: 'Database version 9 is newer than this Stopover (3).',
      },
      content: null,
      language: 'en',
      user_data: { ticks: 12, notes: 1, bookmarks: 4 },
      data_dir: '/data/stopover',
    };
    const backend = mockBackend({ app_status: status });
    render(App);
    const screenEl = await screen.findByTestId('error-screen');
    expect(screenEl.textContent).toContain('(database_too_new)');
    expect(screenEl.textContent).not.toContain('Database version 9');
    expect(screenEl.textContent).toContain('newer version of Stopover');
    expect(screen.getByTestId('user-data-safe').textContent?.trim()).toBe(
      'Your own data is safe: 12 ticks, 1 note, 4 bookmarks.',
    );
    expect(screen.queryByTestId('continue-installed')).toBeNull();
    expect(screen.queryByTestId('nav-home')).toBeNull();
    await waitFor(() => expect(backend.argsOf('ui_ready')).toHaveLength(1));
  });

  it('says another Stopover has the data folder open, and that this one opened nothing', async () => {
    mockBackend({
      app_status: {
        startup_error: { code: 'data_dir_in_use', params: { path: '/data/stopover' }, message: 'in use' },
        content: null,
        language: 'en',
        user_data: null,
        data_dir: '/data/stopover',
      },
    });
    render(App);
    const screenEl = await screen.findByTestId('error-screen');
    expect(screenEl.querySelector('h1')?.textContent).toBe('Stopover is already open');
    expect(screen.getByTestId('in-use').textContent).toContain('Switch to that window');
    expect(screen.getByTestId('user-data-safe').textContent).toContain('has not changed or deleted your own data');
    expect(screenEl.textContent).toContain('/data/stopover');
  });

  it('is translated', async () => {
    mockBackend({
      app_status: {
        startup_error: { code: 'database_too_new', params: {}, message: 'too new' },
        content: null,
        language: 'fr',
        user_data: { ticks: 2, notes: 0, bookmarks: 1 },
        data_dir: '/d',
      },
    });
    render(App);
    await screen.findByTestId('error-screen');
    expect(screen.getByTestId('user-data-safe').textContent?.trim()).toBe(
      'Vos propres données sont intactes\u202f: 2 coches, 0 note, 1 favori.',
    );
  });

  it('offers to continue with the installed content when the new pack is broken', async () => {
    mockBackend({
      app_status: {
        ...readyStatus,
        content: { state: 'broken', file: 'manual/fr/meetings.md', reason: 'invalid front matter', installed_version: '2024.3' },
      },
    });
    const user = userEvent.setup();
    render(App);
    await screen.findByTestId('error-screen');
    expect(screen.getByTestId('error-file').textContent).toBe('manual/fr/meetings.md');
    expect(screen.getByTestId('error-reason').textContent).toBe('invalid front matter');
    expect(screen.getByTestId('user-data-safe').textContent).toContain('3 ticks, 1 note, 2 bookmarks');

    const button = screen.getByTestId('continue-installed');
    expect(button.textContent?.trim()).toBe('Continue with the installed content (version 2024.3)');
    await user.click(button);

    expect(await screen.findByTestId('home')).toBeTruthy();
    expect(screen.queryByTestId('error-screen')).toBeNull();
    const banner = screen.getByTestId('degraded-banner');
    expect(banner.textContent).toContain('version 2024.3');
    expect(banner.textContent).toContain('manual/fr/meetings.md');
    // The banner stays while moving around.
    await user.click(screen.getByTestId('nav-library'));
    await screen.findByRole('heading', { level: 1, name: 'Library' });
    expect(screen.getByTestId('degraded-banner')).toBeTruthy();
  });

  it('has no way past a broken pack when nothing is installed', async () => {
    mockBackend({
      app_status: {
        ...readyStatus,
        content: { state: 'broken', file: 'manifest.toml', reason: 'missing', installed_version: null },
      },
    });
    render(App);
    await screen.findByTestId('error-screen');
    expect(screen.queryByTestId('continue-installed')).toBeNull();
  });

  it('shows when app_status itself fails', async () => {
    mockBackend({
      app_status: () => {
        throw { code: 'internal', message: 'state not managed' };
      },
    });
    render(App);
    expect((await screen.findByTestId('error-screen')).textContent).toContain('Something went wrong inside Stopover.');
  });
});

describe('keyboard', () => {
  it('/ opens search and focuses its input; Ctrl+K focuses it again', async () => {
    const user = userEvent.setup();
    goTo('#/manual');
    mockBackend();
    render(App);
    await screen.findByRole('heading', { level: 1, name: 'Manual' });
    await user.keyboard('/');
    const input = await screen.findByTestId('search-input');
    await waitFor(() => expect(document.activeElement).toBe(input));
    expect(location.hash).toBe('#/search');

    input.blur();
    await user.keyboard('{Control>}k{/Control}');
    expect(document.activeElement).toBe(input);
  });

  it('/ does not steal typing in a text field', async () => {
    const user = userEvent.setup();
    goTo('#/library');
    mockBackend();
    render(App);
    const field = await screen.findByTestId('library-text');
    await user.click(field);
    await user.keyboard('a/b');
    expect((field as HTMLInputElement).value).toBe('a/b');
    expect(location.hash).toBe('#/library');
  });

  it('/ focuses the quick search box on the home page', async () => {
    const user = userEvent.setup();
    mockBackend();
    render(App);
    const box = await screen.findByTestId('home-search');
    await user.keyboard('/');
    expect(document.activeElement).toBe(box);
  });
});
