import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { mockBackend } from '../../test/backend';
import { draftView, fakeCore } from '../../test/report-fixtures';
import ReportEditorView from './ReportEditorView.svelte';

function setup(rows: number, values: Record<string, string> = {}) {
  const fake = fakeCore({ rows, values });
  const backend = mockBackend(fake.replies);
  render(ReportEditorView, { view: draftView({ rows, values }), section: 'species' });
  return { backend, user: userEvent.setup(), core: fake.core };
}

const rowNames = () =>
  screen.getAllByTestId('repeat-row').map((r) => (within(r).getByRole('textbox') as HTMLInputElement).value);

describe('Repeat rows', () => {
  it('adds a row and puts the keyboard in it', async () => {
    const { backend, user } = setup(0);
    expect(screen.getByTestId('repeat-empty')).toBeTruthy();
    await user.click(screen.getByTestId('repeat-add'));
    const row = await screen.findByTestId('repeat-row');
    expect(backend.argsOf('add_report_row')).toEqual([{ draftId: 'd1', base: 'species/sp' }]);
    expect(row.dataset.path).toBe('species/sp[1]');
    expect(screen.getByRole('group', { name: 'Species, row 1' })).toBe(row);
    await waitFor(() => expect(document.activeElement).toBe(within(row).getByRole('textbox')));
    expect(screen.getByTestId('save-state').dataset.state).toBe('saved');
  });

  it('types into a row under its own path', async () => {
    const { backend, user } = setup(2);
    const second = within(screen.getAllByTestId('repeat-row')[1]!).getByRole('textbox');
    await user.type(second, 'Otis tarda');
    second.blur();
    await waitFor(() =>
      expect(backend.argsOf('set_report_answer')).toEqual([{ draftId: 'd1', path: 'species/sp[2]/sp_name', value: 'Otis tarda' }]),
    );
  });

  it('removes a row only after a confirmation, and later rows move up', async () => {
    const { backend, user } = setup(3, {
      'species/sp[1]/sp_name': 'A',
      'species/sp[2]/sp_name': 'B',
      'species/sp[3]/sp_name': 'C',
    });
    const second = screen.getAllByTestId('repeat-row')[1]!;
    await user.click(within(second).getByTestId('repeat-remove'));
    expect(backend.argsOf('remove_report_row')).toEqual([]);
    await user.click(within(second).getByRole('button', { name: 'Cancel' }));
    expect(within(second).queryByTestId('repeat-remove-confirm')).toBeNull();
    await user.click(within(second).getByTestId('repeat-remove'));
    await user.click(within(second).getByTestId('repeat-remove-confirm'));
    await waitFor(() => expect(screen.getAllByTestId('repeat-row')).toHaveLength(2));
    expect(backend.argsOf('remove_report_row')).toEqual([{ draftId: 'd1', base: 'species/sp', index: 2 }]);
    expect(rowNames()).toEqual(['A', 'C']);
  });

  it('moves rows up and down, first and last buttons disabled', async () => {
    const { backend, user } = setup(3, {
      'species/sp[1]/sp_name': 'A',
      'species/sp[2]/sp_name': 'B',
      'species/sp[3]/sp_name': 'C',
    });
    const rows = screen.getAllByTestId('repeat-row');
    expect((within(rows[0]!).getByTestId('repeat-move-up') as HTMLButtonElement).disabled).toBe(true);
    expect((within(rows[2]!).getByTestId('repeat-move-down') as HTMLButtonElement).disabled).toBe(true);
    await user.click(within(rows[2]!).getByRole('button', { name: 'Move row 3 up' }));
    await waitFor(() => expect(rowNames()).toEqual(['A', 'C', 'B']));
    expect(backend.argsOf('move_report_row')).toEqual([{ draftId: 'd1', base: 'species/sp', from: 3, to: 2 }]);
    await user.click(within(screen.getAllByTestId('repeat-row')[0]!).getByTestId('repeat-move-down'));
    await waitFor(() => expect(rowNames()).toEqual(['C', 'A', 'B']));
  });

  it('saves pending typing before changing rows, and keeps what was typed', async () => {
    const { backend, user } = setup(1);
    const first = within(screen.getByTestId('repeat-row')).getByRole('textbox');
    await user.type(first, 'Falco');
    await user.click(screen.getByTestId('repeat-add'));
    await waitFor(() => expect(screen.getAllByTestId('repeat-row')).toHaveLength(2));
    const order = backend.calls.map((c) => c.cmd).filter((c) => c === 'set_report_answer' || c === 'add_report_row');
    expect(order).toEqual(['set_report_answer', 'add_report_row']);
    expect(rowNames()).toEqual(['Falco', '']);
  });

  it('says when a row change failed', async () => {
    const fake = fakeCore({ rows: 0 });
    mockBackend({ ...fake.replies, add_report_row: () =>
        Promise.reject({ code: 'repeat_rows_fixed', params: { question: 'Species' }, message: 'rows follow another answer' }),
    });
    render(ReportEditorView, { view: draftView({ rows: 0 }), section: 'species' });
    await userEvent.setup().click(screen.getByTestId('repeat-add'));
    expect((await screen.findByTestId('save-error')).textContent).toContain('The rows of “Species” follow from another answer');
    expect(screen.queryByTestId('repeat-row')).toBeNull();
  });
});
