-- User names are case-insensitive: each is stored in its canonical form,
-- lower case and Unicode NFC (store.CanonicalUsername), so the unique
-- constraint on username also refuses "ALICE" next to "alice". SQL cannot
-- lower-case and normalise Unicode the way Go does on every server, so the
-- existing names are rewritten in Go just before this file runs
-- (canonicalizeUsernames in store/postgres, which refuses, changing nothing,
-- names that would collide). What SQL can check the same way everywhere is
-- that no ASCII capital is left: under COLLATE "C", lower() maps only A-Z.
ALTER TABLE users ADD CONSTRAINT users_username_lower CHECK (username = lower(username));
