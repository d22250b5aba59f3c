-- Report forms shipped in the content pack (assets/forms/<id>.txt, the plain-text XLSForm
-- format of stopover-forms). Replaced with the rest of the content by each pack import;
-- drafts (a later migration) refer to a form by id and version, never by row.
CREATE TABLE report_form (
    id      TEXT PRIMARY KEY NOT NULL,
    version TEXT NOT NULL,
    title   TEXT NOT NULL,
    source  TEXT NOT NULL
) STRICT;
