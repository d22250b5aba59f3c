// The national report commands (src-tauri/src/commands/reports.rs) and their types. Kept
// beside api.ts so that the report editor's many types stay together.
import { invoke } from '@tauri-apps/api/core';
import type { Lang } from '../api';

export type DraftStatus = 'draft' | 'submitted';

export interface ReportProgress {
  answered: number;
  total: number;
  required_missing: number;
}

export interface FormSummary {
  id: string;
  version: string;
  title: string;
}

export interface DraftSummary {
  id: string;
  form_id: string;
  title: string;
  cycle: string;
  status: DraftStatus;
  /** Null when the form is no longer in the content pack. */
  completion: ReportProgress | null;
  updated_at: string;
}

export interface Draft {
  id: string;
  form_id: string;
  form_version: string;
  cycle: string;
  status: DraftStatus;
  created_at: string;
  updated_at: string;
  submitted_at: string | null;
  /** The e-community's receipt; null for a draft, or a report submitted on this laptop only. */
  receipt?: SubmissionReceipt | null;
}

/** Proof that the e-community received the report (crates/protocol/src/reports.rs). */
export interface SubmissionReceipt {
  receipt_id: string;
  country: string;
  form_id: string;
  form_version: string;
  cycle: string;
  submitted_by: string;
  submitted_at: string;
  answers_sha256: string;
  answers_submitted: number;
}

/** A section given to a colleague of the same country. */
export interface Assignment {
  section: string;
  username: string;
}

export type NodeKind =
  | 'text'
  | 'integer'
  | 'decimal'
  | 'range'
  | 'date'
  | 'select_one'
  | 'select_multiple'
  | 'rank'
  | 'note'
  | 'file'
  | 'calculate'
  | 'geopoint'
  | 'geotrace'
  | 'geoshape'
  | 'group'
  | 'repeat';

/** One question, group or repeat of the form (a repeat's children describe every row). */
export interface FormNode {
  name: string;
  path: string;
  kind: NodeKind;
  label: string | null;
  hint: string | null;
  appearance: string[];
  list: string | null;
  or_other: boolean;
  choice_filter: boolean;
  required: boolean;
  read_only: boolean;
  range: { start: number; end: number; step: number } | null;
  fixed_rows: boolean;
  children: FormNode[];
}

export interface Choice {
  name: string;
  label: string;
}

export interface Issue {
  path: string;
  kind: 'required' | 'constraint' | 'invalid';
  message: string;
}

export interface ReportState {
  draft_id: string;
  visible: string[];
  required: string[];
  issues: Issue[];
  completion: { sections: [string, ReportProgress][]; overall: ReportProgress };
  repeats: Record<string, number>;
  computed: Record<string, string>;
  read_only: string[];
  choices: Record<string, string[]>;
}

export interface DraftView {
  draft: Draft;
  title: string;
  sections: FormNode[];
  choice_lists: Record<string, Choice[]>;
  values: Record<string, string>;
  state: ReportState;
}

export interface RowsChanged {
  state: ReportState;
  values: Record<string, string>;
}

export type ExportFormat = 'docx' | 'pdf' | 'csv' | 'json';
export const EXPORT_FORMATS: ExportFormat[] = ['docx', 'pdf', 'csv', 'json'];

export const reportApi = {
  listForms: (lang: Lang) => invoke<FormSummary[]>('list_report_forms', { lang }),
  listReports: () => invoke<DraftSummary[]>('list_reports'),
  createReport: (formId: string, cycle: string, prefill: boolean) =>
    invoke<{ draft: Draft; prefilled: number }>('create_report', { formId, cycle, prefill }),
  openReport: (draftId: string, lang: Lang) => invoke<DraftView>('open_report', { draftId, lang }),
  setAnswer: (draftId: string, path: string, value: string) =>
    invoke<ReportState>('set_report_answer', { draftId, path, value }),
  clearAnswer: (draftId: string, path: string) => invoke<ReportState>('clear_report_answer', { draftId, path }),
  addRow: (draftId: string, base: string) => invoke<RowsChanged>('add_report_row', { draftId, base }),
  removeRow: (draftId: string, base: string, index: number) =>
    invoke<RowsChanged>('remove_report_row', { draftId, base, index }),
  moveRow: (draftId: string, base: string, from: number, to: number) =>
    invoke<RowsChanged>('move_report_row', { draftId, base, from, to }),
  exportReport: (draftId: string, format: ExportFormat, lang: Lang) =>
    invoke<{ path: string }>('export_report', { draftId, format, lang }),
  assignments: (draftId: string) => invoke<Assignment[]>('report_assignments', { draftId }),
  assignSection: (draftId: string, section: string, username: string | null) =>
    invoke<Assignment[]>('assign_report_section', { draftId, section, username }),
  submitReport: (draftId: string) => invoke<Draft>('submit_report', { draftId }),
};
