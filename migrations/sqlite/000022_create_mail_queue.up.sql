-- iMIP (RFC 6047): scheduling messages for calendar users who are not users
-- of this server go out by email. Each is queued here in the transaction of
-- the write that caused it, so a relay outage or a crash loses nothing; the
-- sender claims due rows in a write transaction (SQLite has one writer, so
-- no two claim the same row) and deletes a row once it is sent or given up.
-- Times are microseconds since the epoch, as elsewhere.
CREATE TABLE mail_queue (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    uid          TEXT    NOT NULL,
    sender       TEXT    NOT NULL,
    recipient    TEXT    NOT NULL,
    method       TEXT    NOT NULL,
    body         BLOB    NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt INTEGER NOT NULL,
    last_error   TEXT    NOT NULL DEFAULT '',
    created      INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER))
) STRICT;
CREATE INDEX mail_queue_next_attempt_idx ON mail_queue (next_attempt);
CREATE INDEX mail_queue_user_id_idx ON mail_queue (user_id);
