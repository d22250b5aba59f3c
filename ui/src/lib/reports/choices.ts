// Which choices a select offers at one instance, and how it is drawn.
import type { Choice, FormNode } from './api';

/** Above this many choices a `select_one` becomes a drop-down list instead of radio buttons. */
export const MAX_RADIOS = 8;

/** The choices offered at `path`: the node's list, narrowed by its `choice_filter` if any. */
export function choicesAt(
  node: FormNode,
  path: string,
  lists: Record<string, Choice[]>,
  allowed: Record<string, string[]>,
): Choice[] {
  const all = node.list ? (lists[node.list] ?? []) : [];
  if (!node.choice_filter) return all;
  const names = new Set(allowed[path] ?? []);
  return all.filter((c) => names.has(c.name));
}

/** Above this many choices a select gets a search box and shows only what matches. */
export const SEARCH_FROM = 40;

/** At most this many matches are listed at once (the search narrows the rest). */
export const MAX_SHOWN = 50;

/** A select drawn as a searchable list: long lists (a species list from a file has hundreds)
 * and the `autocomplete` / `search` appearances. */
export function usesSearch(node: FormNode, choiceCount: number): boolean {
  if (node.kind !== 'select_one' && node.kind !== 'select_multiple') return false;
  const asked = node.appearance.includes('autocomplete') || node.appearance.includes('search');
  return choiceCount > SEARCH_FROM || (asked && choiceCount > MAX_RADIOS);
}

/** A `select_one` drawn as a drop-down (`minimal` appearance, or many choices). */
export function usesDropdown(node: FormNode, choiceCount: number): boolean {
  return (
    node.kind === 'select_one' &&
    !usesSearch(node, choiceCount) &&
    (node.appearance.includes('minimal') || node.appearance.includes('autocomplete') || choiceCount > MAX_RADIOS)
  );
}

/** Lower case, without accents or extra spaces: "Grue cendrée" is found by "grue cendree". */
export function searchKey(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

/** The choices whose label or name holds every word of `query` (all of them for an empty query). */
export function matching(choices: Choice[], query: string, keys?: string[]): Choice[] {
  const words = searchKey(query).split(' ').filter((w) => w !== '');
  if (words.length === 0) return choices;
  const k = keys ?? choices.map((c) => searchKey(`${c.label} ${c.name}`));
  return choices.filter((_, i) => words.every((w) => k[i]!.includes(w)));
}

/** Whether the widget is one control that a `<label for>` can name (else a labelled group). */
export function isSingleControl(node: FormNode, choiceCount: number): boolean {
  switch (node.kind) {
    case 'text':
    case 'integer':
    case 'decimal':
    case 'date':
    case 'range':
    case 'geopoint':
    case 'geotrace':
    case 'geoshape':
      return true;
    case 'select_one':
      return usesDropdown(node, choiceCount);
    default:
      return false;
  }
}

/** The rows of a `table-list` group can share one header when they are `select_one`s of one list. */
export function matrixList(group: FormNode): string | null {
  const questions = group.children.filter((c) => c.kind !== 'note' && c.kind !== 'calculate');
  const first = questions[0];
  if (!first || !first.list) return null;
  const same = questions.every((c) => c.kind === 'select_one' && c.list === first.list && !c.or_other && !c.choice_filter);
  return same && group.children.every((c) => c.kind !== 'group' && c.kind !== 'repeat') ? first.list : null;
}
