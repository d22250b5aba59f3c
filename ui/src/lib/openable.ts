// Which addresses the system browser may be handed: the same rule as the Rust command that
// opens them (stopover_core::forum::openable_link), so the external-link notice offers "Open"
// only for what will open. Both are tested against link-cases.json.

const SCHEMES = ['https://', 'http://', 'mailto:'];
/** Longest address opened, in characters. */
export const MAX_LINK_CHARS = 4096;
/** Whitespace, control and format characters (U+202E, U+200B…): they can disguise an address. */
const HIDDEN = /[\p{White_Space}\p{Cc}\p{Cf}]/u;

export function isOpenable(url: string): boolean {
  if ([...url].length > MAX_LINK_CHARS || HIDDEN.test(url)) return false;
  const lower = url.replace(/[A-Z]/g, (c) => c.toLowerCase());
  return SCHEMES.some((s) => lower.startsWith(s) && url.length > s.length);
}
