// The question widgets, each through the report editor as the app draws it.
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { FormNode } from '../../lib/reports/api';
import { mockBackend } from '../../test/backend';
import { draftView, fakeCore, node } from '../../test/report-fixtures';
import ReportEditorView from './ReportEditorView.svelte';

function setup(values: Record<string, string> = {}, sections?: FormNode[], extra: Partial<ReturnType<typeof draftView>> = {}) {
  const fake = fakeCore({ values });
  const backend = mockBackend(fake.replies);
  const view = { ...draftView({ values }), ...extra };
  if (sections) view.sections = sections;
  render(ReportEditorView, { view, section: null });
  return { backend, user: userEvent.setup() };
}

function question(name: string): HTMLElement {
  return screen.getAllByTestId('question').find((q) => q.dataset.name === name)!;
}

describe('select_multiple with or_other', () => {
  it('stores ticked choices in the list’s order and asks for the "other" text', async () => {
    const { backend, user } = setup();
    const q = question('threats');
    await user.click(within(q).getByLabelText('Noise'));
    await user.click(within(q).getByLabelText('Bycatch'));
    await waitFor(() => expect(backend.argsOf('set_report_answer').map((a) => a.value)).toEqual(['noise', 'bycatch noise']));
    expect(within(q).queryByTestId('other-input')).toBeNull();
    await user.click(within(q).getByLabelText('Other'));
    const other = within(q).getByTestId('other-input');
    await user.type(other, 'Wind farms');
    await fireEvent.blur(other);
    await waitFor(() =>
      expect(backend.argsOf('set_report_answer').slice(2)).toEqual([
        { draftId: 'd1', path: 'general/threats', value: 'bycatch noise other' },
        { draftId: 'd1', path: 'general/threats_other', value: 'Wind farms' },
      ]),
    );
    // The calculation that counts them follows.
    await waitFor(() => expect(within(question('threat_count')).getByTestId('computed-value').textContent).toBe('3'));
  });
});

describe('select_one', () => {
  const many = Array.from({ length: 12 }, (_, i) => ({ name: `c${i}`, label: `Country ${i}` }));
  const sections = [
    node({
      name: 'general',
      kind: 'group',
      children: [
        node({ name: 'has_plan', kind: 'select_one', list: 'yes_no', label: 'Is there a plan?' }),
        node({ name: 'party', kind: 'select_one', list: 'countries', label: 'Country' }),
        node({ name: 'staff', kind: 'select_one', list: 'countries', label: 'Filtered', choice_filter: true }),
      ],
    }),
  ];

  it('uses radio buttons for a few choices and a drop-down for many, and follows choice_filter', async () => {
    const { backend, user } = setup({}, sections, {
      choice_lists: { yes_no: [{ name: 'yes', label: 'Yes' }, { name: 'no', label: 'No' }], countries: many },
    });
    expect(within(question('has_plan')).getAllByRole('radio')).toHaveLength(2);
    const select = within(question('party')).getByRole('combobox', { name: /^Country/ }) as HTMLSelectElement;
    expect(select.options).toHaveLength(13);
    await user.selectOptions(select, 'c7');
    await waitFor(() => expect(backend.argsOf('set_report_answer')).toEqual([{ draftId: 'd1', path: 'general/party', value: 'c7' }]));
    // The fake core allows nothing for the filtered question: no choices offered.
    expect(within(question('staff')).queryAllByRole('radio')).toHaveLength(0);
  });

  it('narrows choices to what the core allows at this instance', async () => {
    const fake = fakeCore();
    mockBackend(fake.replies);
    const view = draftView();
    view.sections = sections;
    view.choice_lists = { yes_no: [], countries: many };
    view.state = { ...view.state, visible: [...view.state.visible, 'general/staff'], choices: { 'general/staff': ['c2', 'c5'] } };
    render(ReportEditorView, { view, section: null });
    expect(within(question('staff')).getAllByRole('radio').map((r) => (r as HTMLInputElement).value)).toEqual(['c2', 'c5']);
  });
});

describe('rank', () => {
  it('shows the form’s order until ranked, then saves the whole order on each move', async () => {
    const { backend, user } = setup();
    const q = question('priorities');
    const labels = () => within(q).getAllByTestId('rank-item').map((i) => i.dataset.value);
    expect(labels()).toEqual(['habitat', 'research', 'funding']);
    expect(q.textContent).toContain('Not ranked yet');
    await user.click(within(q).getByRole('button', { name: 'Move Funding up' }));
    await waitFor(() => expect(labels()).toEqual(['habitat', 'funding', 'research']));
    expect(backend.argsOf('set_report_answer')).toEqual([{ draftId: 'd1', path: 'general/priorities', value: 'habitat funding research' }]);
    await waitFor(() => expect(document.activeElement?.getAttribute('aria-label')).toBe('Move Funding up'));
    await user.click(within(q).getByRole('button', { name: 'Move Habitat down' }));
    await waitFor(() => expect(labels()).toEqual(['funding', 'habitat', 'research']));
    expect((within(q).getByRole('button', { name: 'Move Funding up' }) as HTMLButtonElement).disabled).toBe(true);
  });
});

describe('range, date and integer', () => {
  it('saves a range when moved and shows "Not answered" until then', async () => {
    const { backend } = setup();
    const q = question('capacity');
    const slider = within(q).getByRole('slider') as HTMLInputElement;
    expect([slider.min, slider.max, slider.step]).toEqual(['1', '5', '1']);
    expect(within(q).getByTestId('range-value').textContent).toBe('Not answered');
    await fireEvent.change(slider, { target: { value: '4' } });
    await waitFor(() => expect(backend.argsOf('set_report_answer')).toEqual([{ draftId: 'd1', path: 'general/capacity', value: '4' }]));
    expect(within(q).getByTestId('range-value').textContent).toBe('4');
  });

  it('reads a date typed day first or as ISO, stores ISO, and says it in words', async () => {
    const { backend } = setup();
    const input = within(question('adopted')).getByLabelText('adopted', { exact: false }) as HTMLInputElement;
    // Not the system's date picker: it would follow the system's locale, not the app's.
    expect(input.type).toBe('text');
    expect(input.placeholder).toBe('DD/MM/YYYY');
    await fireEvent.focus(input);
    await fireEvent.input(input, { target: { value: '31/05/2024' } });
    await fireEvent.blur(input);
    await waitFor(() => expect(backend.argsOf('set_report_answer')).toEqual([{ draftId: 'd1', path: 'general/adopted', value: '2024-05-31' }]));
    expect(input.value).toBe('31/05/2024');
    expect(within(question('adopted')).getByTestId('date-in-words').textContent).toContain('May 31, 2024');
    await fireEvent.focus(input);
    await fireEvent.input(input, { target: { value: '2021-01-01' } });
    await fireEvent.blur(input);
    await waitFor(() => expect(backend.argsOf('set_report_answer').at(-1)?.value).toBe('2021-01-01'));
    expect(input.value).toBe('01/01/2021');
  });

  it('keeps a number as typed (the core judges it)', async () => {
    const { backend, user } = setup();
    const input = within(question('staff')).getByRole('textbox') as HTMLInputElement;
    expect(input.inputMode).toBe('numeric');
    await user.type(input, '12');
    await fireEvent.blur(input);
    await waitFor(() => expect(backend.argsOf('set_report_answer')).toEqual([{ draftId: 'd1', path: 'general/staff', value: '12' }]));
  });
});

describe('file', () => {
  it('says what may be attached, refuses other types at once, and attaches a file', async () => {
    const { backend, user } = setup();
    const q = question('map');
    expect(q.textContent).toContain('No file attached');
    await waitFor(() => expect(within(q).getByTestId('file-limits').textContent).toContain('up to 25 MB'));
    const input = within(q).getByTestId('file-input') as HTMLInputElement;
    expect(input.accept).toContain('.pdf');
    // A type that may not be attached: said at once, nothing sent.
    // (as picked with "All files" in the dialog: `accept` only filters what it lists first)
    await userEvent.setup({ applyAccept: false }).upload(input, new File(['MZ'], 'tool.exe'));
    expect(within(q).getByTestId('file-error').textContent).toContain('tool.exe cannot be attached');
    expect(backend.argsOf('attach_report_file')).toEqual([]);
    const file = new File(['abc'], 'sites map.pdf', { type: 'application/pdf' });
    await user.upload(input, file);
    // SHA-256 of "abc", as the core answers.
    const sha = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    await waitFor(() => expect(within(q).getByTestId('file-name').dataset.sha256).toBe(sha));
    expect(backend.argsOf('attach_report_file')).toHaveLength(1);
    expect(within(q).getByTestId('file-name').textContent).toContain('sites map.pdf');
    await user.click(within(q).getByTestId('file-remove'));
    await waitFor(() => expect(backend.argsOf('clear_report_answer')).toEqual([{ draftId: 'd1', path: 'general/map' }]));
  });
});

describe('read-only answers', () => {
  it('shows a value the form makes read-only without letting it be edited', async () => {
    const fake = fakeCore({ values: { 'general/party': 'Chad' } });
    const backend = mockBackend(fake.replies);
    const view = draftView({ values: { 'general/party': 'Chad' } });
    view.state = { ...view.state, read_only: ['general/party', 'general/has_plan'] };
    render(ReportEditorView, { view, section: null });
    const input = within(question('party')).getByRole('textbox') as HTMLInputElement;
    expect(input.readOnly).toBe(true);
    expect(input.value).toBe('Chad');
    for (const radio of within(question('has_plan')).getAllByRole('radio')) expect((radio as HTMLInputElement).disabled).toBe(true);
    await userEvent.setup().type(input, 'x');
    expect(backend.argsOf('set_report_answer')).toEqual([]);
  });
});
