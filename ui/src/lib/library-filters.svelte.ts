import type { LibraryFilter } from './api';

/** Library filters, kept while the user opens an item and comes back. */
export const libraryFilters = $state({
  kind: '',
  region: '',
  instrument: '',
  language: '',
  text: '',
});

export function resetLibraryFilters(): void {
  libraryFilters.kind = '';
  libraryFilters.region = '';
  libraryFilters.instrument = '';
  libraryFilters.language = '';
  libraryFilters.text = '';
}

/** The filter for api.listLibrary: empty choices are left out. */
export function toLibraryFilter(f: { kind: string; region: string; instrument: string; language: string }): LibraryFilter {
  const out: LibraryFilter = {};
  if (f.kind) out.kind = f.kind;
  if (f.region) out.region = f.region;
  if (f.instrument) out.instrument = f.instrument;
  if (f.language) out.language = f.language;
  return out;
}
