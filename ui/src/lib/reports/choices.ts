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

/** A `select_one` drawn as a drop-down (`minimal` appearance, or many choices). */
export function usesDropdown(node: FormNode, choiceCount: number): boolean {
  return (
    node.kind === 'select_one' &&
    (node.appearance.includes('minimal') || node.appearance.includes('autocomplete') || choiceCount > MAX_RADIOS)
  );
}

/** Whether the widget is one control that a `<label for>` can name (else a labelled group). */
export function isSingleControl(node: FormNode, choiceCount: number): boolean {
  switch (node.kind) {
    case 'text':
    case 'integer':
    case 'decimal':
    case 'date':
    case 'range':
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
