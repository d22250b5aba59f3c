// Which addresses the system browser may be handed: the same rule as the Rust command that
// opens them (stopover_core::forum::openable_link), so the external-link notice offers "Open"
// only for what will open. Both are tested against link-cases.json.

const SCHEMES = ['https://', 'http://', 'mailto:'];
/** Longest address opened, in characters. */
export const MAX_LINK_CHARS = 4096;
/** Whitespace, control and format characters (U+202E, U+200B…): they can disguise an address. */
const HIDDEN = /[\p{White_Space}\p{Cc}\p{Cf}]/u;
/** The same once `%XX` escapes are decoded, as a browser shows the address (spaces aside). */
const HIDDEN_DECODED = /[\p{Cc}\p{Cf}]/u;

/** `url` with its `%XX` escapes decoded (invalid UTF-8 replaced, like the Rust side). */
function percentDecoded(url: string): string {
  const bytes: number[] = [];
  const utf8 = new TextEncoder();
  for (let i = 0; i < url.length; ) {
    const hex = url.slice(i + 1, i + 3);
    if (url[i] === '%' && /^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 3;
    } else {
      const cp = url.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      bytes.push(...utf8.encode(ch));
      i += ch.length;
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

export function isOpenable(url: string): boolean {
  if ([...url].length > MAX_LINK_CHARS || HIDDEN.test(url)) return false;
  if (url.includes('%') && HIDDEN_DECODED.test(percentDecoded(url))) return false;
  const lower = url.replace(/[A-Z]/g, (c) => c.toLowerCase());
  return SCHEMES.some((s) => lower.startsWith(s) && url.length > s.length);
}
