import { describe, expect, it } from 'vitest';
import { HIGHLIGHT_END as E, HIGHLIGHT_START as S } from './api';
import { escapeHtml, highlightHtml, stripHighlight } from './highlight';

describe('highlightHtml', () => {
  it('escapes first, then marks', () => {
    expect(highlightHtml(`a <script>alert("x")</script> ${S}credentials${E} & more`)).toBe(
      'a &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; <mark>credentials</mark> &amp; more',
    );
  });

  it('keeps marks balanced', () => {
    expect(highlightHtml(`${S}open`)).toBe('<mark>open</mark>');
    expect(highlightHtml(`close${E} ${S}${S}x${E}${E}`)).toBe('close <mark>x</mark>');
  });

  it('escapes quotes and strips markers', () => {
    expect(escapeHtml(`'"`)).toBe('&#39;&quot;');
    expect(stripHighlight(`${S}a${E}b`)).toBe('ab');
  });
});
