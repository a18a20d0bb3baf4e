-- Principal search (store/search.go): every principal is indexed under
-- the suffixes of the words of its names and addresses, so that a
-- case-insensitive substring search is a prefix range of this index and
-- its work grows with the answer, not with the number of users (pg_trgm
-- is not available everywhere). Terms compare bytewise (COLLATE "C"), the
-- same as in SQLite. The store writes them with the user or group; the
-- rows of the principals already there are written in Go right after
-- this file runs (rebuildSearchTerms in store/postgres).
CREATE TABLE principal_terms (
    term     text COLLATE "C" NOT NULL,
    field    smallint NOT NULL,
    user_id  bigint REFERENCES users (id) ON DELETE CASCADE,
    group_id bigint REFERENCES groups (id) ON DELETE CASCADE,
    CONSTRAINT principal_terms_one_principal CHECK ((user_id IS NULL) <> (group_id IS NULL))
);

CREATE INDEX principal_terms_term_idx ON principal_terms (term) INCLUDE (field, user_id, group_id);
CREATE INDEX principal_terms_user_id_idx ON principal_terms (user_id);
CREATE INDEX principal_terms_group_id_idx ON principal_terms (group_id);

-- Scheduling and sharing find a user by email address (a mailto:
-- calendar user address); the lookup ignores ASCII case.
CREATE INDEX users_email_lower_idx ON users (lower(email));
