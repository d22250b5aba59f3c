import { isAppError } from './api';
import { t } from './i18n/index.svelte';

/** A message a person can read, for anything a command or the code may throw. */
export function errorMessage(e: unknown): string {
  if (isAppError(e) && typeof e.message === 'string' && e.message) return e.message;
  if (e instanceof Error && e.message) return e.message;
  if (typeof e === 'string' && e) return e;
  return t('error.unknown');
}
