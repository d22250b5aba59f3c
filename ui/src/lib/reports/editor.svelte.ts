// The state of one open report and its saves. Typing changes one key of `values` (so only that
// field re-renders); text is saved after a pause (TEXT_SAVE_DELAY_MS), other answers at once,
// everything on blur, section change and quit. Saves run one after the other, in order, and
// "saved" is only claimed once every save has come back from the core (which writes before
// it answers).
import { getContext, setContext } from 'svelte';
import { errorMessage } from '../errors';
import { t } from '../i18n/index.svelte';
import { reportApi, type DraftView, type Issue, type ReportProgress, type ReportState, type RowsChanged } from './api';
import { sectionOf } from './paths';

/** Pause in typing before a text answer is saved: well under a second of typing at risk. */
export const TEXT_SAVE_DELAY_MS = 400;

/** `idle`: nothing changed yet; `pending`: changed, not sent; `saving`: sent, no answer yet. */
export type SaveStatus = 'idle' | 'pending' | 'saving' | 'saved' | 'error';

export class ReportEditor {
  view = $state.raw<DraftView>() as DraftView;
  values = $state<Record<string, string>>({});
  report = $state.raw<ReportState>() as ReportState;
  status = $state<SaveStatus>('idle');
  error = $state<string | null>(null);
  /** Questions the user has been in: their "required" messages are shown. */
  touched = $state<Record<string, true>>({});
  /** Sections the user has left: all their messages are shown when coming back. */
  visited = $state<Record<string, true>>({});

  readonly visible = $derived(new Set(this.report.visible));
  readonly required = $derived(new Set(this.report.required));
  readonly readOnlyPaths = $derived(new Set(this.report.read_only));
  readonly issues = $derived(new Map<string, Issue>(this.report.issues.map((i) => [i.path, i])));
  readonly sectionProgress = $derived(new Map<string, ReportProgress>(this.report.completion.sections));
  /** A submitted report is never changed again. */
  readonly locked = $derived(this.view.draft.status === 'submitted');

  #pending = new Map<string, string>();
  #failed = new Map<string, string>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #queue: Promise<void> = Promise.resolve();

  constructor(view: DraftView) {
    this.view = view;
    this.values = { ...view.values };
    this.report = view.state;
  }

  get draftId(): string {
    return this.view.draft.id;
  }

  value(path: string): string {
    return this.values[path] ?? '';
  }

  isReadOnly(path: string): boolean {
    return this.locked || this.readOnlyPaths.has(path);
  }

  /** The message to show next to a question, if any. */
  issue(path: string): Issue | null {
    const issue = this.issues.get(path);
    if (!issue) return null;
    if (issue.kind === 'required' && !this.touched[path] && !this.visited[sectionOf(path)]) return null;
    return issue;
  }

  touch(path: string): void {
    if (!this.touched[path]) this.touched[path] = true;
  }

  /** Records an answer; text (`debounce`) is saved after a pause, anything else at once. */
  set(path: string, value: string, debounce = false): void {
    if (this.locked) return;
    this.values[path] = value;
    this.#pending.set(path, value);
    this.#failed.delete(path);
    this.status = 'pending';
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (debounce) this.#timer = setTimeout(() => void this.flush(), TEXT_SAVE_DELAY_MS);
    else void this.flush();
  }

  /** Whether some change is not yet confirmed saved. */
  get unsaved(): boolean {
    return this.#pending.size > 0 || this.status === 'saving';
  }

  /** Sends every pending change now; resolves when all sent changes have been answered. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = [...this.#pending];
    this.#pending.clear();
    if (batch.length > 0) {
      this.#queue = this.#queue.then(async () => {
        for (const [path, value] of batch) {
          this.status = 'saving';
          try {
            this.report =
              value === ''
                ? await reportApi.clearAnswer(this.draftId, path)
                : await reportApi.setAnswer(this.draftId, path, value);
          } catch (e) {
            if (!this.#pending.has(path)) this.#failed.set(path, value);
            this.error = t('report.saveFailed', { message: errorMessage(e) });
          }
        }
        this.#settle();
      });
    }
    return this.#queue;
  }

  /** Sends the changes that failed again. */
  retry(): Promise<void> {
    for (const [path, value] of this.#failed) if (!this.#pending.has(path)) this.#pending.set(path, value);
    this.#failed.clear();
    if (this.#pending.size === 0) {
      // Nothing to send again (e.g. a row change failed): the answers are all saved.
      this.#queue = this.#queue.then(() => this.#settle());
    }
    return this.flush();
  }

  #settle(): void {
    if (this.#pending.size > 0) this.status = 'pending';
    else if (this.#failed.size > 0) this.status = 'error';
    else {
      this.status = 'saved';
      this.error = null;
    }
  }

  /** Runs a row change after every pending answer is saved; answers' paths may move. */
  #rows(change: () => Promise<RowsChanged>): Promise<void> {
    if (this.locked) return Promise.resolve();
    void this.flush();
    this.#queue = this.#queue.then(async () => {
      this.status = 'saving';
      try {
        const result = await change();
        const values = { ...result.values };
        // Typing that happened meanwhile stays on screen (and is saved next).
        for (const [path, value] of this.#pending) values[path] = value;
        this.values = values;
        this.report = result.state;
      } catch (e) {
        this.error = t('report.rowFailed', { message: errorMessage(e) });
        this.status = this.#pending.size > 0 ? 'pending' : 'error';
        return;
      }
      this.#settle();
    });
    return this.#queue;
  }

  addRow(base: string): Promise<void> {
    return this.#rows(() => reportApi.addRow(this.draftId, base));
  }

  removeRow(base: string, index: number): Promise<void> {
    return this.#rows(() => reportApi.removeRow(this.draftId, base, index));
  }

  /** Moves row `from` to position `to` (1-based). */
  moveRow(base: string, from: number, to: number): Promise<void> {
    return this.#rows(() => reportApi.moveRow(this.draftId, base, from, to));
  }

  /** The same draft opened again (e.g. in another language): labels change, answers stay. */
  replaceView(view: DraftView): void {
    this.view = view;
    const values = { ...view.values };
    for (const [path, value] of this.#pending) values[path] = value;
    this.values = values;
    this.report = view.state;
  }

  leaveSection(name: string): void {
    this.visited[name] = true;
  }
}

const KEY = Symbol('report-editor');

export function provideEditor(editor: ReportEditor): void {
  setContext(KEY, editor);
}

export function useEditor(): ReportEditor {
  const editor = getContext<ReportEditor | undefined>(KEY);
  if (!editor) throw new Error('report widgets need a ReportEditor (provideEditor)');
  return editor;
}
