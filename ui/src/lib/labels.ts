// Translated names for kinds, regions, languages, and dates in the current language.
import type { ItemKind, RecordKind, Subject, SyncStatus } from './api';
import { hasKey, i18n, t, tn } from './i18n/index.svelte';

export function kindLabel(kind: ItemKind): string {
  return t(`kind.${kind}`);
}

export function groupLabel(kind: ItemKind): string {
  return t(`group.${kind}`);
}

export function libraryKindLabel(kind: string): string {
  const key = `libkind.${kind}`;
  return hasKey(key) ? t(key) : kind;
}

export function regionLabel(region: string): string {
  const key = `region.${region}`;
  return hasKey(key) ? t(key) : region;
}

/** A language's name in the interface language ("French", "français", "francés"). */
export function languageName(code: string): string {
  const key = `langname.${code}`;
  if (hasKey(key)) return t(key);
  try {
    return new Intl.DisplayNames([i18n.lang], { type: 'language' }).of(code) ?? code;
  } catch {
    return code;
  }
}

/** `2025-06-30` and `2025-06` are shown in the reader's language; anything else as it is. */
export function formatDate(value: string): string {
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const month = /^(\d{4})-(\d{2})$/.exec(value);
  try {
    if (day) {
      const d = new Date(Date.UTC(+day[1]!, +day[2]! - 1, +day[3]!));
      return new Intl.DateTimeFormat(i18n.lang, { dateStyle: 'long', timeZone: 'UTC' }).format(d);
    }
    if (month) {
      const d = new Date(Date.UTC(+month[1]!, +month[2]! - 1, 1));
      return new Intl.DateTimeFormat(i18n.lang, { year: 'numeric', month: 'long', timeZone: 'UTC' }).format(d);
    }
  } catch {
    // fall through: show the value as written
  }
  return value;
}

/** Folds case and accents so a filter for "delegation" finds "Délégation". */
export function foldText(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

/** An ISO 8601 instant as a date and time in the reader's language and time zone. */
export function formatDateTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  try {
    return new Intl.DateTimeFormat(i18n.lang, { dateStyle: 'long', timeStyle: 'short' }).format(d);
  } catch {
    return iso;
  }
}

const RELATIVE_UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
];

/** "5 minutes ago", "in 2 hours", "now" — in the reader's language, relative to `now` (ms). */
export function relativeTime(iso: string, now: number): string {
  const then = new Date(iso).getTime();
  if (Number.isNaN(then)) return iso;
  const seconds = Math.round((then - now) / 1000);
  const abs = Math.abs(seconds);
  try {
    const rtf = new Intl.RelativeTimeFormat(i18n.lang, { numeric: 'auto' });
    if (abs < 45) return rtf.format(0, 'second');
    for (const [unit, size] of RELATIVE_UNITS) {
      if (abs >= size || unit === 'minute') return rtf.format(Math.round(seconds / size), unit);
    }
  } catch {
    // fall through
  }
  return formatDateTime(iso);
}

/** The sync indicator's words for a status ("Up to date", "3 waiting", "Syncing… 3/10"). */
/** True when every waiting change is held at a workshop relay (the server has not answered). */
export function isAllAtRelay(status: SyncStatus): boolean {
  const held = status.relay?.held ?? 0;
  return held > 0 && held === status.waiting && status.files_waiting === 0;
}

export function syncStateLabel(status: SyncStatus): string {
  switch (status.state) {
    case 'syncing': {
      const p = status.progress;
      return p && p.total > 0 ? t('sync.state.syncingProgress', { done: p.done, total: p.total }) : t('sync.state.syncing');
    }
    case 'waiting':
      // Everything waiting is safe at a workshop relay: say so, not just "waiting".
      if (isAllAtRelay(status)) return tn('sync.state.atRelay', status.waiting);
      return tn('sync.state.waiting', status.waiting + status.files_waiting);
    case 'signed_out':
    case 'offline':
    case 'up_to_date':
    case 'needs_attention':
      return t(`sync.state.${status.state}`);
    default:
      return t('sync.state.unknown');
  }
}

/** A synced field as the person knows it: what it is and where (`Subject`, worded by Rust). */
interface Change {
  kind: RecordKind;
  field: string;
  subject: Subject;
  value: unknown;
}

/** A queued, refused or conflicting change in words: "Preparing for a COP — Register early: ticked". */
export function describeOperation(op: Change): string {
  const { subject, value } = op;
  const detail = subject.detail ?? '';
  switch (op.kind) {
    case 'checklist_progress':
      if (op.field === 'done' && typeof value === 'boolean') {
        return t(value ? 'sync.op.stepTicked' : 'sync.op.stepUnticked', { step: detail });
      }
      return t('sync.op.stepNote', { step: detail });
    case 'report_answer':
      return t('sync.op.reportAnswer', { report: subject.title, question: detail });
    case 'report_assignment':
      return typeof value === 'string'
        ? t('sync.op.reportAssignment', { report: subject.title, section: detail, username: value })
        : t('sync.op.reportAssignmentTaken', { report: subject.title, section: detail });
    case 'forum_post': {
      const post = (value ?? {}) as { title?: unknown; body?: unknown };
      if (op.field === 'content' && typeof post.body === 'string') {
        const text = typeof post.title === 'string' ? post.title : post.body;
        const flat = text.replace(/\s+/g, ' ').trim();
        return t('sync.op.forumPost', { excerpt: flat.length > 60 ? flat.slice(0, 59) + '…' : flat });
      }
      return t('sync.op.other', { title: subject.title });
    }
    case 'profile':
      return t('sync.op.contactCard');
    case 'event_registration':
      return t(value === false ? 'sync.op.eventCancelled' : 'sync.op.eventRegistered', { event: subject.title });
    case 'feedback':
      return t('sync.op.feedback', { item: subject.title });
    default:
      return t('sync.op.other', { title: detail ? `${subject.title} — ${detail}` : subject.title });
  }
}

/** What a conflict is about, in words. */
export function describeConflict(c: { kind: RecordKind; field: string; subject: Subject }): string {
  if (c.kind === 'forum_post' && c.field === 'content') return t('sync.conflict.forumPost');
  const { title, detail } = c.subject;
  return t('sync.op.other', { title: detail ? `${title} — ${detail}` : title });
}

/** The checklist a change belongs to, if any (shown as a detail). */
export function operationChecklist(op: { kind: RecordKind; subject: Subject }): string | null {
  return op.kind === 'checklist_progress' ? op.subject.title : null;
}

/** A synced value for people: "Ticked", a note's text, "Empty note". */
export function formatSyncValue(field: string, value: unknown): string {
  if (typeof value === 'boolean' && field === 'done') return t(value ? 'sync.value.ticked' : 'sync.value.notTicked');
  if (typeof value === 'string') return value === '' && field === 'note' ? t('sync.value.emptyNote') : value;
  if (value === null || value === undefined) return '—';
  return JSON.stringify(value);
}

/** A length of time in words at its largest sensible unit: "3 years", "12 minutes". */
export function durationText(seconds: number): string {
  const s = Math.abs(seconds);
  const units: [Intl.NumberFormatOptions['unit'], number][] = [
    ['year', 365 * 86_400],
    ['month', 30 * 86_400],
    ['day', 86_400],
    ['hour', 3_600],
    ['minute', 60],
  ];
  const [unit, size] = units.find(([, size]) => s >= size) ?? ['minute', 60];
  const amount = Math.max(1, Math.round(s / size));
  return new Intl.NumberFormat(i18n.lang, { style: 'unit', unit, unitDisplay: 'long' }).format(amount);
}

/** A number of bytes at its largest sensible binary unit: "512 B", "1.5 MiB" ("1,5 Mio"). */
export function formatBytes(bytes: number): string {
  const units = ['unit.bytes', 'unit.kib', 'unit.mib', 'unit.gib'] as const;
  let value = Math.max(0, bytes);
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i += 1;
  }
  const n = new Intl.NumberFormat(i18n.lang, { maximumFractionDigits: i === 0 || value >= 100 ? 0 : 1 }).format(value);
  return t(units[i], { n });
}
