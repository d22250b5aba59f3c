import { afterEach, describe, expect, it } from 'vitest';
import type { SyncState } from '../api';
import { ERROR_CODES, REFUSAL_CODES, SERVER_ERROR_CODES } from '../bindings/codes';
import { en } from './en';
import { es } from './es';
import { fr } from './fr';
import { dictionaries, setLang, t, tn } from './index.svelte';

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('dictionaries', () => {
  it('fr and es have exactly the keys of en', () => {
    const keys = Object.keys(en).sort();
    expect(Object.keys(fr).sort()).toEqual(keys);
    expect(Object.keys(es).sort()).toEqual(keys);
  });

  it('have no empty strings and keep the same placeholders', () => {
    for (const [lang, dict] of Object.entries(dictionaries)) {
      for (const [key, value] of Object.entries(dict)) {
        expect(value.trim(), `${lang} ${key}`).not.toBe('');
        expect(placeholders(value), `${lang} ${key}`).toEqual(placeholders(en[key as keyof typeof en]));
      }
    }
  });

  it('are really translated (with accents), not copies of English', () => {
    const same = (d: Record<string, string>) => Object.keys(en).filter((k) => d[k] === en[k as keyof typeof en]);
    // Only endonyms and words spelt the same in both languages may match English.
    const endonyms = ['lang.en', 'lang.fr', 'lang.es'];
    expect(same(fr)).toEqual([
      ...endonyms,
      'nav.forum',
      'region.europe',
      'reader.sources',
      'meta.kind',
      'meta.instruments',
      'meta.date',
      'checklist.note',
      'library.filterKind',
      'library.filterInstrument',
      // arrows and placeholders only
      'bandwidth.upDown',
      // pure placeholders: the words come from the report and the subject
      'sync.op.reportAnswer',
      'sync.op.other',
      'count.notes.one',
      'count.notes.other',
      'forum.title',
      'forum.region.europe',
      'directory.instrument',
    ]);
    expect(same(es)).toEqual([
      ...endonyms,
      'nav.manual',
      'kind.manual',
      'group.manual',
      'region.asia',
      'manual.title',
      'reader.backManual',
      'bandwidth.upDown',
      // the binary units' symbols
      'unit.bytes',
      'unit.kib',
      'unit.mib',
      'unit.gib',
      'sync.op.reportAnswer',
      'sync.op.other',
      'forum.region.asia',
      // "No" is the same word
      'feedback.no',
    ]);
    expect(fr['nav.library']).toBe('Bibliothèque');
    expect(es['region.africa']).toBe('África');
  });

  it('translate region and library kind names', () => {
    for (const r of ['global', 'africa', 'asia', 'europe', 'latin-america-caribbean', 'oceania', 'north-america']) {
      expect(en).toHaveProperty(`region.${r}`);
    }
    for (const k of ['funding', 'training', 'practice', 'faq']) expect(en).toHaveProperty(`libkind.${k}`);
  });

  it('word every error, server error and refusal code Rust can send, in every language', () => {
    const missing: string[] = [];
    const groups: [string, readonly string[]][] = [
      ['error', ERROR_CODES],
      ['serverError', [...SERVER_ERROR_CODES, 'unknown']],
      ['refusal', [...REFUSAL_CODES, 'unknown']],
    ];
    for (const [lang, dict] of Object.entries(dictionaries)) {
      for (const [prefix, codes] of groups) {
        for (const code of codes) {
          const text = (dict as Record<string, string>)[`${prefix}.${code}`];
          if (!text?.trim()) missing.push(`${lang} ${prefix}.${code}`);
        }
      }
    }
    expect(missing).toEqual([]);
    // Each list is the one Rust generated (lib/bindings/codes.ts), not a copy kept by hand.
    expect(ERROR_CODES).toContain('sign_in_required');
    expect(SERVER_ERROR_CODES).toContain('bad_credentials');
    expect(REFUSAL_CODES).toContain('not_a_colleague');
  });

  it('name every sync state, in every language', () => {
    const states: SyncState[] = ['signed_out', 'offline', 'syncing', 'up_to_date', 'waiting', 'needs_attention'];
    for (const dict of Object.values(dictionaries)) {
      for (const s of states) {
        const keys = s === 'waiting' ? ['sync.state.waiting.one', 'sync.state.waiting.other'] : [`sync.state.${s}`];
        for (const key of keys) expect(dict).toHaveProperty([key]);
      }
    }
  });
});

describe('t', () => {
  afterEach(() => setLang('en'));

  it('fills placeholders and follows the language', () => {
    expect(t('progress.count', { done: 3, total: 12 })).toBe('3 of 12');
    setLang('fr');
    expect(t('progress.count', { done: 3, total: 12 })).toBe('3 sur 12');
    expect(document.documentElement.lang).toBe('fr');
    setLang('es');
    expect(t('progress.count', { done: 3, total: 12 })).toBe('3 de 12');
  });

  it('words the fallback notice as specified', async () => {
    const { languageName } = await import('../labels');
    expect(t('reader.fallback', { language: languageName('fr') })).toBe(
      'This item is not yet available in French; showing the English text.',
    );
  });

  it('picks plural forms', () => {
    expect(tn('count.ticks', 1)).toBe('1 tick');
    expect(tn('count.ticks', 4)).toBe('4 ticks');
    setLang('fr');
    expect(tn('count.notes', 0)).toBe('0 note');
    expect(tn('count.notes', 2)).toBe('2 notes');
  });
});
