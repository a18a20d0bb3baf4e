-- WebDAV write locks (see the PostgreSQL file): a lock is on a path, not on
-- a row; times are unix microseconds.
CREATE TABLE locks (
    token           TEXT    PRIMARY KEY,
    root            TEXT    NOT NULL,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    depth_infinity  INTEGER NOT NULL,
    shared          INTEGER NOT NULL,
    owner_xml       TEXT    NOT NULL DEFAULT '',
    timeout_seconds INTEGER NOT NULL,
    created         INTEGER NOT NULL,
    expires         INTEGER NOT NULL
) STRICT;

CREATE INDEX locks_root_idx ON locks (root);
CREATE INDEX locks_user_id_idx ON locks (user_id);
