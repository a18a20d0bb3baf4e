-- Browser sessions of the web UI (see the PostgreSQL file): the id is the
-- SHA-256 of the cookie's token; times are unix microseconds.
CREATE TABLE sessions (
    id        TEXT    PRIMARY KEY,
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created   INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
) STRICT;

CREATE INDEX sessions_user_id_idx ON sessions (user_id);
