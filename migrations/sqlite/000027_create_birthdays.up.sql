-- The Birthdays calendar (issue 17); see the PostgreSQL migration. The kind
-- CHECK only widens, so the table's declaration is edited in place as in
-- migrations 000019 and 000021 (a rebuild would cascade-delete every object).
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(sql, 'CHECK (kind IN (''calendar'', ''addressbook'', ''inbox'', ''outbox'', ''files''))',
                       'CHECK (kind IN (''calendar'', ''addressbook'', ''inbox'', ''outbox'', ''files'', ''birthdays''))')
WHERE type = 'table' AND name = 'collections';
PRAGMA writable_schema = RESET;
PRAGMA writable_schema = OFF;

INSERT INTO collections (owner_id, kind, name, display_name, components)
SELECT id, 'birthdays', 'contact_birthdays', 'Birthdays', '["VEVENT"]' FROM users
WHERE NOT EXISTS (SELECT 1 FROM collections c WHERE c.owner_id = users.id AND c.kind = 'birthdays');

CREATE TABLE derived_cursors (
    collection_id INTEGER NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    source_id     INTEGER NOT NULL,
    modseq        INTEGER NOT NULL,
    PRIMARY KEY (collection_id, source_id)
) WITHOUT ROWID;
