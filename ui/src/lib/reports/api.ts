// The national report commands (src-tauri/src/commands/reports.rs) and their types. Kept
// beside api.ts so that the report editor's many types stay together.
import { invoke } from '@tauri-apps/api/core';
import type { Lang } from '../bindings';

import type {
  AttachedFile,
  Assignment,
  AttachmentLimits,
  CreatedReport,
  Draft,
  DraftSummary,
  DraftView,
  ExportedFile,
  ExportFormat,
  FormSummary,
  ReportFile,
  ReportState,
  RowsChanged,
  SavedFile,
} from '../bindings';

export type {
  AttachmentLimits,
  FileState,
  ReceiptAttachment,
  ReportFile,
  SavedFile,
  Assignment,
  ChoiceView as Choice,
  Completion,
  CreatedReport,
  Draft,
  DraftStatus,
  DraftSummary,
  DraftView,
  ExportedFile,
  ExportFormat,
  FormSummary,
  Issue,
  NodeView as FormNode,
  AnswerProgress as ReportProgress,
  ReportState,
  RowsChanged,
  SubmissionReceipt,
} from '../bindings';

export const EXPORT_FORMATS: ExportFormat[] = ['docx', 'pdf', 'csv', 'json', 'package'];

export const reportApi = {
  listForms: (lang: Lang) => invoke<FormSummary[]>('list_report_forms', { lang }),
  listReports: () => invoke<DraftSummary[]>('list_reports'),
  createReport: (formId: string, cycle: string, prefill: boolean) =>
    invoke<CreatedReport>('create_report', { formId, cycle, prefill }),
  openReport: (draftId: string, lang: Lang) => invoke<DraftView>('open_report', { draftId, lang }),
  setAnswer: (draftId: string, path: string, value: string) =>
    invoke<ReportState>('set_report_answer', { draftId, path, value }),
  clearAnswer: (draftId: string, path: string) => invoke<ReportState>('clear_report_answer', { draftId, path }),
  addRow: (draftId: string, base: string) => invoke<RowsChanged>('add_report_row', { draftId, base }),
  removeRow: (draftId: string, base: string, index: number) =>
    invoke<RowsChanged>('remove_report_row', { draftId, base, index }),
  moveRow: (draftId: string, base: string, from: number, to: number) =>
    invoke<RowsChanged>('move_report_row', { draftId, base, from, to }),
  /** Asks where to save (the system's dialog); null when the person cancelled. */
  exportReport: (draftId: string, format: ExportFormat, lang: Lang) =>
    invoke<ExportedFile | null>('export_report', { draftId, format, lang }),
  /** What attachments may be (size, types), as the server last said. */
  attachmentLimits: () => invoke<AttachmentLimits>('attachment_limits'),
  /** Attaches a picked file to a `file` question: its bytes travel as the raw body. */
  attachFile: (draftId: string, path: string, file: File) =>
    file.arrayBuffer().then((buffer) =>
      invoke<AttachedFile>('attach_report_file', new Uint8Array(buffer), {
        headers: {
          'x-stopover-draft': encodeURIComponent(draftId),
          'x-stopover-path': encodeURIComponent(path),
          'x-stopover-filename': encodeURIComponent(file.name),
        },
      }),
    ),
  reportFiles: (draftId: string) => invoke<ReportFile[]>('report_files', { draftId }),
  /** Opens an attached file (fetched from the server first when it is a colleague's). */
  openFile: (sha256: string, filename: string) => invoke<SavedFile>('open_report_file', { sha256, filename }),
  /** Saves a copy where the person chooses; null when they cancelled. */
  saveFile: (sha256: string, filename: string) =>
    invoke<SavedFile | null>('save_report_file', { sha256, filename }),
  assignments: (draftId: string) => invoke<Assignment[]>('report_assignments', { draftId }),
  assignSection: (draftId: string, section: string, username: string | null) =>
    invoke<Assignment[]>('assign_report_section', { draftId, section, username }),
  submitReport: (draftId: string) => invoke<Draft>('submit_report', { draftId }),
};
