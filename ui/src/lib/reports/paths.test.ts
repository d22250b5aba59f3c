import { describe, expect, it } from 'vitest';
import { childPath, domId, fileValue, moved, otherPath, parseFileValue, rowPath, sectionOf, splitNames } from './paths';

describe('report paths', () => {
  it('builds the core’s answer paths', () => {
    expect(childPath('', 'general')).toBe('general');
    expect(childPath('appendix_i', 'app1_species')).toBe('appendix_i/app1_species');
    expect(rowPath('appendix_i/app1_species', 2)).toBe('appendix_i/app1_species[2]');
    expect(childPath(rowPath('a/sp', 2), 'name')).toBe('a/sp[2]/name');
    expect(otherPath('general/threats')).toBe('general/threats_other');
    expect(sectionOf('appendix_i/app1_species[2]/x')).toBe('appendix_i');
    expect(sectionOf('sp[3]/x')).toBe('sp');
  });

  it('turns paths into distinct element ids', () => {
    expect(domId('a/b[2]/c')).toMatch(/^q-[A-Za-z0-9_-]+$/);
    expect(domId('a/b_c')).not.toBe(domId('a_b/c'));
    expect(domId('a/b[1]')).not.toBe(domId('a/b[1'));
  });

  it('reads multiple choices and file answers', () => {
    expect(splitNames('  a  b c ')).toEqual(['a', 'b', 'c']);
    expect(splitNames('')).toEqual([]);
    const sha = 'f'.repeat(64);
    expect(parseFileValue(fileValue('my map.pdf', sha))).toEqual({ name: 'my map.pdf', sha256: sha });
    expect(parseFileValue('old-value.pdf')).toEqual({ name: 'old-value.pdf', sha256: null });
  });

  it('moves list items, clamped to the list', () => {
    expect(moved(['a', 'b', 'c'], 2, 0)).toEqual(['c', 'a', 'b']);
    expect(moved(['a', 'b', 'c'], 0, 1)).toEqual(['b', 'a', 'c']);
    expect(moved(['a', 'b'], 1, 9)).toEqual(['a', 'b']);
    expect(moved(['a', 'b'], 5, 0)).toEqual(['a', 'b']);
  });
});
