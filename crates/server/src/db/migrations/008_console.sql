-- The Secretariat's console (issue 13): its sign-in sessions, the reporting cycles the
-- Secretariat sets (with their deadlines), and a daily count of reports by status so the
-- console can chart reporting progress over time.

-- A console sign-in. The browser holds a random token in an HttpOnly cookie; only its SHA-256
-- is kept. Sessions end after `--console-idle-timeout` without a request and at `expires_at`.
CREATE TABLE console_session (
    token_hash  BLOB PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES account (id),
    csrf        TEXT NOT NULL,              -- the token every form of this session carries
    created_at  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL            -- absolute end, whatever the activity
) STRICT, WITHOUT ROWID;
CREATE INDEX console_session_by_account ON console_session (account_id);

-- Reporting cycles (`COP15`): one is current, the one the console's reporting table shows.
-- The deadline is what the Secretariat set (YYYY-MM-DD), never a guess; none until it does.
CREATE TABLE reporting_cycle (
    cycle       TEXT PRIMARY KEY,
    deadline    TEXT,
    is_current  INTEGER NOT NULL DEFAULT 0 CHECK (is_current IN (0, 1)),
    updated_at  INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX reporting_cycle_one_current ON reporting_cycle (is_current) WHERE is_current = 1;

-- Reports of a cycle by status, counted once a day (the janitor, and every look at the
-- reporting page): the history behind the "reporting progress over time" chart.
CREATE TABLE reporting_snapshot (
    day          TEXT NOT NULL,             -- YYYY-MM-DD, UTC
    cycle        TEXT NOT NULL,
    form_id      TEXT NOT NULL,
    not_started  INTEGER NOT NULL,
    in_progress  INTEGER NOT NULL,
    submitted    INTEGER NOT NULL,
    PRIMARY KEY (day, cycle, form_id)
) STRICT;
