import { afterEach, describe, expect, it } from 'vitest';
import type { RecordKind, Subject, SyncStatus } from './api';
import { setLang } from './i18n/index.svelte';
import { describeConflict, describeOperation, isAllAtRelay, syncStateLabel } from './labels';

const subject = (kind: RecordKind, title: string, detail?: string): Subject => ({ kind, title, detail });

describe('changes in words', () => {
  afterEach(() => setLang('en'));

  it('names a queued post by its title or first words, the contact card and event registrations', () => {
    const post = (value: unknown) =>
      describeOperation({ kind: 'forum_post', field: 'content', subject: subject('forum_post', 'Credentials'), value });
    expect(post({ thread: 'p1', category: 'general', title: 'Credentials for COP15', body: 'How?' })).toBe(
      'Forum post — “Credentials for COP15”',
    );
    expect(post({ thread: 't1', category: 'general', body: 'By   diplomatic\n\npouch' })).toBe('Forum post — “By diplomatic pouch”');
    expect(post({ thread: 't1', category: 'general', body: 'x'.repeat(100) })).toBe(`Forum post — “${'x'.repeat(59)}…”`);
    expect(describeOperation({ kind: 'profile', field: 'shared', subject: subject('profile', 'amina'), value: {} })).toBe(
      'Your contact details in the directory',
    );
    expect(
      describeOperation({
        kind: 'event_registration',
        field: 'registered',
        subject: subject('event_registration', 'AEWA induction'),
        value: false,
      }),
    ).toBe('Cancelled registration for “AEWA induction”');
    expect(describeConflict({ kind: 'forum_post', field: 'content', subject: subject('forum_post', 'x') })).toContain('Your forum post');
    setLang('fr');
    expect(post({ thread: 't1', category: 'general', body: 'Oui' })).toBe('Message du forum — «\u202fOui\u202f»');
  });

  it('names report answers and assignments by the report, section and question, never by path', () => {
    const s = subject('report_answer', 'CMS national report — COP15', 'General information › Agency');
    expect(describeOperation({ kind: 'report_answer', field: 'general/agency', subject: s, value: 'x' })).toBe(
      'CMS national report — COP15 — General information › Agency',
    );
    const a = subject('report_assignment', 'CMS national report — COP15', 'Research');
    expect(describeOperation({ kind: 'report_assignment', field: 'research', subject: a, value: 'baraka' })).toBe(
      'CMS national report — COP15 — Research: given to baraka',
    );
    expect(describeOperation({ kind: 'report_assignment', field: 'research', subject: a, value: null })).toBe(
      'CMS national report — COP15 — Research: taken back',
    );
  });

  it('falls back to the subject, in words, for anything else', () => {
    expect(
      describeOperation({ kind: 'forum_post', field: 'hidden', subject: subject('forum_post', 'Credentials'), value: true }),
    ).toBe('Credentials');
  });
});

describe('the header while changes wait at a workshop relay', () => {
  afterEach(() => setLang('en'));

  const status = (waiting: number, held: number, files = 0): SyncStatus => ({
    state: 'waiting',
    server: 'https://ecommunity.example.org',
    account: 'amina',
    waiting,
    conflicts: 0,
    rejected: 0,
    last_sync: null,
    last_error: null,
    next_attempt: null,
    progress: null,
    sign_in_required: false,
    clock_skew_secs: null,
    files_waiting: files,
    files_refused: 0,
    uploads: null,
    relay: {
      address: 'http://192.168.1.20:8787',
      heard_at: null,
      uplink_reachable: false,
      last_contact: null,
      community_signed_at: null,
      held,
      credential_expires_at: null,
    },
  });

  it('says "at the relay" only when every waiting change is there', () => {
    expect(syncStateLabel(status(2, 2))).toBe('2 at the relay');
    expect(isAllAtRelay(status(2, 2))).toBe(true);
    expect(syncStateLabel(status(3, 2))).toBe('3 waiting');
    expect(syncStateLabel(status(2, 2, 1))).toBe('3 waiting');
    expect(syncStateLabel({ ...status(1, 0), relay: null })).toBe('1 waiting');
    setLang('fr');
    expect(syncStateLabel(status(1, 1))).toBe('1 au relais');
    setLang('es');
    expect(syncStateLabel(status(2, 2))).toBe('2 en el relé');
  });
});
