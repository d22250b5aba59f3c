-- A national report is shared by the accounts of one country (sync entity
-- `<form-id>/<cycle>`): who works on which section, and the server's receipt once submitted.
CREATE TABLE report_assignment (
    draft_id   TEXT NOT NULL REFERENCES report_draft (id) ON DELETE CASCADE,
    section    TEXT NOT NULL,
    username   TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (draft_id, section)
) STRICT, WITHOUT ROWID;

-- JSON of stopover_protocol::reports::SubmissionReceipt; NULL for a draft, or for a report
-- submitted on this device before it was signed in to a server.
ALTER TABLE report_draft ADD COLUMN receipt_json TEXT;

CREATE INDEX report_draft_by_cycle ON report_draft (form_id, cycle, status);
