// Coordinates typed by hand, and long choice lists (a species list from a file) with a search
// box, through the report editor as the app draws them.
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import { setLang } from '../../lib/i18n/index.svelte';
import type { FormNode } from '../../lib/reports/api';
import { mockBackend } from '../../test/backend';
import { draftView, fakeCore, node } from '../../test/report-fixtures';
import ReportEditorView from './ReportEditorView.svelte';

// The fake core shows these paths; the nodes drawn there are the ones under test.
const sections = (children: FormNode[]): FormNode[] => [node({ name: 'general', kind: 'group', label: 'General', children })];

function setup(children: FormNode[], choice_lists: Record<string, { name: string; label: string }[]> = {}, values: Record<string, string> = {}) {
  const fake = fakeCore({ values });
  const backend = mockBackend(fake.replies);
  const view = { ...draftView({ values }), choice_lists };
  view.sections = sections(children);
  render(ReportEditorView, { view, section: null });
  return { backend, user: userEvent.setup() };
}

function question(name: string): HTMLElement {
  return screen.getAllByTestId('question').find((q) => q.dataset.name === name)!;
}

afterEach(() => setLang('en'));

describe('geopoint, geotrace and geoshape', () => {
  const geo = [
    node({ name: 'party', path: 'general/party', kind: 'geopoint', label: 'Site' }),
    node({ name: 'adopted', path: 'general/adopted', kind: 'geoshape', label: 'Area' }),
  ];

  it('says at once what is wrong with a point, keeps what was typed, and stores a valid one as ODK does', async () => {
    const { backend, user } = setup(geo);
    const q = question('party');
    expect(within(q).getByTestId('geo-format').textContent).toContain('decimal degrees');
    const input = within(q).getByRole('textbox', { name: /^Site/ }) as HTMLInputElement;
    await user.type(input, '95 10');
    expect(within(q).getByTestId('geo-problem').textContent).toBe('Point 1: the latitude must be between -90 and 90.');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    await fireEvent.blur(input);
    await waitFor(() => expect(backend.argsOf('set_report_answer')).toEqual([{ draftId: 'd1', path: 'general/party', value: '95 10' }]));

    await user.clear(input);
    await user.type(input, '12.5, -3.25');
    expect(within(q).queryByTestId('geo-problem')).toBeNull();
    await fireEvent.blur(input);
    await waitFor(() => expect(backend.argsOf('set_report_answer').at(-1)).toEqual({ draftId: 'd1', path: 'general/party', value: '12.5 -3.25' }));
  });

  it('closes a shape typed one point per line, and speaks French', async () => {
    setLang('fr');
    const { backend, user } = setup(geo);
    const q = question('adopted');
    const area = within(q).getByRole('textbox') as HTMLTextAreaElement;
    expect(area.tagName).toBe('TEXTAREA');
    await user.type(area, '0 0{Enter}0 1');
    expect(within(q).getByTestId('geo-problem').textContent).toBe('Une zone demande au moins trois points différents.');
    await user.type(area, '{Enter}1 1');
    expect(within(q).queryByTestId('geo-problem')).toBeNull();
    await fireEvent.blur(area);
    await waitFor(() =>
      expect(backend.argsOf('set_report_answer').at(-1)).toEqual({ draftId: 'd1', path: 'general/adopted', value: '0 0;0 1;1 1;0 0' }),
    );
  });
});

describe('a long list from a file', () => {
  const species = Array.from({ length: 1500 }, (_, i) => ({
    name: `sp${String(i + 1).padStart(4, '0')}`,
    label: i === 41 ? 'Grue cendrée' : `Espèce ${i + 1}`,
  }));
  const nodes = [
    node({ name: 'has_plan', path: 'general/has_plan', kind: 'select_one', list: 'cms-species.csv', label: 'Species', or_other: true }),
    node({ name: 'threats', path: 'general/threats', kind: 'select_multiple', list: 'cms-species.csv', label: 'Several species' }),
  ];

  it('lists what matches the search (accents ignored), keeps "Other" and its free text', async () => {
    const { backend, user } = setup(nodes, { 'cms-species.csv': species });
    const q = question('has_plan');
    expect(within(q).getAllByRole('radio')).toHaveLength(51); // 50 shown + Other
    expect(within(q).getByTestId('choice-search-status').textContent?.trim()).toBe('50 of 1500 shown: type to narrow the list.');
    const search = within(q).getByRole('searchbox', { name: 'Search the list' });
    await user.type(search, 'grue cendree');
    expect(within(q).getAllByRole('radio').map((r) => (r as HTMLInputElement).value)).toEqual(['sp0042', 'other']);
    await user.click(within(q).getByLabelText('Grue cendrée'));
    await waitFor(() => expect(backend.argsOf('set_report_answer')).toEqual([{ draftId: 'd1', path: 'general/has_plan', value: 'sp0042' }]));
    await user.clear(search);
    await user.type(search, 'nothing like it');
    expect(within(q).getByTestId('choice-search-status').textContent?.trim()).toBe('Nothing in the list matches “nothing like it”.');
    // the chosen species stays listed, and "Other" stays offered with its follow-up
    expect(within(q).getAllByRole('radio').map((r) => (r as HTMLInputElement).value)).toEqual(['sp0042', 'other']);
    await user.click(within(q).getByLabelText('Other'));
    await user.type(within(q).getByTestId('other-input'), 'A local crane');
    await fireEvent.blur(within(q).getByTestId('other-input'));
    await waitFor(() =>
      expect(backend.argsOf('set_report_answer').slice(1)).toEqual([
        { draftId: 'd1', path: 'general/has_plan', value: 'other' },
        { draftId: 'd1', path: 'general/has_plan_other', value: 'A local crane' },
      ]),
    );
  });

  it('ticks several species found by search and says which are chosen', async () => {
    const { backend, user } = setup(nodes, { 'cms-species.csv': species });
    const q = question('threats');
    const search = within(q).getByRole('searchbox');
    await user.type(search, 'espèce 1499');
    await user.click(within(q).getByLabelText('Espèce 1499'));
    await user.clear(search);
    await user.type(search, 'ESPECE 7');
    expect(within(q).getAllByRole('checkbox').length).toBeGreaterThan(1);
    await user.click(within(q).getByLabelText('Espèce 7'));
    await waitFor(() => expect(backend.argsOf('set_report_answer').at(-1)).toEqual({ draftId: 'd1', path: 'general/threats', value: 'sp0007 sp1499' }));
    expect(within(q).getByTestId('choice-chosen').textContent).toBe('Chosen: Espèce 7; Espèce 1499');
  });
});
