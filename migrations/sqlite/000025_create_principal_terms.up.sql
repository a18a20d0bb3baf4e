-- Principal search: see migrations/postgres/000024_create_principal_terms.
-- The rows of the principals already there are written in Go right after
-- this file runs (rebuildSearchTerms in store/sqlite).
CREATE TABLE principal_terms (
    term     TEXT    NOT NULL,
    field    INTEGER NOT NULL,
    user_id  INTEGER REFERENCES users (id) ON DELETE CASCADE,
    group_id INTEGER REFERENCES groups (id) ON DELETE CASCADE,
    CONSTRAINT principal_terms_one_principal CHECK ((user_id IS NULL) <> (group_id IS NULL))
) STRICT;

CREATE INDEX principal_terms_term_idx ON principal_terms (term, field, user_id, group_id);
CREATE INDEX principal_terms_user_id_idx ON principal_terms (user_id);
CREATE INDEX principal_terms_group_id_idx ON principal_terms (group_id);

CREATE INDEX users_email_lower_idx ON users (lower(email));
