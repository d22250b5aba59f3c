import { describe, expect, it } from 'vitest';
import { forumCategoryHref, forumThreadHref, itemHref, pageKey, parseHash, routeArea, searchHref } from './router.svelte';

describe('parseHash', () => {
  it('reads every route', () => {
    expect(parseHash('')).toEqual({ name: 'home' });
    expect(parseHash('#/')).toEqual({ name: 'home' });
    expect(parseHash('#/manual')).toEqual({ name: 'manual' });
    expect(parseHash('#/manual/meetings')).toEqual({ name: 'manual-item', id: 'meetings', section: null });
    expect(parseHash('#/manual/meetings/credentials')).toEqual({
      name: 'manual-item',
      id: 'meetings',
      section: 'credentials',
    });
    expect(parseHash('#/checklists')).toEqual({ name: 'checklists' });
    expect(parseHash('#/checklists/after-cop')).toEqual({ name: 'checklist', id: 'after-cop' });
    expect(parseHash('#/library')).toEqual({ name: 'library' });
    expect(parseHash('#/library/faq-full-powers')).toEqual({ name: 'library-item', id: 'faq-full-powers', section: null });
    expect(parseHash('#/search?q=lettres%20de%20cr%C3%A9ance')).toEqual({ name: 'search', q: 'lettres de créance' });
    expect(parseHash('#/search')).toEqual({ name: 'search', q: '' });
    expect(parseHash('#/sync')).toEqual({ name: 'sync' });
    expect(parseHash('#/sync/x')).toMatchObject({ name: 'not-found' });
    expect(parseHash('#/nowhere/x')).toEqual({ name: 'not-found', path: '/nowhere/x' });
    expect(parseHash('#/checklists/a/b')).toMatchObject({ name: 'not-found' });
    expect(parseHash('#/reports')).toEqual({ name: 'reports' });
    expect(parseHash('#/reports/0190-ab')).toEqual({ name: 'report', id: '0190-ab', section: null });
    expect(parseHash('#/reports/0190-ab/appendix_i')).toEqual({ name: 'report', id: '0190-ab', section: 'appendix_i' });
    expect(parseHash('#/reports/a/b/c')).toMatchObject({ name: 'not-found' });
  });

  it('builds hrefs that parse back', () => {
    expect(itemHref('manual', 'meetings')).toBe('#/manual/meetings');
    expect(itemHref('checklist', 'after-cop')).toBe('#/checklists/after-cop');
    expect(itemHref('library', 'x y')).toBe('#/library/x%20y');
    expect(parseHash(itemHref('library', 'x y'))).toMatchObject({ id: 'x y' });
    expect(itemHref('manual', 'meetings', 'credentials')).toBe('#/manual/meetings/credentials');
    expect(parseHash(searchHref('a&b=c'))).toEqual({ name: 'search', q: 'a&b=c' });
    expect(searchHref('  ')).toBe('#/search');
  });

  it('knows areas and pages', () => {
    expect(routeArea(parseHash('#/checklists/x'))).toBe('checklists');
    expect(routeArea(parseHash('#/sync'))).toBe('sync');
    expect(pageKey(parseHash('#/manual/a/s1'))).toBe(pageKey(parseHash('#/manual/a/s2')));
    expect(pageKey(parseHash('#/search?q=a'))).toBe(pageKey(parseHash('#/search?q=b')));
    expect(pageKey(parseHash('#/manual/a'))).not.toBe(pageKey(parseHash('#/manual/b')));
    // Another section of the same report is the same page (the report stays open).
    expect(routeArea(parseHash('#/reports/r1/s1'))).toBe('reports');
    expect(pageKey(parseHash('#/reports/r1/s1'))).toBe(pageKey(parseHash('#/reports/r1/s2')));
    expect(pageKey(parseHash('#/reports/r1'))).not.toBe(pageKey(parseHash('#/reports/r2')));
  });
});

describe('e-community routes', () => {
  it('reads the forum, directory and events routes and builds their hrefs', () => {
    expect(parseHash('#/forum')).toEqual({ name: 'forum' });
    expect(parseHash('#/forum/c/general')).toEqual({ name: 'forum-category', id: 'general' });
    expect(parseHash(forumThreadHref('0193-a b'))).toEqual({ name: 'forum-thread', id: '0193-a b' });
    expect(forumCategoryHref('qa')).toBe('#/forum/c/qa');
    expect(parseHash('#/forum/x/general')).toMatchObject({ name: 'not-found' });
    expect(parseHash('#/forum/c')).toMatchObject({ name: 'not-found' });
    expect(parseHash('#/directory')).toEqual({ name: 'directory' });
    expect(parseHash('#/events')).toEqual({ name: 'events' });
    expect(parseHash('#/events/x')).toMatchObject({ name: 'not-found' });
    for (const hash of ['#/forum', '#/forum/c/general', '#/forum/t/t1']) expect(routeArea(parseHash(hash))).toBe('forum');
    expect(routeArea(parseHash('#/directory'))).toBe('directory');
    expect(routeArea(parseHash('#/events'))).toBe('events');
    expect(pageKey(parseHash('#/forum/t/t1'))).not.toBe(pageKey(parseHash('#/forum/t/t2')));
    expect(pageKey(parseHash('#/forum/c/a'))).not.toBe(pageKey(parseHash('#/forum/t/a')));
  });
});
