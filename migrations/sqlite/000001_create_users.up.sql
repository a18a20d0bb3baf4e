-- Accounts. The embedded schema mirrors migrations/postgres file for file and
-- column for column, with these conventions:
--   * tables are STRICT: a value of the wrong type is an error, not stored;
--   * ids are INTEGER PRIMARY KEY AUTOINCREMENT: never reused (like an
--     identity), and an export can be re-imported with its original ids;
--   * times are INTEGER unix microseconds, UTC: a timestamptz's precision,
--     so a copy between the stores loses nothing;
--   * text compares and sorts bytewise (BINARY), like COLLATE "C".
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL,
    display_name  TEXT    NOT NULL DEFAULT '',
    email         TEXT    NOT NULL DEFAULT '',
    password_hash TEXT    NOT NULL DEFAULT '',
    created       INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER)),
    CONSTRAINT users_username_key UNIQUE (username)
) STRICT;
