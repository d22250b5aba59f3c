// Content links: `#/…` routes navigate as usual; `#anchor` scrolls within the page; any
// other address (https:, mailto:, …) is never opened in the app window: its address is
// shown for the user to copy instead. A link from a forum post (marked `data-external` by the
// post sanitizer) may also be opened in the system browser, once the person says so.

import { isOpenable } from './openable';

class ExternalLink {
  url = $state<string | null>(null);
  /** The link came from a forum post: the notice offers to open it in the system browser. */
  openable = $state(false);
}

export const externalLink = new ExternalLink();

export function scrollToElement(id: string, focus = false): boolean {
  const el = document.getElementById(id);
  if (!el) return false;
  el.scrollIntoView?.({ block: 'start' });
  if (focus) {
    if (!el.hasAttribute('tabindex')) el.setAttribute('tabindex', '-1');
    el.focus({ preventScroll: true });
  }
  return true;
}

function handle(event: MouseEvent): void {
  if (event.defaultPrevented) return;
  const target = event.target;
  if (!(target instanceof Element)) return;
  const anchor = target.closest('a[href]');
  if (!anchor) return;
  const href = anchor.getAttribute('href') ?? '';
  if (href.startsWith('#/') || href === '#') return;
  event.preventDefault();
  if (href.startsWith('#')) {
    let id = href.slice(1);
    try {
      id = decodeURIComponent(id);
    } catch {
      // keep as written
    }
    scrollToElement(id, true);
    return;
  }
  // Only what the opener will open: a post's link with invisible characters is shown to copy.
  externalLink.openable = anchor.hasAttribute('data-external') && isOpenable(href);
  externalLink.url = href;
}

/** Attachment (`{@attach guardLinks}`) that applies the rules above to links inside a node. */
export function guardLinks(node: HTMLElement): () => void {
  node.addEventListener('click', handle);
  node.addEventListener('auxclick', handle);
  return () => {
    node.removeEventListener('click', handle);
    node.removeEventListener('auxclick', handle);
  };
}
