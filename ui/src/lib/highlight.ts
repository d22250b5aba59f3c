import { HIGHLIGHT_END, HIGHLIGHT_START } from './api';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/**
 * Safe HTML for a search title or snippet: the text is escaped first, then the private-use
 * markers become `<mark>` / `</mark>` (kept balanced whatever the input).
 */
export function highlightHtml(text: string): string {
  let out = '';
  let open = false;
  for (const ch of escapeHtml(text)) {
    if (ch === HIGHLIGHT_START) {
      if (!open) out += '<mark>';
      open = true;
    } else if (ch === HIGHLIGHT_END) {
      if (open) out += '</mark>';
      open = false;
    } else {
      out += ch;
    }
  }
  return open ? out + '</mark>' : out;
}

/** The text without the markers (for labels). */
export function stripHighlight(text: string): string {
  return text.split(HIGHLIGHT_START).join('').split(HIGHLIGHT_END).join('');
}
