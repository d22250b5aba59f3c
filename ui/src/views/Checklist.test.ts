import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../App.svelte';
import type { ChecklistView } from '../lib/api';
import { goTo, mockBackend, summary, type Reply } from '../test/backend';

function checklist(lang = 'en'): ChecklistView {
  return {
    id: 'cop-preparation',
    title: lang === 'fr' ? 'Préparer la COP' : 'Preparing for the COP',
    summary: 'Before the meeting',
    lang: 'en',
    fallback: false,
    bookmarked: false,
    progress: { done: 3, total: 12 },
    provenance: { reviewed: '2026-12-06', sources: [{ title: 'Rules of procedure', url: 'https://www.cms.int/en/rules' }] },
    steps: [
      { id: 'credentials', text: 'Request credentials', detail_html: '<p>See <a href="#/library/faq-full-powers">full powers</a>.</p>', fallback: false, done: false, note: '' },
      { id: 'register', text: 'Register the delegation', detail_html: '', fallback: false, done: true, note: 'Done by Ana' },
    ],
  };
}

async function open(replies: Record<string, Reply> = {}) {
  goTo('#/checklists/cop-preparation');
  const backend = mockBackend({ get_checklist: (a: Record<string, unknown>) => checklist(a.lang as string), ...replies });
  const user = userEvent.setup();
  render(App);
  const items = await screen.findAllByTestId('checklist-item');
  return { backend, user, items };
}

describe('Checklist list', () => {
  it('links each checklist with its progress', async () => {
    goTo('#/checklists');
    mockBackend({
      list_checklists: [
        summary({ kind: 'checklist', id: 'after-cop', title: 'After the COP', progress: { done: 3, total: 12 } }),
        summary({ kind: 'checklist', id: 'workshop', title: 'Workshop', progress: { done: 0, total: 5 } }),
      ],
    });
    render(App);
    const links = await screen.findAllByTestId('checklist-open');
    expect(links.map((a) => a.getAttribute('href'))).toEqual(['#/checklists/after-cop', '#/checklists/workshop']);
    expect(links[0]!.textContent).toContain('3 of 12');
    expect(links[0]!.querySelector('progress')?.getAttribute('value')).toBe('3');
  });
});

describe('Checklist', () => {
  it('shows steps as labelled checkboxes with their details', async () => {
    const { items } = await open();
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Preparing for the COP');
    expect(screen.getByTestId('checklist').textContent).toContain('3 of 12');
    const box = within(items[0]!).getByRole('checkbox', { name: /Request credentials/ }) as HTMLInputElement;
    expect(box.checked).toBe(false);
    expect((within(items[1]!).getByRole('checkbox') as HTMLInputElement).checked).toBe(true);
    expect(within(items[0]!).getByRole('link', { name: 'full powers' }).getAttribute('href')).toBe('#/library/faq-full-powers');
  });

  it('ends with the sources and the review date', async () => {
    await open();
    const foot = screen.getByTestId('provenance');
    expect(within(foot).getByRole('link', { name: 'Rules of procedure' }).getAttribute('href')).toBe('https://www.cms.int/en/rules');
    expect(within(foot).getByTestId('provenance-reviewed').textContent?.trim()).toBe('Last reviewed: December 6, 2026');
  });

  it('ticking a step calls set_step_done and updates the progress from its answer', async () => {
    const { backend, user, items } = await open({ set_step_done: { done: 4, total: 12 } });
    const box = within(items[0]!).getByRole('checkbox') as HTMLInputElement;
    await user.click(box);
    expect(box.checked).toBe(true);
    await waitFor(() => expect(screen.getByTestId('checklist').querySelector('.progress-text')?.textContent).toContain('4 of 12'));
    expect(backend.argsOf('set_step_done')).toEqual([
      { checklistId: 'cop-preparation', stepId: 'credentials', done: true },
    ]);
  });

  it('unticking sends done: false', async () => {
    const { backend, user, items } = await open({ set_step_done: { done: 2, total: 12 } });
    await user.click(within(items[1]!).getByRole('checkbox'));
    await waitFor(() => expect(backend.argsOf('set_step_done')).toEqual([
      { checklistId: 'cop-preparation', stepId: 'register', done: false },
    ]));
    await waitFor(() => expect(screen.getByTestId('checklist').textContent).toContain('2 of 12'));
  });

  it('a failed set_step_done reverts the checkbox and shows the message', async () => {
    const { user, items } = await open({
      set_step_done: () => Promise.reject({ code: 'database', message: 'The database is read-only.' }),
    });
    const box = within(items[0]!).getByRole('checkbox') as HTMLInputElement;
    await user.click(box);
    const error = await within(items[0]!).findByTestId('step-error');
    expect(error.textContent).toContain('Stopover could not read or write its data file.');
    expect(box.checked).toBe(false);
    expect(screen.getByTestId('checklist').textContent).toContain('3 of 12');
  });

  it('saves a note after a pause in typing and shows "Saved" only once saved', async () => {
    let resolveSave: () => void = () => {};
    const { backend, user, items } = await open({
      set_step_note: () => new Promise<void>((r) => (resolveSave = r)),
    });
    await user.click(within(items[0]!).getByRole('button', { name: /Note/ }));
    const note = within(items[0]!).getByTestId('checklist-note') as HTMLTextAreaElement;
    expect(document.activeElement).toBe(note);
    await user.type(note, 'Ask the embassy');
    expect(backend.argsOf('set_step_note')).toEqual([]);

    await waitFor(() => expect(backend.argsOf('set_step_note')).toHaveLength(1), { timeout: 2000 });
    expect(backend.argsOf('set_step_note')[0]).toEqual({
      checklistId: 'cop-preparation',
      stepId: 'credentials',
      note: 'Ask the embassy',
    });
    expect(within(items[0]!).queryByTestId('note-saved')).toBeNull();
    resolveSave();
    expect((await within(items[0]!).findByTestId('note-saved')).textContent).toBe('Saved');
  });

  it('saves a note on blur without waiting', async () => {
    const { backend, items } = await open({ set_step_note: null });
    // The step with an existing note shows it.
    const note = within(items[1]!).getByTestId('checklist-note') as HTMLTextAreaElement;
    expect(note.value).toBe('Done by Ana');
    await fireEvent.input(note, { target: { value: 'Done by Ana, 3 May' } });
    await fireEvent.blur(note);
    await waitFor(() => expect(backend.argsOf('set_step_note')).toEqual([
      { checklistId: 'cop-preparation', stepId: 'register', note: 'Done by Ana, 3 May' },
    ]));
    expect(await within(items[1]!).findByTestId('note-saved')).toBeTruthy();
  });

  it('shows a failed note save', async () => {
    const { items } = await open({ set_step_note: () => Promise.reject({ code: 'database', message: 'disk full' }) });
    const note = within(items[1]!).getByTestId('checklist-note');
    await fireEvent.input(note, { target: { value: 'x' } });
    await fireEvent.blur(note);
    expect((await within(items[1]!).findByRole('alert')).textContent).toContain('Stopover could not read or write its data file.');
    expect(within(items[1]!).queryByTestId('note-saved')).toBeNull();
  });

  it('keeps unsaved note typing when the checklist reloads in another language', async () => {
    const { backend, items } = await open({ set_step_note: null });
    const note = within(items[1]!).getByTestId('checklist-note') as HTMLTextAreaElement;
    await fireEvent.input(note, { target: { value: 'Half typed' } });
    // Switch language without leaving the textarea (no blur, so the save is still pending).
    await fireEvent.change(screen.getByTestId('lang-select'), { target: { value: 'fr' } });
    await screen.findByRole('heading', { level: 1, name: 'Préparer la COP' });
    const again = within(screen.getAllByTestId('checklist-item')[1]!).getByTestId('checklist-note') as HTMLTextAreaElement;
    expect(again.value).toBe('Half typed');
    await waitFor(
      () =>
        expect(backend.argsOf('set_step_note')).toEqual([
          { checklistId: 'cop-preparation', stepId: 'register', note: 'Half typed' },
        ]),
      { timeout: 2000 },
    );
  });

  it('reloads in the new language', async () => {
    const { backend, user } = await open();
    await user.selectOptions(screen.getByTestId('lang-select'), 'fr');
    expect(await screen.findByRole('heading', { level: 1, name: 'Préparer la COP' })).toBeTruthy();
    expect(backend.argsOf('get_checklist')).toEqual([
      { id: 'cop-preparation', lang: 'en' },
      { id: 'cop-preparation', lang: 'fr' },
    ]);
    expect(screen.getByTestId('checklist').textContent).toContain('3 sur 12');
  });
});

describe('Checklist feedback', () => {
  it('asks whether it was useful and what was missing, and saves both', async () => {
    const { backend, user } = await open({
      set_feedback_useful: (a: Record<string, unknown>) => ({ useful: a.useful, missing: '' }),
      set_feedback_missing: (a: Record<string, unknown>) => ({ useful: true, missing: a.missing }),
    });
    const box = await screen.findByTestId('feedback');
    expect(within(box).getByRole('heading').textContent).toBe('Was this useful?');
    await user.click(within(box).getByTestId('feedback-useful-yes'));
    await waitFor(() =>
      expect(backend.argsOf('set_feedback_useful')).toEqual([{ itemKind: 'checklist', itemId: 'cop-preparation', useful: true }]),
    );
    expect(within(box).getByTestId('feedback-useful-yes').getAttribute('aria-pressed')).toBe('true');
    // A second click withdraws the answer.
    await user.click(within(box).getByTestId('feedback-useful-yes'));
    await waitFor(() => expect(backend.argsOf('set_feedback_useful')[1]).toEqual({ itemKind: 'checklist', itemId: 'cop-preparation', useful: null }));
    const missing = within(box).getByTestId('feedback-missing');
    await user.type(missing, 'A model letter');
    await fireEvent.blur(missing);
    await waitFor(() =>
      expect(backend.argsOf('set_feedback_missing').at(-1)).toEqual({ itemKind: 'checklist', itemId: 'cop-preparation', missing: 'A model letter' }),
    );
    await screen.findByTestId('feedback-saved');
  });

  it('shows the answer given before', async () => {
    await open({ get_feedback: { useful: false, missing: 'More examples' } });
    const box = await screen.findByTestId('feedback');
    await waitFor(() => expect(within(box).getByTestId('feedback-useful-no').getAttribute('aria-pressed')).toBe('true'));
    expect((within(box).getByTestId('feedback-missing') as HTMLTextAreaElement).value).toBe('More examples');
  });
});
