// A small report form and a fake core for the report views' tests: it stores answers, opens a
// follow-up when its yes/no gate says yes, keeps repeat rows, and answers like the commands.
import type { Args, Reply } from './backend';
import type { Assignment, DraftView, FormNode, ReportState, SubmissionReceipt } from '../lib/reports/api';

export function node(partial: Partial<FormNode> & Pick<FormNode, 'name' | 'kind'>): FormNode {
  return {
    path: partial.name,
    label: partial.name,
    hint: null,
    appearance: [],
    list: null,
    or_other: false,
    choice_filter: false,
    required: false,
    read_only: false,
    range: null,
    fixed_rows: false,
    reference: null,
    children: [],
    ...partial,
  };
}

export const SECTIONS: FormNode[] = [
  node({
    name: 'general',
    kind: 'group',
    label: 'Section 1. General',
    children: [
      node({ name: 'intro', kind: 'note', label: 'Answer for the whole country.' }),
      node({ name: 'party', kind: 'text', label: 'Name of the Party', required: true, hint: 'As the UN writes it.', reference: 'I' }),
      node({ name: 'has_plan', kind: 'select_one', label: 'Is there a plan?', list: 'yes_no', reference: 'Stopover' }),
      node({ name: 'plan_title', kind: 'text', label: 'Title of the plan', appearance: ['multiline'] }),
      node({ name: 'staff', kind: 'integer', label: 'Staff' }),
      node({ name: 'threats', kind: 'select_multiple', label: 'Threats', list: 'threats', or_other: true }),
      node({ name: 'threat_count', kind: 'calculate', label: 'Number of threats', read_only: true }),
      node({ name: 'priorities', kind: 'rank', label: 'Rank the priorities', list: 'priorities' }),
      node({ name: 'capacity', kind: 'range', label: 'Capacity', range: { start: 1, end: 5, step: 1 } }),
      node({ name: 'adopted', kind: 'date', label: 'Date adopted' }),
      node({ name: 'map', kind: 'file', label: 'Map' }),
    ],
  }),
  node({
    name: 'species',
    kind: 'group',
    label: 'Section 2. Species',
    children: [
      node({
        name: 'sp',
        path: 'species/sp',
        kind: 'repeat',
        label: 'Species',
        children: [node({ name: 'sp_name', path: 'species/sp/sp_name', kind: 'text', label: 'Scientific name' })],
      }),
    ],
  }),
  node({
    name: 'research',
    kind: 'group',
    label: 'Section 3. Research',
    children: [
      node({
        name: 'matrix',
        path: 'research/matrix',
        kind: 'group',
        label: 'Research by group',
        appearance: ['table-list'],
        children: [
          node({ name: 'r_birds', path: 'research/matrix/r_birds', kind: 'select_one', list: 'yes_no', label: 'Birds' }),
          node({ name: 'r_fish', path: 'research/matrix/r_fish', kind: 'select_one', list: 'yes_no', label: 'Fish' }),
        ],
      }),
    ],
  }),
];

export const CHOICE_LISTS = {
  yes_no: [
    { name: 'yes', label: 'Yes' },
    { name: 'no', label: 'No' },
  ],
  threats: [
    { name: 'bycatch', label: 'Bycatch' },
    { name: 'poisoning', label: 'Poisoning' },
    { name: 'noise', label: 'Noise' },
  ],
  priorities: [
    { name: 'habitat', label: 'Habitat' },
    { name: 'research', label: 'Research' },
    { name: 'funding', label: 'Funding' },
  ],
};

const INPUTS = [
  'general/party',
  'general/has_plan',
  'general/plan_title',
  'general/staff',
  'general/threats',
  'general/priorities',
  'general/capacity',
  'general/adopted',
  'general/map',
];

/** The state the fake core computes from the answers (and the open repeat rows). */
export function stateOf(values: Record<string, string>, rows: number, draftId = 'd1'): ReportState {
  const gateOpen = values['general/has_plan'] === 'yes';
  const general = INPUTS.filter((p) => p !== 'general/plan_title' || gateOpen);
  const rowPaths = Array.from({ length: rows }, (_, i) => `species/sp[${i + 1}]`);
  const visible = [
    'general',
    'general/intro',
    ...general,
    'species',
    ...rowPaths.flatMap((r) => [r, `${r}/sp_name`]),
    'research',
    'research/matrix',
    'research/matrix/r_birds',
    'research/matrix/r_fish',
  ];
  const answered = (paths: string[]) => paths.filter((p) => (values[p] ?? '').trim() !== '').length;
  const speciesInputs = rowPaths.map((r) => `${r}/sp_name`);
  const researchInputs = ['research/matrix/r_birds', 'research/matrix/r_fish'];
  const progress = (paths: string[], missing = 0) => ({ answered: answered(paths), total: paths.length, required_missing: missing });
  const partyMissing = (values['general/party'] ?? '') === '' ? 1 : 0;
  const issues: ReportState['issues'] = [];
  if (partyMissing) issues.push({ path: 'general/party', kind: 'required', message: 'This answer is required.' });
  const staff = values['general/staff'] ?? '';
  if (staff !== '' && !/^-?\d+$/.test(staff.trim())) {
    issues.push({ path: 'general/staff', kind: 'invalid', message: 'This value is not valid for this question.' });
  } else if (staff !== '' && Number(staff) > 1000) {
    issues.push({ path: 'general/staff', kind: 'constraint', message: 'At most 1000 staff.' });
  }
  const all = [...general, ...speciesInputs, ...researchInputs];
  return {
    draft_id: draftId,
    visible,
    required: ['general/party'],
    issues,
    completion: {
      sections: [
        ['general', progress(general, partyMissing)],
        ['species', progress(speciesInputs)],
        ['research', progress(researchInputs)],
      ],
      overall: progress(all, partyMissing),
    },
    repeats: { 'species/sp': rows },
    computed: { 'general/threat_count': String((values['general/threats'] ?? '').split(' ').filter(Boolean).length) },
    read_only: [],
    choices: {},
  };
}

export function draftView(
  options: { values?: Record<string, string>; rows?: number; status?: 'draft' | 'submitted'; title?: string } = {},
): DraftView {
  const values = { ...(options.values ?? {}) };
  const rows = options.rows ?? 0;
  return {
    draft: {
      id: 'd1',
      form_id: 'cms-national-report',
      form_version: '2027.1',
      cycle: 'COP15',
      status: options.status ?? 'draft',
      created_at: '2026-01-01T00:00:00.000Z',
      updated_at: '2026-01-01T00:00:00.000Z',
      submitted_at: null,
      receipt: null,
    },
    title: options.title ?? 'CMS national report',
    sections: SECTIONS,
    choice_lists: CHOICE_LISTS,
    values,
    state: stateOf(values, rows),
  };
}

/**
 * Command replies of a fake core holding one draft: `values` and `rows` change as the
 * commands are called, like the real core's would.
 */
export function fakeCore(initial: { values?: Record<string, string>; rows?: number; status?: 'draft' | 'submitted' } = {}) {
  const core = {
    values: { ...(initial.values ?? {}) },
    rows: initial.rows ?? 0,
    status: initial.status ?? ('draft' as 'draft' | 'submitted'),
    receipt: null as SubmissionReceipt | null,
    assignments: [] as Assignment[],
  };
  const opened = (lang: unknown) => {
    const view = draftView({
      values: core.values,
      rows: core.rows,
      status: core.status,
      title: lang === 'fr' ? 'Rapport national à la CMS' : 'CMS national report',
    });
    view.draft.receipt = core.receipt;
    return view;
  };
  const rowsChanged = () => ({ state: stateOf(core.values, core.rows), values: { ...core.values } });
  /** Renames `species/sp[i]/…` so that row `order[n-1]` becomes row n. */
  const renumber = (order: number[]) => {
    const next: Record<string, string> = {};
    for (const [path, value] of Object.entries(core.values)) {
      const m = /^species\/sp\[(\d+)\](.*)$/.exec(path);
      if (!m) {
        next[path] = value;
        continue;
      }
      const at = order.indexOf(Number(m[1]));
      if (at >= 0) next[`species/sp[${at + 1}]${m[2]}`] = value;
    }
    core.values = next;
    core.rows = order.length;
  };
  const replies: Record<string, Reply> = {
    open_report: (a: Args) => opened(a.lang),
    report_assignments: () => structuredClone(core.assignments),
    assign_report_section: (a: Args) => {
      core.assignments = core.assignments.filter((x) => x.section !== a.section);
      if (a.username) core.assignments.push({ section: a.section as string, username: a.username as string });
      return structuredClone(core.assignments);
    },
    submit_report: () => {
      core.status = 'submitted';
      core.receipt = {
        receipt_id: '0195f0a0-0000-7000-8000-000000000001',
        country: 'TD',
        form_id: 'cms-national-report',
        form_version: '2027.1',
        cycle: 'COP15',
        submitted_by: 'amina',
        submitted_at: '2027-03-01T10:00:00Z',
        answers_sha256: 'ab'.repeat(32),
        answers_submitted: Object.keys(core.values).length,
        attachments: [],
      };
      return opened('en').draft;
    },
    attach_report_file: () => {
      // The bytes travel as the raw body (the mock does not see them): "abc", as in the test.
      const value = 'sites map.pdf sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
      core.values['general/map'] = value;
      return { state: stateOf(core.values, core.rows), value };
    },
    set_report_answer: (a: Args) => {
      core.values[a.path as string] = a.value as string;
      return stateOf(core.values, core.rows);
    },
    clear_report_answer: (a: Args) => {
      core.values[a.path as string] = '';
      return stateOf(core.values, core.rows);
    },
    add_report_row: () => {
      core.rows += 1;
      core.values[`species/sp[${core.rows}]`] = '';
      return rowsChanged();
    },
    remove_report_row: (a: Args) => {
      renumber(Array.from({ length: core.rows }, (_, i) => i + 1).filter((i) => i !== a.index));
      return rowsChanged();
    },
    move_report_row: (a: Args) => {
      const order = Array.from({ length: core.rows }, (_, i) => i + 1);
      const [row] = order.splice((a.from as number) - 1, 1);
      order.splice((a.to as number) - 1, 0, row!);
      renumber(order);
      return rowsChanged();
    },
    export_report: (a: Args) => ({
      path: `/home/nfp/Documents/Stopover/cms-national-report-COP15.${a.format === 'package' ? 'zip' : (a.format as string)}`,
    }),
  };
  return { core, replies };
}
