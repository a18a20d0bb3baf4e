-- Browser sessions of the web UI, kept in the database so that several
-- server instances behind one address share them. The id is the SHA-256 of
-- the cookie's random token: a copy of this table does not sign anyone in.
-- last_seen is written at most once a minute per session (idle expiry needs
-- no finer clock), and the hourly pruning deletes sessions past their idle
-- or absolute lifetime.
CREATE TABLE sessions (
    id        text PRIMARY KEY,
    user_id   bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created   timestamptz NOT NULL DEFAULT now(),
    last_seen timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX sessions_user_id_idx ON sessions (user_id);
