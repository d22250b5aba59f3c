// Every user-visible string goes through `t`. `i18n.lang` is reactive state: templates that
// call `t` re-render when the language changes.
import { LANGS, type Lang } from '../api';
import { en } from './en';
import { es } from './es';
import { fr } from './fr';

export type Messages = typeof en;
export type MessageKey = keyof Messages;
export type Params = Record<string, string | number>;
/** Keys that come in a `.one` / `.other` pair, for `tn`. */
export type PluralKey = { [K in MessageKey]: K extends `${infer B}.one` ? B : never }[MessageKey];

export const dictionaries: Record<Lang, Messages> = { en, fr, es };

class I18n {
  lang = $state<Lang>('en');
}

export const i18n = new I18n();

export function isLang(value: unknown): value is Lang {
  return typeof value === 'string' && (LANGS as string[]).includes(value);
}

/** Sets the interface language and `<html lang>`. */
export function setLang(lang: Lang): void {
  i18n.lang = isLang(lang) ? lang : 'en';
  if (typeof document !== 'undefined') document.documentElement.lang = i18n.lang;
}

export function hasKey(key: string): key is MessageKey {
  return Object.prototype.hasOwnProperty.call(en, key);
}

function interpolate(text: string, params?: Params): string {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole,
  );
}

/** The string for `key` in the current language, with `{name}` placeholders filled from `params`. */
export function t(key: MessageKey, params?: Params): string {
  const dict = dictionaries[i18n.lang] ?? en;
  return interpolate(dict[key] ?? en[key] ?? key, params);
}

/** A count with the right plural form: `tn('count.ticks', 3)` uses `count.ticks.other`. */
export function tn(base: PluralKey, count: number, params?: Params): string {
  const form = new Intl.PluralRules(i18n.lang).select(count) === 'one' ? 'one' : 'other';
  return t(`${base}.${form}` as MessageKey, { count, ...params });
}
