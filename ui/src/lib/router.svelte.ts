// A tiny hash router: content links such as `#/manual/meetings` work as plain anchors.
import type { ItemKind } from './api';

export type Route =
  | { name: 'home' }
  | { name: 'manual' }
  | { name: 'manual-item'; id: string; section: string | null }
  | { name: 'checklists' }
  | { name: 'checklist'; id: string }
  | { name: 'library' }
  | { name: 'library-item'; id: string; section: string | null }
  | { name: 'search'; q: string }
  | { name: 'sync' }
  | { name: 'reports' }
  | { name: 'report'; id: string; section: string | null }
  | { name: 'forum' }
  | { name: 'forum-category'; id: string }
  | { name: 'forum-thread'; id: string }
  | { name: 'directory' }
  | { name: 'events' }
  | { name: 'not-found'; path: string };

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Parses `#/path/to?x=y` (the leading `#` is optional). */
export function parseHash(hash: string): Route {
  const raw = hash.startsWith('#') ? hash.slice(1) : hash;
  const qIndex = raw.indexOf('?');
  const path = qIndex >= 0 ? raw.slice(0, qIndex) : raw;
  const query = new URLSearchParams(qIndex >= 0 ? raw.slice(qIndex + 1) : '');
  const seg = path.split('/').filter((s) => s.length > 0).map(decode);

  if (seg.length === 0) return { name: 'home' };
  const [head, id, section, ...rest] = seg;
  if (rest.length === 0) {
    switch (head) {
      case 'manual':
        if (id === undefined) return { name: 'manual' };
        return { name: 'manual-item', id, section: section ?? null };
      case 'checklists':
        if (id === undefined) return { name: 'checklists' };
        if (section === undefined) return { name: 'checklist', id };
        break;
      case 'library':
        if (id === undefined) return { name: 'library' };
        return { name: 'library-item', id, section: section ?? null };
      case 'search':
        if (id === undefined) return { name: 'search', q: query.get('q') ?? '' };
        break;
      case 'sync':
        if (id === undefined) return { name: 'sync' };
        break;
      case 'reports':
        if (id === undefined) return { name: 'reports' };
        return { name: 'report', id, section: section ?? null };
      // `#/forum/c/<category>` and `#/forum/t/<thread>`: a thread is reached from a search
      // hit or the home notice without knowing its category.
      case 'forum':
        if (id === undefined) return { name: 'forum' };
        if (id === 'c' && section !== undefined) return { name: 'forum-category', id: section };
        if (id === 't' && section !== undefined) return { name: 'forum-thread', id: section };
        break;
      case 'directory':
        if (id === undefined) return { name: 'directory' };
        break;
      case 'events':
        if (id === undefined) return { name: 'events' };
        break;
    }
  }
  return { name: 'not-found', path };
}

const enc = encodeURIComponent;

/** The route of an item of any kind (`checklist` items live under `#/checklists/`). */
export function itemHref(kind: ItemKind, id: string, section?: string): string {
  const base = kind === 'manual' ? '#/manual/' : kind === 'checklist' ? '#/checklists/' : '#/library/';
  return base + enc(id) + (section && kind !== 'checklist' ? '/' + enc(section) : '');
}

export function forumCategoryHref(id: string): string {
  return '#/forum/c/' + enc(id);
}

export function forumThreadHref(id: string): string {
  return '#/forum/t/' + enc(id);
}

export function searchHref(q: string): string {
  return q.trim() === '' ? '#/search' : '#/search?q=' + enc(q);
}

/** Which part of the app a route belongs to (for the navigation's `aria-current`). */
export function routeArea(
  route: Route,
):
  | 'home'
  | 'manual'
  | 'checklists'
  | 'library'
  | 'search'
  | 'sync'
  | 'reports'
  | 'forum'
  | 'directory'
  | 'events'
  | null {
  switch (route.name) {
    case 'home':
      return 'home';
    case 'manual':
    case 'manual-item':
      return 'manual';
    case 'checklists':
    case 'checklist':
      return 'checklists';
    case 'library':
    case 'library-item':
      return 'library';
    case 'search':
      return 'search';
    case 'sync':
      return 'sync';
    case 'reports':
    case 'report':
      return 'reports';
    case 'forum':
    case 'forum-category':
    case 'forum-thread':
      return 'forum';
    case 'directory':
      return 'directory';
    case 'events':
      return 'events';
    default:
      return null;
  }
}

/** A key that changes when the user goes to another page (not for a new search query or section). */
export function pageKey(route: Route): string {
  switch (route.name) {
    case 'manual-item':
    case 'checklist':
    case 'library-item':
    case 'report':
    case 'forum-category':
    case 'forum-thread':
      return `${route.name}:${route.id}`;
    case 'not-found':
      return `not-found:${route.path}`;
    default:
      return route.name;
  }
}

function currentHash(): string {
  return typeof location === 'undefined' ? '' : location.hash;
}

/** Asked before the route changes; false keeps the page (the guard then deals with it, e.g.
 * asks the person and navigates itself with `force`). */
export type LeaveGuard = (next: Route, hash: string) => boolean;

class Router {
  route = $state<Route>(parseHash(currentHash()));
  // Not reactive, so that calling sync() inside an effect does not subscribe it to the route.
  #key = JSON.stringify(this.route);
  #hash = currentHash();
  #guards = new Set<LeaveGuard>();
  #force = false;

  /** Re-reads `location.hash` (views are only told if the route really changed). */
  sync(): void {
    const hash = currentHash();
    const next = parseHash(hash);
    const key = JSON.stringify(next);
    if (key === this.#key) return;
    const forced = this.#force;
    this.#force = false;
    if (!forced) {
      for (const guard of this.#guards) {
        if (!guard(next, hash)) {
          // Stay: the address goes back to the page still shown.
          if (typeof history !== 'undefined') history.replaceState(history.state, '', this.#hash || '#/');
          return;
        }
      }
    }
    this.#key = key;
    this.#hash = hash;
    this.route = next;
  }

  /** Adds a guard asked before leaving the current page; the returned function removes it. */
  guard(fn: LeaveGuard): () => void {
    this.#guards.add(fn);
    return () => this.#guards.delete(fn);
  }

  /** Follows `hashchange` until the returned function is called. */
  listen(): () => void {
    const onChange = () => this.sync();
    window.addEventListener('hashchange', onChange);
    this.sync();
    return () => window.removeEventListener('hashchange', onChange);
  }

  /** Goes to a route and adds a history entry; `force` passes the leave guards (the person
   * already said to leave). */
  navigate(hash: string, force = false): void {
    if (force) this.#force = true;
    if (currentHash() === hash) this.sync();
    else location.hash = hash;
  }

  /** Changes the address without a new history entry (used while typing a search). */
  replace(hash: string): void {
    history.replaceState(history.state, '', hash);
    this.sync();
  }
}

export const router = new Router();
