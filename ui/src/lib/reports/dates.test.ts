import { describe, expect, it } from 'vitest';
import { dateInWords, formatDateInput, isIsoDate, parseDate } from './dates';

describe('dates typed in the app’s language, stored as ISO', () => {
  it('reads ISO dates and the day-first order, never month first', () => {
    expect(parseDate('2021-01-01')).toBe('2021-01-01');
    expect(parseDate(' 2021/1/5 ')).toBe('2021-01-05');
    expect(parseDate('01/02/2021')).toBe('2021-02-01');
    expect(parseDate('1.2.2021')).toBe('2021-02-01');
    expect(parseDate('31 12 2026')).toBe('2026-12-31');
  });

  it('refuses what is not a whole, real date', () => {
    for (const bad of ['', '2021', '01/01/21', '31/02/2021', '2021-13-01', '0000-01-01', 'demain', '2021-01-01x']) {
      expect(parseDate(bad), bad).toBeNull();
    }
  });

  it('shows stored dates day first and in words', () => {
    expect(formatDateInput('2021-01-01')).toBe('01/01/2021');
    expect(formatDateInput('not a date')).toBe('not a date');
    expect(dateInWords('2021-01-01', 'fr')).toBe('1 janvier 2021');
    expect(dateInWords('2021-01-01', 'en')).toBe('January 1, 2021');
    expect(dateInWords('2021-01-01', 'es')).toBe('1 de enero de 2021');
    expect(dateInWords('x', 'en')).toBeNull();
    expect(isIsoDate('2024-02-29')).toBe(true);
    expect(isIsoDate('2023-02-29')).toBe(false);
  });
});
