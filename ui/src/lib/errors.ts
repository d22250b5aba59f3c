// Errors and refusals in the reader's language. Rust sends a stable code with parameters
// (ErrorReport, RefusalView); the sentence is ours, by code, in en/fr/es. The English
// `message` beside the code is for the console only: no sentence from Rust reaches the page.
import { isAppError } from './api';
import type { ErrorReport, Param, RefusalView } from './bindings';
import { hasKey, i18n, t, type MessageKey, type Params } from './i18n/index.svelte';

/** Parameter names whose values are dates or timestamps, shown in the reader's locale. */
const DATE_PARAMS = new Set(['submitted_at', 'closes']);

function formatDate(value: string): string {
  const date = new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(date.getTime())) return value;
  const options: Intl.DateTimeFormatOptions =
    value.length === 10 ? { dateStyle: 'long', timeZone: 'UTC' } : { dateStyle: 'long', timeStyle: 'short' };
  return new Intl.DateTimeFormat(i18n.lang, options).format(date);
}

/** Rust's parameters as the dictionary's placeholders: lists joined in the language's way. */
function words(params: Record<string, Param | undefined> | undefined): Params {
  const out: Params = {};
  for (const [name, value] of Object.entries(params ?? {})) {
    if (value === undefined) continue;
    if (Array.isArray(value)) {
      out[name] = new Intl.ListFormat(i18n.lang, { type: 'conjunction' }).format(value);
    } else if (typeof value === 'string' && DATE_PARAMS.has(name)) {
      out[name] = formatDate(value);
    } else {
      out[name] = value;
    }
  }
  return out;
}

/** `key` filled from `params`; a placeholder Rust did not fill reads as "…", never `{name}`. */
function fill(key: MessageKey, params: Record<string, Param | undefined> | undefined): string {
  return t(key, words(params)).replace(/\{\w+\}/g, '…');
}

/** What went wrong, in words, for an error a command returned. */
export function describeError(e: ErrorReport): string {
  if (e.code === 'server') {
    const key = `serverError.${e.server_code ?? 'unknown'}`;
    return fill(hasKey(key) ? key : 'serverError.unknown', e.params);
  }
  const key = `error.${e.code}`;
  return fill(hasKey(key) ? key : 'error.unknown', e.params);
}

/** Why the server refused a change, in words. */
export function describeRefusal(r: RefusalView): string {
  const key = `refusal.${r.code}`;
  return fill(hasKey(key) ? key : 'refusal.unknown', r.params);
}

/** What the person can do about a refusal, when there is something to do. */
export function refusalAdvice(r: RefusalView): string | null {
  const key = `refusal.advice.${r.code}`;
  return hasKey(key) ? fill(key, r.params) : null;
}

/** A message a person can read, for anything a command or the code may throw. */
export function errorMessage(e: unknown): string {
  if (isAppError(e)) {
    console.warn(`[${e.code}${e.server_code ? `/${e.server_code}` : ''}] ${e.message}`);
    return describeError(e);
  }
  // A JavaScript error is a bug of ours: say so plainly, keep the details for the console.
  console.error(e);
  return t('error.unknown');
}
