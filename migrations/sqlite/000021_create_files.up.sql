-- Plain WebDAV folders (RFC 4918): every user has a files home, the
-- collection of kind 'files' named '' (made with new users, here for the
-- users there are); folders below it are collections named by their path
-- ("a/b"). Files are objects, and their dead properties live in
-- object_properties, beside the collections' own.
--
-- The kind CHECK only widens, so it is edited in place as in 000019.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(sql, 'CHECK (kind IN (''calendar'', ''addressbook'', ''inbox'', ''outbox''))',
                       'CHECK (kind IN (''calendar'', ''addressbook'', ''inbox'', ''outbox'', ''files''))')
WHERE type = 'table' AND name = 'collections';
PRAGMA writable_schema = RESET;
PRAGMA writable_schema = OFF;

INSERT INTO collections (owner_id, kind, name, display_name)
SELECT id, 'files', '', 'Files' FROM users
WHERE NOT EXISTS (SELECT 1 FROM collections c WHERE c.owner_id = users.id AND c.kind = 'files' AND c.name = '');

-- Dead properties of objects (RFC 4918 §4.2), as collection_properties.
CREATE TABLE object_properties (
    object_id INTEGER NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
    namespace TEXT    NOT NULL,
    name      TEXT    NOT NULL,
    xml       TEXT    NOT NULL,
    PRIMARY KEY (object_id, namespace, name)
) STRICT;
