// Answer paths as the core writes them: slash-separated names from the top, `[n]` (1-based)
// after each repeat: `appendix_i/app1_species[2]/app1_sp_name`.

/** The path of `name` inside the instance `prefix` (`""` at the top). */
export function childPath(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}/${name}`;
}

/** The path of row `index` (1-based) of the repeat `base`. */
export function rowPath(base: string, index: number): string {
  return `${base}[${index}]`;
}

/** The free text of an `or_other` select lives beside it. */
export function otherPath(path: string): string {
  return `${path}_other`;
}

/** The top-level section a path falls in (`appendix_i/app1_species[2]/x` → `appendix_i`). */
export function sectionOf(path: string): string {
  const first = path.split('/')[0] ?? '';
  const bracket = first.indexOf('[');
  return bracket >= 0 ? first.slice(0, bracket) : first;
}

/** An element id for a path: only letters, digits, `_` and `-` (other characters escaped). */
export function domId(path: string): string {
  return 'q-' + path.replace(/[^A-Za-z0-9_]/g, (c) => `-${c.charCodeAt(0).toString(36)}-`);
}

/** Choice names of a `select_multiple` or `rank` answer, in order. */
export function splitNames(value: string): string[] {
  return value.split(/\s+/).filter((s) => s !== '');
}

/** A file answer: the chosen file's name and the SHA-256 of its bytes, `name sha256:hex`. */
export function fileValue(name: string, sha256: string): string {
  return `${name} sha256:${sha256}`;
}

export function parseFileValue(value: string): { name: string; sha256: string | null } {
  const m = /^(.*) sha256:([0-9a-f]{64})$/.exec(value);
  return m ? { name: m[1]!, sha256: m[2]! } : { name: value, sha256: null };
}

/** `list` with the item at `from` moved to `to` (both 0-based, clamped). */
export function moved<T>(list: readonly T[], from: number, to: number): T[] {
  const out = [...list];
  if (from < 0 || from >= out.length) return out;
  const target = Math.max(0, Math.min(out.length - 1, to));
  const [item] = out.splice(from, 1);
  out.splice(target, 0, item as T);
  return out;
}
