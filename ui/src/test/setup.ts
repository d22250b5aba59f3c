// Vitest setup: jsdom gaps, and a clean slate between tests.
import { webcrypto } from 'node:crypto';
import { cleanup } from '@testing-library/svelte';
import { clearMocks } from '@tauri-apps/api/mocks';
import { afterEach, beforeEach } from 'vitest';
import { appState } from '../lib/app.svelte';
import { setLang } from '../lib/i18n/index.svelte';
import { resetLibraryFilters } from '../lib/library-filters.svelte';
import { externalLink } from '../lib/links.svelte';

// mockIPC registers callbacks with window.crypto.getRandomValues.
if (!window.crypto?.getRandomValues) {
  Object.defineProperty(window, 'crypto', {
    configurable: true,
    value: webcrypto,
  });
}

// jsdom does not scroll.
window.scrollTo = () => {};
if (!Element.prototype.scrollIntoView) Element.prototype.scrollIntoView = function () {};

beforeEach(() => {
  history.replaceState(null, '', '#/');
});

afterEach(() => {
  cleanup();
  clearMocks();
  setLang('en');
  appState.status = null;
  appState.degraded = null;
  appState.languageError = null;
  externalLink.url = null;
  resetLibraryFilters();
  document.body.innerHTML = '';
});
