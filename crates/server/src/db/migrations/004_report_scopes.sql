-- Records shared by a country (its national report) beside those of one account (checklist
-- progress). `scope` is `account:<id>` or `country:<ISO code>`; the change feed keeps who
-- made each change in `account_id`. Existing rows all belonged to one account.
CREATE TABLE field_scoped (
    scope       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    field       TEXT NOT NULL,
    value       TEXT NOT NULL,             -- JSON
    version     INTEGER NOT NULL,
    PRIMARY KEY (scope, kind, entity_id, field)
) STRICT, WITHOUT ROWID;
INSERT INTO field_scoped (scope, kind, entity_id, field, value, version)
    SELECT 'account:' || account_id, kind, entity_id, field, value, version FROM field;
DROP TABLE field;
ALTER TABLE field_scoped RENAME TO field;

ALTER TABLE change ADD COLUMN scope TEXT NOT NULL DEFAULT '';
UPDATE change SET scope = 'account:' || account_id;
DROP INDEX change_by_account;
CREATE INDEX change_by_scope ON change (scope, seq);

-- Submitted national reports: one per country, form and cycle, never changed afterwards.
CREATE TABLE report_submission (
    country       TEXT NOT NULL,
    form_id       TEXT NOT NULL,
    cycle         TEXT NOT NULL,
    receipt_id    TEXT NOT NULL UNIQUE,
    receipt       TEXT NOT NULL,           -- JSON of stopover_protocol::reports::SubmissionReceipt
    answers       TEXT NOT NULL,           -- JSON object path → value: what was submitted
    account_id    INTEGER NOT NULL REFERENCES account (id),
    submitted_at  INTEGER NOT NULL,
    PRIMARY KEY (country, form_id, cycle)
) STRICT;
