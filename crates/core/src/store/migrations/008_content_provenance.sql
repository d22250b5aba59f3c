-- Provenance of content items (issue 11): the sources each item's facts come from and the date
-- a person last checked them. Copied onto every language row of the item at import.
ALTER TABLE content_item ADD COLUMN reviewed TEXT;                          -- YYYY-MM-DD or NULL
ALTER TABLE content_item ADD COLUMN sources_json TEXT NOT NULL DEFAULT '[]'; -- [{title, url}]

-- The search index gains `section`: a glossary term is its own hit, opening the glossary
-- page at that term. FTS5 tables cannot gain columns, so it is made again; it only ever
-- holds what the import writes, and forgetting the pack hash makes the next start import.
DROP TABLE search_index;
CREATE VIRTUAL TABLE search_index USING fts5(
    title,
    body,
    kind UNINDEXED,
    id UNINDEXED,
    lang UNINDEXED,
    section UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2'
);
DELETE FROM meta WHERE key = 'pack_hash';
