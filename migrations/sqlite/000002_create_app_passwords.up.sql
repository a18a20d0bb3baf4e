-- Per-device passwords, revocable one by one.
CREATE TABLE app_passwords (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label         TEXT    NOT NULL DEFAULT '',
    password_hash TEXT    NOT NULL,
    created       INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER))
) STRICT;

CREATE INDEX app_passwords_user_id_idx ON app_passwords (user_id);
