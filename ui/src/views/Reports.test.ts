import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../App.svelte';
import type { DraftSummary } from '../lib/reports/api';
import { goTo, mockBackend, type Reply } from '../test/backend';

const forms = [
  { id: 'aewa-national-report', version: '2027.1', title: 'AEWA national report', cycle_meeting: 'MOP', suggested_cycle: null },
  { id: 'cms-national-report', version: '2027.1', title: 'CMS national report', cycle_meeting: 'COP', suggested_cycle: 'COP15' },
];

function summary(partial: Partial<DraftSummary> & Pick<DraftSummary, 'id'>): DraftSummary {
  return {
    form_id: 'cms-national-report',
    title: 'CMS national report',
    cycle: 'COP15',
    status: 'draft',
    completion: { answered: 12, total: 150, required_missing: 30 },
    updated_at: '2026-03-01T10:00:00.000Z',
    ...partial,
  };
}

async function open(replies: Record<string, Reply> = {}) {
  goTo('#/reports');
  const backend = mockBackend({ list_reports: [], list_report_forms: forms, ...replies });
  const user = userEvent.setup();
  render(App);
  return { backend, user };
}

describe('Reports list', () => {
  it('has a nav entry and lists each report with its cycle, status and completion', async () => {
    await open({
      list_reports: [
        summary({ id: 'r2', cycle: 'COP15' }),
        summary({ id: 'r1', cycle: 'COP14', status: 'submitted', completion: { answered: 150, total: 150, required_missing: 0 } }),
        summary({ id: 'r0', form_id: 'old-form', title: 'old-form', cycle: 'COP13', completion: null }),
      ],
    });
    const list = await screen.findByTestId('report-list');
    expect(screen.getByTestId('nav-reports').getAttribute('aria-current')).toBe('page');
    const rows = within(list).getAllByTestId('report-item');
    expect(rows.map((r) => r.dataset.id)).toEqual(['r2', 'r1', 'r0']);
    expect(rows[0]!.textContent).toContain('COP15');
    expect(rows[0]!.textContent).toContain('Draft');
    expect(rows[0]!.textContent).toContain('12 of 150 answered');
    expect(within(rows[1]!).getByTestId('report-status').textContent).toBe('Submitted');
    expect(rows[2]!.textContent).toContain('no longer in the installed content');
    const links = within(list).getAllByTestId('report-open');
    expect(links.map((a) => a.getAttribute('href'))).toEqual(['#/reports/r2', '#/reports/r1', '#/reports/r0']);
    expect(links[1]!.getAttribute('aria-label')).toBe('Open CMS national report, COP14');
  });

  it('says when there is no report yet', async () => {
    await open();
    expect((await screen.findByTestId('report-list-empty')).textContent).toContain('No report yet');
  });

  it('starts a report for the chosen form and cycle, then opens it', async () => {
    const { backend, user } = await open({
      create_report: { draft: { id: 'new-1' }, prefilled: 0 },
      open_report: () => new Promise(() => {}),
    });
    const select = (await screen.findByTestId('report-new-form')) as HTMLSelectElement;
    await waitFor(() => expect(select.value).toBe('aewa-national-report'));
    await user.selectOptions(select, 'cms-national-report');
    const cycle = screen.getByTestId('report-new-cycle') as HTMLInputElement;
    await user.clear(cycle);
    await user.type(cycle, 'COP16');
    // Nothing submitted yet: no pre-fill offered.
    expect(screen.queryByTestId('report-new-prefill')).toBeNull();
    await user.click(screen.getByTestId('report-new'));
    await waitFor(() => expect(location.hash).toBe('#/reports/new-1'));
    expect(backend.argsOf('create_report')).toEqual([{ formId: 'cms-national-report', cycle: 'COP16', prefill: false }]);
  });

  it('offers to pre-fill from the last submitted report of the same form', async () => {
    const { backend, user } = await open({
      list_reports: [summary({ id: 'r1', cycle: 'COP14', status: 'submitted' })],
      create_report: { draft: { id: 'new-2' }, prefilled: 42 },
      open_report: () => new Promise(() => {}),
    });
    const select = (await screen.findByTestId('report-new-form')) as HTMLSelectElement;
    await waitFor(() => expect(select.value).toBe('aewa-national-report'));
    expect(screen.queryByTestId('report-new-prefill')).toBeNull();
    await user.selectOptions(select, 'cms-national-report');
    const prefill = (await screen.findByTestId('report-new-prefill')) as HTMLInputElement;
    expect(prefill.checked).toBe(true);
    await user.click(screen.getByTestId('report-new'));
    await waitFor(() => expect(backend.argsOf('create_report')).toEqual([{ formId: 'cms-national-report', cycle: 'COP15', prefill: true }]));
  });

  it('shows why a report could not be started', async () => {
    const { user } = await open({
      create_report: () => Promise.reject({ code: 'cycle_missing', params: {}, message: 'a report needs a cycle, e.g. COP15' }),
    });
    await waitFor(() => expect((screen.getByTestId('report-new-form') as HTMLSelectElement).value).not.toBe(''));
    await user.selectOptions(screen.getByTestId('report-new-form'), 'cms-national-report');
    await waitFor(() => expect((screen.getByTestId('report-new-cycle') as HTMLInputElement).value).toBe('COP15'));
    await user.click(screen.getByTestId('report-new'));
    expect((await screen.findByTestId('report-new-error')).textContent).toContain('A report needs a cycle, for example COP15.');
    expect(location.hash).toBe('#/reports');
  });

  it('suggests the cycle named after the form’s own meeting, and keeps what the person typed', async () => {
    const { backend, user } = await open({ create_report: { draft: { id: 'new-3' }, prefilled: 0 }, open_report: () => new Promise(() => {}) });
    const select = (await screen.findByTestId('report-new-form')) as HTMLSelectElement;
    const input = screen.getByTestId('report-new-cycle') as HTMLInputElement;
    // AEWA reports to its Meeting of the Parties; the form names no session, so nothing is guessed
    await waitFor(() => expect(select.value).toBe('aewa-national-report'));
    expect(input.value).toBe('');
    expect(input.closest('label')!.textContent).toContain('Meeting of the Parties (MOP)');
    // CMS: its Conference of the Parties, and the session the core suggests
    await user.selectOptions(select, 'cms-national-report');
    await waitFor(() => expect(input.value).toBe('COP15'));
    expect(input.closest('label')!.textContent).toContain('Conference of the Parties (COP)');
    // typed by the person: kept when the form changes
    await user.selectOptions(select, 'aewa-national-report');
    await waitFor(() => expect(input.value).toBe(''));
    await user.type(input, 'MOP9');
    await user.selectOptions(select, 'cms-national-report');
    expect(input.value).toBe('MOP9');
    await user.selectOptions(select, 'aewa-national-report');
    await user.click(screen.getByTestId('report-new'));
    await waitFor(() => expect(backend.argsOf('create_report')).toEqual([{ formId: 'aewa-national-report', cycle: 'MOP9', prefill: false }]));
  });

  it('lists the forms in the reader’s language', async () => {
    const { backend, user } = await open();
    await screen.findByTestId('report-new-form');
    await user.selectOptions(screen.getByTestId('lang-select'), 'es');
    await waitFor(() => expect(backend.argsOf('list_report_forms')).toEqual([{ lang: 'en' }, { lang: 'es' }]));
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Informes nacionales');
  });
});
