// Dates as a person types them in the app's language, stored as ISO 8601 (`2021-01-01`). The
// app does not use `<input type=date>`: WebKitGTK draws it in the system's locale, not the
// app's (a French report on an English system read 2021-01-01 as month 01, day 20, year 21…).
import type { Lang } from '../api';

/** The pattern shown as the placeholder and the hint, per language: day first everywhere
 * (the United Nations' usage), the year in four digits. ISO dates are read in every language. */
export const DATE_PATTERN: Record<Lang, string> = {
  en: 'DD/MM/YYYY',
  fr: 'JJ/MM/AAAA',
  es: 'DD/MM/AAAA',
};

/** True for a real calendar day written `YYYY-MM-DD`. */
export function isIsoDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  return m !== null && isDay(Number(m[1]), Number(m[2]), Number(m[3]));
}

function isDay(year: number, month: number, day: number): boolean {
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The ISO date a person typed, or null when it is not a whole, real date. Accepts
 * `YYYY-MM-DD` (also with `/` or `.`) and the language's day-first order `DD/MM/YYYY` (also with
 * `.`, `-` or spaces). A two-digit year is refused rather than guessed. */
export function parseDate(typed: string): string | null {
  const text = typed.trim();
  let m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/.exec(text);
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    return isDay(y, mo, d) ? `${pad(y, 4)}-${pad(mo)}-${pad(d)}` : null;
  }
  m = /^(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{4})$/.exec(text);
  if (m) {
    const [d, mo, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
    return isDay(y, mo, d) ? `${pad(y, 4)}-${pad(mo)}-${pad(d)}` : null;
  }
  return null;
}

/** A stored ISO date as the language writes it in the field (`01/01/2021`); anything else
 * (a value that is not a date) as it is. */
export function formatDateInput(value: string): string {
  if (!isIsoDate(value)) return value;
  const [y, m, d] = value.split('-');
  return `${d}/${m}/${y}`;
}

/** A stored ISO date in words, in `lang` (`1 janvier 2021`), to confirm what was understood. */
export function dateInWords(value: string, lang: Lang): string | null {
  if (!isIsoDate(value)) return null;
  const d = new Date(`${value}T00:00:00Z`);
  return new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeZone: 'UTC' }).format(d);
}
