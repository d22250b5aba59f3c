// Translated names for kinds, regions, languages, and dates in the current language.
import type { ItemKind } from './api';
import { hasKey, i18n, t } from './i18n/index.svelte';

export function kindLabel(kind: ItemKind): string {
  return t(`kind.${kind}`);
}

export function groupLabel(kind: ItemKind): string {
  return t(`group.${kind}`);
}

export function libraryKindLabel(kind: string): string {
  const key = `libkind.${kind}`;
  return hasKey(key) ? t(key) : kind;
}

export function regionLabel(region: string): string {
  const key = `region.${region}`;
  return hasKey(key) ? t(key) : region;
}

/** A language's name in the interface language ("French", "français", "francés"). */
export function languageName(code: string): string {
  const key = `langname.${code}`;
  if (hasKey(key)) return t(key);
  try {
    return new Intl.DisplayNames([i18n.lang], { type: 'language' }).of(code) ?? code;
  } catch {
    return code;
  }
}

/** `2025-06-30` and `2025-06` are shown in the reader's language; anything else as it is. */
export function formatDate(value: string): string {
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const month = /^(\d{4})-(\d{2})$/.exec(value);
  try {
    if (day) {
      const d = new Date(Date.UTC(+day[1]!, +day[2]! - 1, +day[3]!));
      return new Intl.DateTimeFormat(i18n.lang, { dateStyle: 'long', timeZone: 'UTC' }).format(d);
    }
    if (month) {
      const d = new Date(Date.UTC(+month[1]!, +month[2]! - 1, 1));
      return new Intl.DateTimeFormat(i18n.lang, { year: 'numeric', month: 'long', timeZone: 'UTC' }).format(d);
    }
  } catch {
    // fall through: show the value as written
  }
  return value;
}

/** Folds case and accents so a filter for "delegation" finds "Délégation". */
export function foldText(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}
