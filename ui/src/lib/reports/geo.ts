// Coordinates typed or pasted for `geopoint`, `geotrace` and `geoshape`: the same rules as the
// core (crates/forms/src/geo.rs), so the widget can say at once what is wrong, in the reader's
// language, and store the value as ODK does: `lat lon [alt [acc]]`, points separated by `;`.
import type { MessageKey } from '../i18n/index.svelte';

export type GeoKind = 'geopoint' | 'geotrace' | 'geoshape';

export function isGeo(kind: string): kind is GeoKind {
  return kind === 'geopoint' || kind === 'geotrace' || kind === 'geoshape';
}

export type GeoError =
  | { code: 'shape' | 'not_number' | 'latitude' | 'longitude' | 'accuracy'; point: number }
  | { code: 'one_point' | 'too_few_line' | 'too_few_shape' | 'not_closed' };

export type GeoResult = { ok: true; value: string } | { ok: false; error: GeoError };

type Point = number[];

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)$/;

function parsePoint(text: string, point: number): Point | GeoError {
  const parts = text.split(/[\s,]+/).filter((p) => p !== '');
  if (parts.length < 2 || parts.length > 4) return { code: 'shape', point };
  const nums: number[] = [];
  for (const p of parts) {
    if (!NUMBER.test(p)) return { code: 'not_number', point };
    nums.push(Number(p));
  }
  const [lat, lon] = nums as [number, number];
  if (lat < -90 || lat > 90) return { code: 'latitude', point };
  if (lon < -180 || lon > 180) return { code: 'longitude', point };
  if (nums.length === 4 && nums[3]! < 0) return { code: 'accuracy', point };
  return nums;
}

/** The points of a value: `;` or line breaks between points, empty pieces ignored. */
export function parseGeo(text: string): Point[] | GeoError {
  const pieces = text
    .split(/[;\n\r]/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const points: Point[] = [];
  for (const [i, piece] of pieces.entries()) {
    const p = parsePoint(piece, i + 1);
    if (!Array.isArray(p)) return p;
    points.push(p);
  }
  return points;
}

const same = (a: Point, b: Point) => a[0] === b[0] && a[1] === b[1];

/** Checks the points for the question type. */
function check(kind: GeoKind, points: Point[]): GeoError | null {
  if (kind === 'geopoint') {
    if (points.length === 0) return { code: 'shape', point: 1 };
    return points.length === 1 ? null : { code: 'one_point' };
  }
  if (kind === 'geotrace') return points.length >= 2 ? null : { code: 'too_few_line' };
  const distinct: Point[] = [];
  for (const p of points) if (!distinct.some((d) => same(d, p))) distinct.push(p);
  if (distinct.length < 3) return { code: 'too_few_shape' };
  return same(points[0]!, points[points.length - 1]!) ? null : { code: 'not_closed' };
}

/** Numbers as the core writes them: no trailing zeros, no exponent. */
function num(n: number): string {
  return Number.isInteger(n) ? String(n) : String(n).includes('e') ? n.toFixed(12).replace(/0+$/, '') : String(n);
}

/**
 * The stored form of a typed value, or why it is not valid coordinates. A shape that does not
 * end at its first point is closed by repeating it (as ODK's map widget does).
 */
export function normalizeGeo(kind: GeoKind, text: string): GeoResult {
  const parsed = parseGeo(text);
  if (!Array.isArray(parsed)) return { ok: false, error: parsed };
  const points = [...parsed];
  if (kind === 'geoshape' && points.length > 0 && !same(points[0]!, points[points.length - 1]!)) {
    points.push(points[0]!);
  }
  const error = check(kind, points);
  if (error) return { ok: false, error };
  return { ok: true, value: points.map((p) => p.map(num).join(' ')).join(';') };
}

/** The message key and its parameters for an error. */
export function geoMessage(error: GeoError): [MessageKey, Record<string, number>] {
  // e.g. `report.geo.error.latitude`, with the point number as `{n}`
  const key = `report.geo.error.${error.code}` as MessageKey;
  return 'point' in error ? [key, { n: error.point }] : [key, {}];
}
