-- User names are case-insensitive: each is stored in its canonical form,
-- lower case and Unicode NFC (store.CanonicalUsername), so the unique
-- constraint on username also refuses "ALICE" next to "alice". SQL cannot
-- lower-case and normalise Unicode the way Go does, so the existing names
-- are rewritten in Go just before this file runs (canonicalizeUsernames in
-- store/sqlite, which refuses, changing nothing, names that would collide).
-- What SQL can check is that no ASCII capital is left: SQLite's lower() maps
-- only A-Z. A STRICT table cannot gain a CHECK without being rebuilt, so
-- triggers hold the rule, as users_username_lower does in PostgreSQL.
CREATE TRIGGER users_username_lower_insert BEFORE INSERT ON users
WHEN NEW.username <> lower(NEW.username)
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: users_username_lower');
END;

CREATE TRIGGER users_username_lower_update BEFORE UPDATE OF username ON users
WHEN NEW.username <> lower(NEW.username)
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: users_username_lower');
END;
