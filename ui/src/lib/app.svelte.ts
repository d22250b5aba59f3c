// State shared by the whole app: what app_status said, and whether the user chose to go on
// with the installed content after a broken update.
import { api, type AppStatus, type Lang } from './api';
import { errorMessage } from './errors';
import { setLang } from './i18n/index.svelte';

export interface DegradedContent {
  file: string;
  reason: string;
  version: string;
}

class AppState {
  status = $state<AppStatus | null>(null);
  degraded = $state<DegradedContent | null>(null);
  /** The last language switch that Stopover could not save, if any. */
  languageError = $state<string | null>(null);

  get packVersion(): string | null {
    const content = this.status?.content;
    if (!content) return null;
    return content.state === 'ready' ? content.version : content.installed_version;
  }
}

export const appState = new AppState();

/**
 * Saves the language on the Rust side, then switches the interface; views reload their data
 * because they depend on `i18n.lang`. The interface switches even if saving failed.
 */
export async function changeLanguage(lang: Lang): Promise<void> {
  appState.languageError = null;
  try {
    await api.setLanguage(lang);
  } catch (e) {
    appState.languageError = errorMessage(e);
  } finally {
    setLang(lang);
  }
}
