-- National report drafts and their answers, one row per answer path (see stopover-forms
-- state.rs for the path syntax). A draft names its form by id and version, never by row, so a
-- content pack import (which replaces report_form) never touches a draft.
CREATE TABLE report_draft (
    id           TEXT PRIMARY KEY NOT NULL,
    form_id      TEXT NOT NULL,
    form_version TEXT NOT NULL,
    cycle        TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('draft', 'submitted')),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    submitted_at TEXT
) STRICT;

CREATE INDEX report_draft_by_form ON report_draft (form_id, status, submitted_at);

-- Hidden answers stay here: relevance decides what is submitted, not what is kept.
-- A row whose path ends in a repeat index (`sec/species[3]`) with an empty value records that
-- the repeat row exists even before anything is typed in it.
CREATE TABLE report_answer (
    draft_id   TEXT NOT NULL REFERENCES report_draft (id) ON DELETE CASCADE,
    path       TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (draft_id, path)
) STRICT, WITHOUT ROWID;
