// The editor's saves against a core that fails: nothing typed or clicked is dropped.
import { flushSync } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mockBackend, type Args } from '../../test/backend';
import { draftView, fakeCore } from '../../test/report-fixtures';
import { ReportEditor, RETRY_DELAYS_MS } from './editor.svelte';

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('a save the disk refuses', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('stays marked at its field, keeps the value on screen, and is saved by itself later', async () => {
    const fake = fakeCore();
    let full = true;
    mockBackend({
      ...fake.replies,
      set_report_answer: (a: Args) => {
        if (full) throw { code: 'database', message: 'database or disk is full' };
        return (fake.replies.set_report_answer as (a: Args) => unknown)(a);
      },
    });
    const editor = new ReportEditor(draftView());
    editor.set('general/party', 'Tchad');
    await editor.flush();
    flushSync();
    expect(editor.fieldState['general/party']).toBe('error');
    expect(editor.fieldError['general/party']).toBeTruthy();
    expect(editor.value('general/party')).toBe('Tchad');
    expect(editor.unsaved).toBe(true);
    expect(editor.status).toBe('error');

    // Still full at the first try by itself: still marked.
    await vi.advanceTimersByTimeAsync(RETRY_DELAYS_MS[0]!);
    expect(editor.fieldState['general/party']).toBe('error');
    // Space is back: the next try saves it.
    full = false;
    await vi.advanceTimersByTimeAsync(RETRY_DELAYS_MS[1]!);
    expect(editor.fieldState['general/party']).toBe('saved');
    expect(fake.core.values['general/party']).toBe('Tchad');
    expect(editor.unsaved).toBe(false);
    expect(editor.status).toBe('saved');
    editor.close();
  });
});

describe('a reload while a save is under way', () => {
  it('keeps the clicked choice on screen and in the save (the lost clicks of issue 9)', async () => {
    const fake = fakeCore({ values: { 'general/has_plan': 'no' } });
    const answered = deferred<void>();
    mockBackend({
      ...fake.replies,
      set_report_answer: async (a: Args) => {
        await answered.promise;
        return (fake.replies.set_report_answer as (a: Args) => unknown)(a);
      },
    });
    const editor = new ReportEditor(draftView({ values: { 'general/has_plan': 'no' } }));
    editor.set('general/has_plan', 'yes');
    const saving = editor.flush();
    // A sync round ended: the report is read again before the save has answered, with the
    // value stored so far.
    editor.replaceView(draftView({ values: { 'general/has_plan': 'no' } }));
    expect(editor.value('general/has_plan')).toBe('yes');
    answered.resolve();
    await saving;
    expect(fake.core.values['general/has_plan']).toBe('yes');
    expect(editor.fieldState['general/has_plan']).toBe('saved');
    // Once confirmed, a reload shows what the core holds.
    editor.replaceView(draftView({ values: { 'general/has_plan': 'yes' } }));
    expect(editor.value('general/has_plan')).toBe('yes');
    editor.close();
  });
});

describe('a read of the report answered after a later save', () => {
  it('does not put the older value back on screen', async () => {
    const fake = fakeCore({ values: { 'general/has_plan': 'yes' } });
    mockBackend(fake.replies);
    const editor = new ReportEditor(draftView({ values: { 'general/has_plan': 'yes' } }));
    const since = editor.readStarted();
    editor.set('general/has_plan', 'no');
    await editor.flush();
    expect(editor.fieldState['general/has_plan']).toBe('saved');
    // The read began before the save and answers after it, with "yes".
    editor.replaceView(draftView({ values: { 'general/has_plan': 'yes' } }), since);
    expect(editor.value('general/has_plan')).toBe('no');
    // A read that began after the save shows what the core holds.
    editor.replaceView(draftView({ values: { 'general/has_plan': 'no', 'general/party': 'Chad' } }), editor.readStarted());
    expect(editor.value('general/party')).toBe('Chad');
    editor.close();
  });
});
