// Translated names for kinds, regions, languages, and dates in the current language.
import type { ItemKind, SyncStatus } from './api';
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
export function syncStateLabel(status: SyncStatus): string {
  switch (status.state) {
    case 'syncing': {
      const p = status.progress;
      return p && p.total > 0 ? t('sync.state.syncingProgress', { done: p.done, total: p.total }) : t('sync.state.syncing');
    }
    case 'waiting':
      return tn('sync.state.waiting', status.waiting);
    case 'signed_out':
    case 'offline':
    case 'up_to_date':
    case 'needs_attention':
      return t(`sync.state.${status.state}`);
    default:
      return t('sync.state.unknown');
  }
}

/** `<checklist>/<step>` of a checklist_progress record, or null for anything else. */
function checklistStep(kind: string, entityId: string): { checklist: string; step: string } | null {
  if (kind !== 'checklist_progress') return null;
  const slash = entityId.indexOf('/');
  if (slash <= 0 || slash === entityId.length - 1) return null;
  return { checklist: entityId.slice(0, slash), step: entityId.slice(slash + 1) };
}

/** A queued or refused change in words: "Checklist step register — ticked". */
export function describeOperation(op: { kind: string; entity_id: string; field: string; value: unknown }): string {
  const cs = checklistStep(op.kind, op.entity_id);
  if (cs && op.field === 'done' && typeof op.value === 'boolean') {
    return t(op.value ? 'sync.op.stepTicked' : 'sync.op.stepUnticked', { step: cs.step });
  }
  if (cs && op.field === 'note') return t('sync.op.stepNote', { step: cs.step });
  const forum = describeForumOperation(op);
  if (forum) return forum;
  return t('sync.op.generic', { kind: op.kind, id: op.entity_id, field: op.field });
}

/** A queued e-community change in words: a post (its first words), the contact card, an event. */
function describeForumOperation(op: { kind: string; entity_id: string; field: string; value: unknown }): string | null {
  const value = (op.value ?? {}) as { title?: unknown; body?: unknown };
  if (op.kind === 'forum_post' && op.field === 'content' && typeof value.body === 'string') {
    const text = typeof value.title === 'string' ? value.title : value.body;
    const flat = text.replace(/\s+/g, ' ').trim();
    return t('sync.op.forumPost', { excerpt: flat.length > 60 ? flat.slice(0, 59) + '…' : flat });
  }
  if (op.kind === 'profile' && op.field === 'shared') return t('sync.op.contactCard');
  if (op.kind === 'event_registration' && typeof op.value === 'boolean') {
    return t(op.value ? 'sync.op.eventRegistered' : 'sync.op.eventCancelled', { id: op.entity_id });
  }
  return null;
}

/** What a conflict is about: "Checklist step register: note". */
export function describeRecordField(kind: string, entityId: string, field: string): string {
  if (kind === 'forum_post' && field === 'content') return t('sync.conflict.forumPost');
  const cs = checklistStep(kind, entityId);
  if (cs && field === 'done') return t('sync.conflict.stepDone', { step: cs.step });
  if (cs && field === 'note') return t('sync.conflict.stepNote', { step: cs.step });
  return t('sync.conflict.generic', { kind, id: entityId, field });
}

/** The checklist a change belongs to, if any (shown as a detail). */
export function operationChecklist(kind: string, entityId: string): string | null {
  return checklistStep(kind, entityId)?.checklist ?? null;
}

/** A synced value for people: "Ticked", a note's text, "Empty note". */
export function formatSyncValue(field: string, value: unknown): string {
  if (typeof value === 'boolean' && field === 'done') return t(value ? 'sync.value.ticked' : 'sync.value.notTicked');
  if (typeof value === 'string') return value === '' && field === 'note' ? t('sync.value.emptyNote') : value;
  if (value === null || value === undefined) return '—';
  return JSON.stringify(value);
}
