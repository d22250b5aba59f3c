-- CSV files published with a report form (assets/forms/<form-id>/<file>.csv): the choices of
-- `select_one_from_file`, the tables of `pulldata()`. Replaced with the forms by each pack
-- import.
CREATE TABLE report_form_file (
    form_id TEXT NOT NULL REFERENCES report_form (id) ON DELETE CASCADE,
    name    TEXT NOT NULL,
    content TEXT NOT NULL,
    PRIMARY KEY (form_id, name)
) STRICT;
