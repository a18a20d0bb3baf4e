-- Scheduling (RFC 6638 §2.1, §2.2): every user has one schedule inbox and
-- one schedule outbox, collections of their own kinds. New users get them
-- with their other initial collections; existing users get them here.
--
-- The kind CHECK only widens, which changes nothing stored, so the table is
-- not rebuilt (a rebuild would cascade-delete every object through the
-- foreign keys): its declaration is edited in place, as SQLite documents for
-- loosening a constraint (https://sqlite.org/lang_altertable.html#otheralter);
-- writable_schema = RESET makes this connection re-read the schema before
-- the rows below are checked against it, and bumps the schema cookie so
-- every other connection does too.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(sql, 'CHECK (kind IN (''calendar'', ''addressbook''))',
                       'CHECK (kind IN (''calendar'', ''addressbook'', ''inbox'', ''outbox''))')
WHERE type = 'table' AND name = 'collections';
PRAGMA writable_schema = RESET;
PRAGMA writable_schema = OFF;

-- Not INSERT OR IGNORE: that would also skip, silently, a row the CHECK
-- refused.
INSERT INTO collections (owner_id, kind, name, display_name)
SELECT id, 'inbox', 'inbox', 'Inbox' FROM users
WHERE NOT EXISTS (SELECT 1 FROM collections c WHERE c.owner_id = users.id AND c.kind = 'inbox' AND c.name = 'inbox');
INSERT INTO collections (owner_id, kind, name, display_name)
SELECT id, 'outbox', 'outbox', 'Outbox' FROM users
WHERE NOT EXISTS (SELECT 1 FROM collections c WHERE c.owner_id = users.id AND c.kind = 'outbox' AND c.name = 'outbox');
