-- WebDAV-Push (github.com/bitfireAT/webdav-push): the server's VAPID key
-- pair (RFC 8292), one for every instance; the users' push registrations
-- per collection; and the delivery queue. push_pending holds one row per
-- collection changed since its last fan-out (a burst of writes updates the
-- same row, counting the changes); push_deliveries one row per registration
-- with a message due.
-- SQLite has one writer: a worker claims both in a write transaction.
CREATE TABLE push_keys (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    private_key TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    created     INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER))
) STRICT;

CREATE TABLE push_registrations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    collection_id   INTEGER NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    push_resource   TEXT NOT NULL,
    public_key      TEXT NOT NULL,
    auth_secret     TEXT NOT NULL,
    content_update  INTEGER NOT NULL DEFAULT 1,
    property_update INTEGER NOT NULL DEFAULT 0,
    user_agent      TEXT NOT NULL DEFAULT '',
    expires         INTEGER NOT NULL,
    created         INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER)),
    last_delivery   INTEGER,
    failures        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    -- not_before: no message goes out earlier (coalescing a burst).
    not_before      INTEGER,
    CONSTRAINT push_registrations_collection_id_push_resource_key UNIQUE (collection_id, push_resource)
) STRICT;

CREATE INDEX push_registrations_user_id_idx ON push_registrations (user_id);

CREATE TABLE push_pending (
    collection_id INTEGER PRIMARY KEY REFERENCES collections (id) ON DELETE CASCADE,
    modseq        INTEGER NOT NULL,
    property      INTEGER NOT NULL DEFAULT 0,
    changes       INTEGER NOT NULL DEFAULT 1,
    content       INTEGER NOT NULL DEFAULT 1
) STRICT;

CREATE TABLE push_deliveries (
    registration_id INTEGER PRIMARY KEY REFERENCES push_registrations (id) ON DELETE CASCADE,
    modseq          INTEGER NOT NULL,
    property        INTEGER NOT NULL DEFAULT 0,
    due             INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    changes         INTEGER NOT NULL DEFAULT 1
) STRICT;

CREATE INDEX push_deliveries_due_idx ON push_deliveries (due);
