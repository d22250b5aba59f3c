import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../App.svelte';
import { TEXT_SAVE_DELAY_MS } from '../lib/reports/editor.svelte';
import { goTo, mockBackend, type Reply } from '../test/backend';
import { fakeCore, stateOf } from '../test/report-fixtures';

type Initial = Parameters<typeof fakeCore>[0];

async function open(hash = '#/reports/d1', initial: Initial = {}, replies: Record<string, Reply> = {}) {
  goTo(hash);
  const fake = fakeCore(initial);
  const backend = mockBackend({ ...fake.replies, ...replies });
  const user = userEvent.setup();
  render(App);
  await screen.findByTestId('report');
  return { backend, user, core: fake.core };
}

function question(name: string): HTMLElement {
  const found = screen.queryAllByTestId('question').filter((q) => q.dataset.name === name);
  if (found.length !== 1) throw new Error(`${found.length} questions named ${name}`);
  return found[0]!;
}

const names = () => screen.queryAllByTestId('question').map((q) => q.dataset.name);

describe('Report view', () => {
  it('shows one section at a time with the navigator, completion and required marker', async () => {
    const { backend } = await open('#/reports/d1', { values: { 'general/party': 'Chad' } });
    expect(backend.argsOf('open_report')).toEqual([{ draftId: 'd1', lang: 'en' }]);
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('CMS national report');
    const links = within(screen.getByTestId('section-nav')).getAllByTestId('section-link');
    expect(links.map((l) => l.dataset.name)).toEqual(['general', 'species', 'research']);
    expect(links[0]!.getAttribute('aria-current')).toBe('step');
    expect(links[0]!.textContent).toContain('1 of 8');
    expect(links[1]!.getAttribute('href')).toBe('#/reports/d1/species');
    // Only the first section's questions; the gated follow-up is hidden.
    expect(names()).toEqual(['intro', 'party', 'has_plan', 'staff', 'threats', 'threat_count', 'priorities', 'capacity', 'adopted', 'map']);
    expect(screen.getByTestId('report-completion').dataset.answered).toBe('1');
    expect(screen.getByTestId('report-completion').textContent).toContain('1 of 10 answered');
    expect(within(question('party')).getByTestId('required-marker')).toBeTruthy();
    expect(within(question('staff')).queryByTestId('required-marker')).toBeNull();
    expect((within(question('party')).getByLabelText(/Name of the Party/) as HTMLInputElement).value).toBe('Chad');
    expect(question('party').textContent).toContain('As the UN writes it.');
    // A labelled calculation is shown, not editable.
    expect(within(question('threat_count')).getByTestId('computed-value').textContent).toBe('0');
    expect(question('threat_count').querySelector('input')).toBeNull();
  });

  it('a yes/no gate opens its follow-up, and closing it keeps the typed answer for later', async () => {
    const { backend, user } = await open();
    expect(names()).not.toContain('plan_title');
    await user.click(within(question('has_plan')).getByLabelText('Yes'));
    await waitFor(() => expect(names()).toContain('plan_title'));
    expect(backend.argsOf('set_report_answer')).toEqual([{ draftId: 'd1', path: 'general/has_plan', value: 'yes' }]);

    const title = within(question('plan_title')).getByRole('textbox') as HTMLTextAreaElement;
    expect(title.tagName).toBe('TEXTAREA');
    await user.type(title, 'Plan 2030');
    await fireEvent.blur(title);
    await waitFor(() => expect(screen.getByTestId('save-state').dataset.state).toBe('saved'));

    await user.click(within(question('has_plan')).getByLabelText('No'));
    await waitFor(() => expect(names()).not.toContain('plan_title'));
    await user.click(within(question('has_plan')).getByLabelText('Yes'));
    const again = (await waitFor(() => within(question('plan_title')).getByRole('textbox'))) as HTMLTextAreaElement;
    expect(again.value).toBe('Plan 2030');
  });

  it('saves typing after a short pause, once, and says "Saved" only when the save came back', async () => {
    let release: () => void = () => {};
    const { backend, user, core } = await open('#/reports/d1', {}, {
      set_report_answer: (a: Record<string, unknown>) =>
        new Promise((resolve) => {
          release = () => {
            core.values[a.path as string] = a.value as string;
            resolve(stateOf(core.values, 0));
          };
        }),
    });
    const input = within(question('party')).getByRole('textbox');
    const started = Date.now();
    await user.type(input, 'Niger');
    expect(backend.argsOf('set_report_answer')).toEqual([]);
    expect(screen.getByTestId('save-state').dataset.state).toBe('pending');
    await waitFor(() => expect(backend.argsOf('set_report_answer')).toHaveLength(1), { timeout: 2000 });
    // Sent within the delay after the last keystroke, with the whole text.
    expect(Date.now() - started).toBeLessThan(TEXT_SAVE_DELAY_MS + 1000);
    expect(TEXT_SAVE_DELAY_MS).toBeLessThanOrEqual(500);
    expect(backend.argsOf('set_report_answer')[0]).toEqual({ draftId: 'd1', path: 'general/party', value: 'Niger' });
    expect(screen.getByTestId('save-state').dataset.state).toBe('saving');
    expect(screen.getByTestId('save-state').textContent).not.toContain('Saved');
    release();
    await waitFor(() => expect(screen.getByTestId('save-state').dataset.state).toBe('saved'));
    expect(screen.getByTestId('save-state').textContent).toContain('Saved');
  });

  it('saves at once on leaving the field and on going to another section', async () => {
    const { backend, user } = await open();
    const input = within(question('party')).getByRole('textbox');
    await fireEvent.input(input, { target: { value: 'Mali' } });
    await fireEvent.blur(input);
    await waitFor(() => expect(backend.argsOf('set_report_answer')).toEqual([{ draftId: 'd1', path: 'general/party', value: 'Mali' }]));

    await fireEvent.input(input, { target: { value: 'Mali (Republic of)' } });
    await user.click(within(screen.getByTestId('section-nav')).getAllByTestId('section-link')[1]!);
    await waitFor(() => expect(screen.getByTestId('report-section').dataset.name).toBe('species'));
    await waitFor(() => expect(backend.argsOf('set_report_answer')).toHaveLength(2));
    expect(backend.argsOf('set_report_answer')[1]).toEqual({ draftId: 'd1', path: 'general/party', value: 'Mali (Republic of)' });
    // The report stays open: another section is not another page.
    expect(backend.argsOf('open_report')).toHaveLength(1);
    await waitFor(() => expect(document.activeElement?.textContent).toBe('Section 2. Species'));
    await user.click(screen.getByTestId('section-prev'));
    await waitFor(() => expect(screen.getByTestId('report-section').dataset.name).toBe('general'));
    expect(backend.argsOf('open_report')).toHaveLength(1);
  });

  it('clearing an answer calls clear_report_answer', async () => {
    const { backend } = await open('#/reports/d1', { values: { 'general/party': 'Chad' } });
    const input = within(question('party')).getByRole('textbox');
    await fireEvent.input(input, { target: { value: '' } });
    await fireEvent.blur(input);
    await waitFor(() => expect(backend.argsOf('clear_report_answer')).toEqual([{ draftId: 'd1', path: 'general/party' }]));
  });

  it('shows the core’s messages next to the question; "required" only once the question was visited', async () => {
    const { user } = await open();
    expect(within(question('party')).queryByTestId('question-issue')).toBeNull();
    const staff = within(question('staff')).getByRole('textbox');
    await user.type(staff, '5000');
    await fireEvent.blur(staff);
    const issue = await within(question('staff')).findByTestId('question-issue');
    expect(issue.textContent).toBe('At most 1000 staff.');
    expect(staff.getAttribute('aria-invalid')).toBe('true');
    expect(staff.getAttribute('aria-describedby')).toContain(issue.id);

    // A value that is not a number: the message comes in the reader's language.
    await user.clear(staff);
    await user.type(staff, '12a');
    await fireEvent.blur(staff);
    await waitFor(() => expect(within(question('staff')).getByTestId('question-issue').textContent).toBe('Enter a whole number, e.g. 12.'));

    const party = within(question('party')).getByRole('textbox');
    await fireEvent.focus(party);
    await fireEvent.blur(party);
    expect((await within(question('party')).findByTestId('question-issue')).textContent).toBe('This answer is required.');
  });

  it('a save that fails says so, keeps the value, and can be tried again', async () => {
    let fail = true;
    const { backend } = await open('#/reports/d1', {}, {
      set_report_answer: (a: Record<string, unknown>) =>
        fail
          ? Promise.reject({ code: 'database', message: 'disk full' })
          : stateOf({ [a.path as string]: a.value as string }, 0),
    });
    const input = within(question('party')).getByRole('textbox') as HTMLInputElement;
    await fireEvent.input(input, { target: { value: 'Chad' } });
    await fireEvent.blur(input);
    expect((await screen.findByTestId('save-error')).textContent).toContain('Stopover could not read or write its data file.');
    expect(screen.getByTestId('save-state').dataset.state).toBe('error');
    expect(input.value).toBe('Chad');
    fail = false;
    await fireEvent.click(within(screen.getByTestId('save-error')).getByRole('button', { name: 'Try again' }));
    await waitFor(() => expect(screen.getByTestId('save-state').dataset.state).toBe('saved'));
    expect(backend.argsOf('set_report_answer')).toHaveLength(2);
    expect(screen.queryByTestId('save-error')).toBeNull();
  });

  it('a submitted report is shown read-only', async () => {
    await open('#/reports/d1/species', { status: 'submitted', rows: 1, values: { 'species/sp[1]/sp_name': 'Otis tarda' } });
    expect(screen.getByTestId('report-locked')).toBeTruthy();
    const name = within(question('sp_name')).getByRole('textbox') as HTMLInputElement;
    expect(name.value).toBe('Otis tarda');
    expect(name.readOnly).toBe(true);
    expect(screen.queryByTestId('repeat-add')).toBeNull();
    expect(screen.queryByTestId('repeat-remove')).toBeNull();
  });

  it('exports after saving what is pending, and shows where the file went', async () => {
    const { backend, user } = await open();
    await fireEvent.input(within(question('party')).getByRole('textbox'), { target: { value: 'Chad' } });
    expect(screen.getByTestId('report-export-pdf')).toBeTruthy();
    await user.click(screen.getByTestId('report-export-docx'));
    const result = await screen.findByTestId('report-export-result');
    expect(result.textContent).toContain('/home/nfp/Documents/Stopover/cms-national-report-COP15.docx');
    expect(backend.argsOf('export_report')).toEqual([{ draftId: 'd1', format: 'docx', lang: 'en' }]);
    // The pending answer went first.
    const order = backend.calls.map((c) => c.cmd).filter((c) => c === 'set_report_answer' || c === 'export_report');
    expect(order).toEqual(['set_report_answer', 'export_report']);
  });

  it('offers the submission package, and says what it holds', async () => {
    const { backend, user } = await open();
    expect(screen.getByTestId('report-export-package').textContent).toBe('Submission package (ZIP)');
    expect(screen.getByTestId('report-export-package-hint').textContent).toContain('SHA-256');
    await user.click(screen.getByTestId('report-export-package'));
    expect((await screen.findByTestId('report-export-result')).textContent).toContain('cms-national-report-COP15.zip');
    expect(backend.argsOf('export_report')).toEqual([{ draftId: 'd1', format: 'package', lang: 'en' }]);
  });

  it('shows each question’s place in the official format', async () => {
    await open();
    expect(within(question('party')).getByTestId('question-reference').textContent!.trim()).toBe('Place in the official format: I');
    expect(within(question('has_plan')).getByTestId('question-reference').textContent!.trim()).toBe(
      'Not in the official format: a drafting aid of Stopover',
    );
    expect(within(question('staff')).queryByTestId('question-reference')).toBeNull();
  });

  it('shows a failed export', async () => {
    const { user } = await open('#/reports/d1', {}, {
      export_report: () =>
        Promise.reject({ code: 'export_failed', params: { format: 'pdf' }, message: 'cannot write /x: read-only file system' }),
    });
    await user.click(screen.getByTestId('report-export-csv'));
    expect((await screen.findByTestId('report-export-error')).textContent).toContain('The export could not be written.');
  });

  it('reloads its labels in another language without losing typing', async () => {
    const { backend } = await open();
    const input = within(question('party')).getByRole('textbox') as HTMLInputElement;
    await fireEvent.input(input, { target: { value: 'Tchad' } });
    await fireEvent.change(screen.getByTestId('lang-select'), { target: { value: 'fr' } });
    await screen.findByRole('heading', { level: 1, name: 'Rapport national à la CMS' });
    // Saved before the reload, and still on screen after it.
    expect(backend.argsOf('set_report_answer')).toEqual([{ draftId: 'd1', path: 'general/party', value: 'Tchad' }]);
    expect((within(question('party')).getByRole('textbox') as HTMLInputElement).value).toBe('Tchad');
    expect(screen.getByTestId('section-nav').getAttribute('aria-label')).toBe('Sections du rapport');
  });

  it('shows the matrix of a table-list group as a table of radio buttons', async () => {
    const { backend, user } = await open('#/reports/d1/research');
    const table = within(screen.getByTestId('report-section')).getByRole('table');
    expect(within(table).getAllByRole('columnheader').map((h) => h.textContent?.trim())).toEqual(['Question', 'Yes', 'No']);
    await user.click(within(question('r_fish')).getByRole('radio', { name: /Fish No/ }));
    await waitFor(() =>
      expect(backend.argsOf('set_report_answer')).toEqual([{ draftId: 'd1', path: 'research/matrix/r_fish', value: 'no' }]),
    );
  });

  it('says when the report cannot be opened', async () => {
    goTo('#/reports/nope');
    mockBackend({ open_report: () => Promise.reject({ code: 'not_found', message: 'not found: report draft `nope`' }) });
    render(App);
    expect((await screen.findByRole('alert')).textContent).toContain('This item is no longer on this laptop.');
  });
});
