import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../../App.svelte';
import { emit } from '@tauri-apps/api/event';
import { SYNC_STATUS_EVENT } from '../../lib/api';
import { goTo, mockBackend, syncStatus, type Reply } from '../../test/backend';
import { fakeCore } from '../../test/report-fixtures';

async function open(replies: Record<string, Reply> = {}) {
  goTo('#/reports/d1');
  const fake = fakeCore();
  const backend = mockBackend({ ...fake.replies, ...replies });
  const user = userEvent.setup();
  render(App);
  await screen.findByTestId('report-share');
  return { backend, user, core: fake.core };
}

const row = (section: string) =>
  screen.getAllByTestId('report-assignment').find((r) => r.dataset.section === section)!;

describe('Sharing and submitting a report', () => {
  it('gives a section to a colleague and takes it back', async () => {
    const { backend, user } = await open();
    await waitFor(() => expect(backend.argsOf('report_assignments')).toEqual([{ draftId: 'd1' }]));
    await user.type(within(row('species')).getByTestId('report-assign-input'), 'baraka');
    await user.click(within(row('species')).getByTestId('report-assign'));
    await waitFor(() => expect(row('species').dataset.username).toBe('baraka'));
    expect(backend.argsOf('assign_report_section')).toEqual([{ draftId: 'd1', section: 'species', username: 'baraka' }]);
    await user.click(within(row('species')).getByRole('button', { name: 'Take back' }));
    await waitFor(() => expect(row('species').dataset.username).toBe(''));
    expect(backend.argsOf('assign_report_section')[1]).toEqual({ draftId: 'd1', section: 'species', username: null });
  });

  it('shows why a section could not be given', async () => {
    const { user } = await open({
      assign_report_section: () => {
        throw { code: 'not_a_username', params: { username: 'Baraka K' }, message: '`Baraka K` is not a username' };
      },
    });
    await user.type(within(row('general')).getByTestId('report-assign-input'), 'Baraka K');
    await user.click(within(row('general')).getByTestId('report-assign'));
    expect((await screen.findByRole('alert')).textContent).toContain('“Baraka K” is not a user name');
    expect(row('general').dataset.username).toBe('');
  });

  it('submits only after a confirmation, then shows the receipt and locks the report', async () => {
    const { backend, user } = await open();
    await user.click(screen.getByTestId('report-submit'));
    expect(backend.argsOf('submit_report')).toEqual([]);
    await user.click(screen.getByTestId('report-submit-confirm'));
    const receipt = await screen.findByTestId('report-receipt');
    expect(receipt.dataset.receiptId).toBe('0195f0a0-0000-7000-8000-000000000001');
    expect(receipt.textContent).toContain('2027-03-01');
    expect(receipt.textContent).toContain('amina');
    expect(backend.argsOf('submit_report')).toEqual([{ draftId: 'd1' }]);
    expect(screen.getByTestId('report-locked')).toBeTruthy();
    expect(screen.queryByTestId('report-submit')).toBeNull();
  });

  it('keeps the draft open and says why when the server refuses', async () => {
    const { user } = await open({
      submit_report: () => {
        throw {
          code: 'server',
          server_code: 'forbidden',
          params: {},
          message: 'your account is not the NFP for CMS, so it cannot submit this report',
        };
      },
    });
    await user.click(screen.getByTestId('report-submit'));
    await user.click(screen.getByTestId('report-submit-confirm'));
    expect((await screen.findByTestId('report-submit-error')).textContent).toContain('Your account is not allowed to do this.');
    expect(screen.queryByTestId('report-locked')).toBeNull();
    expect(screen.getByTestId('report-submit')).toBeTruthy();
  });
});

describe('A report open while a sync round ends', () => {
  it('shows the answers a colleague sent, and keeps what is being typed', async () => {
    goTo('#/reports/d1');
    const fake = fakeCore({ values: { 'general/party': 'Chad' } });
    const backend = mockBackend(fake.replies);
    render(App);
    await screen.findByTestId('report');
    const party = screen.getAllByTestId('question').find((q) => q.dataset.name === 'party')!;
    expect((within(party).getByRole('textbox') as HTMLInputElement).value).toBe('Chad');

    // A colleague's answer arrives with a sync round.
    fake.core.values['general/party'] = 'Republic of Chad';
    await emit(SYNC_STATUS_EVENT, syncStatus({ state: 'up_to_date', last_sync: '2027-01-01T10:00:00Z' }));
    await waitFor(() => expect((within(party).getByRole('textbox') as HTMLInputElement).value).toBe('Republic of Chad'));
    expect(backend.argsOf('open_report')).toHaveLength(2);
  });
});

describe('A click while the report is read again after a sync round (issue 9: lost clicks)', () => {
  it('the screen keeps the answer just saved, so clicking the other choice again saves it', async () => {
    goTo('#/reports/d1');
    const fake = fakeCore({ values: { 'general/has_plan': 'yes' } });
    let answerRead: (() => void) | null = null;
    const backend = mockBackend({
      ...fake.replies,
      // The read starts now (with what is stored now) and answers only when the test says.
      open_report: (a: Record<string, unknown>) => {
        const view = (fake.replies.open_report as (a: Record<string, unknown>) => unknown)(a);
        if (backend.argsOf('open_report').length === 1) return view;
        return new Promise((resolve) => (answerRead = () => resolve(view)));
      },
    });
    const user = userEvent.setup();
    render(App);
    await screen.findByTestId('report');
    const plan = screen.getAllByTestId('question').find((q) => q.dataset.name === 'has_plan')!;
    const radio = (label: string) => within(plan).getByLabelText(label) as HTMLInputElement;
    expect(radio('Yes').checked).toBe(true);

    // A sync round ends: the report is read again; meanwhile "No" is clicked and saved.
    await emit(SYNC_STATUS_EVENT, syncStatus({ state: 'up_to_date', last_sync: '2027-01-01T10:00:00Z' }));
    await waitFor(() => expect(answerRead).not.toBeNull());
    await user.click(radio('No'));
    await waitFor(() => expect(fake.core.values['general/has_plan']).toBe('no'));
    // The read answers with what was stored when it began ("yes").
    answerRead!();
    await waitFor(() => expect(backend.argsOf('open_report')).toHaveLength(2));
    await new Promise((r) => setTimeout(r, 20));
    expect(radio('No').checked).toBe(true);
    expect(radio('Yes').checked).toBe(false);

    // Changing one's mind: "Yes" again is a change, and it is saved.
    await user.click(radio('Yes'));
    await waitFor(() => expect(fake.core.values['general/has_plan']).toBe('yes'));
  });
});
