import { describe, expect, it } from 'vitest';
import { snippetParts } from './snippet';

describe('snippetParts', () => {
  it('keeps the marks and turns everything else back into text', () => {
    expect(snippetParts('&lt;script&gt;<mark>délégation</mark> &amp; &quot;x&#39;')).toEqual([
      { text: '<script>', mark: false },
      { text: 'délégation', mark: true },
      { text: ' & "x\'', mark: false },
    ]);
  });

  it('never yields markup, even for a forged tag', () => {
    const parts = snippetParts('<mark>a</mark><img src=x onerror=alert(1)>');
    expect(parts).toEqual([
      { text: 'a', mark: true },
      { text: '<img src=x onerror=alert(1)>', mark: false },
    ]);
  });
});
