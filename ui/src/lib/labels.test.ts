import { afterEach, describe, expect, it } from 'vitest';
import { setLang } from './i18n/index.svelte';
import { describeOperation, describeRecordField } from './labels';

describe('e-community changes in words', () => {
  afterEach(() => setLang('en'));

  it('names a queued post by its title or first words, the contact card and event registrations', () => {
    const post = (value: unknown) => describeOperation({ kind: 'forum_post', entity_id: 'p1', field: 'content', value });
    expect(post({ thread: 'p1', category: 'general', title: 'Credentials for COP15', body: 'How?' })).toBe(
      'Forum post — “Credentials for COP15”',
    );
    expect(post({ thread: 't1', category: 'general', body: 'By   diplomatic\n\npouch' })).toBe('Forum post — “By diplomatic pouch”');
    expect(post({ thread: 't1', category: 'general', body: 'x'.repeat(100) })).toBe(`Forum post — “${'x'.repeat(59)}…”`);
    expect(describeOperation({ kind: 'profile', entity_id: 'amina', field: 'shared', value: {} })).toBe(
      'Your contact details in the directory',
    );
    expect(describeOperation({ kind: 'event_registration', entity_id: 'aewa-2099', field: 'registered', value: false })).toBe(
      'Cancelled registration for the event aewa-2099',
    );
    expect(describeRecordField('forum_post', 'p1', 'content')).toContain('Your forum post');
    setLang('fr');
    expect(post({ thread: 't1', category: 'general', body: 'Oui' })).toBe('Message du forum — «\u202fOui\u202f»');
  });

  it('keeps the generic words for anything else', () => {
    expect(describeOperation({ kind: 'forum_post', entity_id: 'p1', field: 'hidden', value: true })).toBe('forum_post p1 — hidden changed');
  });
});
