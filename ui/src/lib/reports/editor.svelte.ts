// The state of one open report and its saves. Typing changes one key of `values` (so only that
// field re-renders); text is saved after a pause (TEXT_SAVE_DELAY_MS), other answers at once,
// everything on blur, section change and quit. Saves run one after the other, in order, and
// "saved" is only claimed once the core (which writes before it answers) has confirmed the
// very value on screen.
//
// Nothing typed or clicked is dropped. The lost clicks of issue 9 came from reloads: after each
// sync round the open report is read again (colleagues' answers may have arrived). When that
// read started before a save was written and answered after it, its older value was put back
// on screen: the radio button of the old choice was drawn checked again. The person's next
// click on the choice they had made before hit a radio the browser already saw as checked, so
// no `change` event fired and nothing was saved, while the screen showed the choice. (Typed
// text could be wound back the same way.) Now:
// - A read of the report carries the save count at which it started; answers saved after that
//   keep the value on screen (`replaceView`), and so does every value the core has not
//   confirmed yet (`#unconfirmed`: waiting, being sent, or refused).
// - A save that fails keeps its field marked (`fieldState`), is tried again by itself after a
//   pause (RETRY_DELAYS_MS) and by the person's "Try again", and leaving the report while one
//   waits asks first (`unsaved`).
import { getContext, setContext } from 'svelte';
import { errorMessage } from '../errors';
import { t } from '../i18n/index.svelte';
import {
  reportApi,
  type DraftView,
  type Issue,
  type ReportFile,
  type ReportProgress,
  type ReportState,
  type RowsChanged,
} from './api';
import { sectionOf } from './paths';

/** Pause in typing before a text answer is saved: well under a second of typing at risk. */
export const TEXT_SAVE_DELAY_MS = 400;
/** Pauses before a failed save is tried again by itself (then every last one). */
export const RETRY_DELAYS_MS = [2000, 5000, 15000, 30000];

/** `idle`: nothing changed yet; `pending`: changed, not sent; `saving`: sent, no answer yet. */
export type SaveStatus = 'idle' | 'pending' | 'saving' | 'saved' | 'error';
/** Where one field's answer stands; `saved` once the core confirmed the value on screen. */
export type FieldState = 'pending' | 'saving' | 'saved' | 'error';

/** One change for the core: an answer, or a file for a `file` question. */
type Change = { kind: 'value'; value: string } | { kind: 'file'; file: File };

export class ReportEditor {
  view = $state.raw<DraftView>() as DraftView;
  values = $state<Record<string, string>>({});
  report = $state.raw<ReportState>() as ReportState;
  status = $state<SaveStatus>('idle');
  error = $state<string | null>(null);
  /** Per answer path, once it was changed in this session. */
  fieldState = $state<Record<string, FieldState>>({});
  /** Why a field's last save failed, in the reader's language. */
  fieldError = $state<Record<string, string>>({});
  /** The files the answers name, with where each stands (refreshed after attaching and syncs). */
  files = $state.raw<ReportFile[]>([]);
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
  /** Paths whose answer the core has not confirmed: waiting, being sent, or failed. */
  readonly unsavedPaths = $derived(
    Object.entries(this.fieldState)
      .filter(([, s]) => s !== 'saved')
      .map(([p]) => p),
  );

  /** Changes not sent yet, by path (the latest wins). */
  #pending = new Map<string, Change>();
  /** Every value on screen the core has not confirmed: waiting, in flight, or failed. */
  #unconfirmed = new Map<string, string>();
  /** Changes whose save failed, kept to send again. */
  #failed = new Map<string, Change>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #retries = 0;
  #queue: Promise<void> = Promise.resolve();
  #inFlight = 0;
  #closed = false;
  /** Saves sent so far, and for each path the count at its latest save. */
  #sent = 0;
  #sentAt = new Map<string, number>();

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
    // Answered here, not yet saved: the core's "required" is about to go (no flash under a
    // choice just made, no page moving under the pointer).
    if (issue.kind === 'required' && this.value(path) !== '') return null;
    return issue;
  }

  touch(path: string): void {
    if (!this.touched[path]) this.touched[path] = true;
  }

  /** Records an answer; text (`debounce`) is saved after a pause, anything else at once. */
  set(path: string, value: string, debounce = false): void {
    if (this.locked) return;
    this.values[path] = value;
    this.#queueChange(path, { kind: 'value', value }, value, debounce);
  }

  /** Attaches a picked file to the `file` question at `path`, in turn with the other saves. */
  attach(path: string, file: File): Promise<void> {
    if (this.locked) return Promise.resolve();
    this.#queueChange(path, { kind: 'file', file }, null, false);
    return this.#queue;
  }

  #queueChange(path: string, change: Change, shown: string | null, debounce: boolean): void {
    this.#pending.set(path, change);
    this.#failed.delete(path);
    if (shown !== null) this.#unconfirmed.set(path, shown);
    this.fieldState[path] = 'pending';
    delete this.fieldError[path];
    this.status = 'pending';
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (debounce) this.#timer = setTimeout(() => void this.flush(), TEXT_SAVE_DELAY_MS);
    else void this.flush();
  }

  /** Whether some change is not yet confirmed saved (leaving then asks first). */
  get unsaved(): boolean {
    return this.#pending.size > 0 || this.#inFlight > 0 || this.#failed.size > 0;
  }

  /** Sends every pending change now; resolves when all sent changes have been answered. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = [...this.#pending];
    this.#pending.clear();
    if (batch.length > 0) {
      this.#inFlight += batch.length;
      this.#queue = this.#queue.then(async () => {
        for (const [path, change] of batch) {
          await this.#send(path, change);
          this.#inFlight--;
        }
        this.#settle();
      });
    }
    return this.#queue;
  }

  async #send(path: string, change: Change): Promise<void> {
    // A newer change of the same field waits in #pending: this one would only be overwritten.
    if (this.#pending.has(path)) return;
    this.status = 'saving';
    this.fieldState[path] = 'saving';
    this.#sentAt.set(path, ++this.#sent);
    try {
      if (change.kind === 'file') {
        const attached = await reportApi.attachFile(this.draftId, path, change.file);
        this.report = attached.state;
        // The core set the answer (`name sha256:…`): show what it stored.
        if (!this.#pending.has(path)) this.values[path] = attached.value;
        void this.refreshFiles();
      } else {
        this.report =
          change.value === ''
            ? await reportApi.clearAnswer(this.draftId, path)
            : await reportApi.setAnswer(this.draftId, path, change.value);
      }
      if (this.#pending.has(path)) return; // changed again meanwhile: that save decides
      if (change.kind === 'value' && this.#unconfirmed.get(path) === change.value) {
        this.#unconfirmed.delete(path);
      }
      this.fieldState[path] = 'saved';
      delete this.fieldError[path];
    } catch (e) {
      const message = errorMessage(e);
      if (!this.#pending.has(path)) {
        this.#failed.set(path, change);
        this.fieldState[path] = 'error';
        this.fieldError[path] = message;
        if (this.#pending.size === 0) this.status = 'error';
      }
      this.error = t('report.saveFailed', { message });
    }
  }

  /** Sends the changes that failed again: the person's "Try again" (the pauses between tries
   * by itself start short again), or by itself later (`auto`). */
  retry(auto = false): Promise<void> {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    if (!auto) this.#retries = 0;
    for (const [path, change] of this.#failed) if (!this.#pending.has(path)) this.#pending.set(path, change);
    this.#failed.clear();
    if (this.#pending.size === 0) {
      // Nothing to send again (e.g. a row change failed): the answers are all saved.
      this.#queue = this.#queue.then(() => this.#settle());
    }
    return this.flush();
  }

  #settle(): void {
    if (this.#pending.size > 0 || this.#inFlight > 0) this.status = 'pending';
    else if (this.#failed.size > 0) {
      this.status = 'error';
      this.#scheduleRetry();
    } else {
      this.status = 'saved';
      this.error = null;
      this.#retries = 0;
    }
  }

  /** Failed saves are tried again by themselves, later and later (a full disk may free up). */
  #scheduleRetry(): void {
    if (this.#closed || this.#retryTimer !== undefined) return;
    const delay = RETRY_DELAYS_MS[Math.min(this.#retries, RETRY_DELAYS_MS.length - 1)]!;
    this.#retries++;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.retry(true);
    }, delay);
  }

  /** `values` from the core, with every value it has not confirmed yet laid over it. */
  #withUnconfirmed(stored: Record<string, string>): Record<string, string> {
    const values = { ...stored };
    for (const [path, value] of this.#unconfirmed) values[path] = value;
    return values;
  }

  /** Runs a row change after every pending answer is saved; answers' paths may move. */
  #rows(change: () => Promise<RowsChanged>): Promise<void> {
    if (this.locked) return Promise.resolve();
    void this.flush();
    this.#queue = this.#queue.then(async () => {
      this.status = 'saving';
      try {
        const result = await change();
        // Typing that happened meanwhile stays on screen (and is saved next).
        this.values = this.#withUnconfirmed(result.values);
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

  /** Marks the start of a read of the whole report: pass it to `replaceView` with its answer. */
  readStarted(): number {
    return this.#sent;
  }

  /** The same draft read again (after a sync round, or in another language): labels and
   * colleagues' answers change. Whatever this person changed since the read started
   * (`since`, from `readStarted`), and whatever the core has not confirmed, stays as they left
   * it: the read may have been answered after a later save. */
  replaceView(view: DraftView, since = this.#sent): void {
    this.view = view;
    const values = { ...view.values };
    let newer = false;
    for (const [path, at] of this.#sentAt) {
      if (at <= since) continue;
      newer = true;
      if (path in this.values) values[path] = this.values[path]!;
      else delete values[path];
    }
    this.values = this.#withUnconfirmed(values);
    // A save answered after the read began carries the newer state.
    if (!newer) this.report = view.state;
  }

  /** Reads again where each attached file stands. */
  async refreshFiles(): Promise<void> {
    try {
      this.files = await reportApi.reportFiles(this.draftId);
    } catch {
      // The files' states are a help, not the answers: the next refresh tries again.
    }
  }

  /** The file a `file` question's answer names, with where it stands, if known. */
  fileAt(path: string): ReportFile | null {
    return this.files.find((f) => f.path === path) ?? null;
  }

  leaveSection(name: string): void {
    this.visited[name] = true;
  }

  /** The report is closed: no more retries by themselves. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
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
