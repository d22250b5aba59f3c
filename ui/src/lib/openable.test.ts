import { describe, expect, it } from 'vitest';
import cases from './link-cases.json';
import { isOpenable } from './openable';

describe('isOpenable', () => {
  // The Rust command is tested against the same file (src-tauri/src/commands/forum.rs).
  it.each(cases.map((c) => [JSON.stringify(c.url).slice(0, 60), c.url, c.openable] as const))(
    '%s',
    (_name, url, openable) => {
      expect(isOpenable(url)).toBe(openable);
    },
  );
});
