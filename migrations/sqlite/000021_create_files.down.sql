DROP TABLE object_properties;
DELETE FROM collections WHERE kind = 'files';
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(sql, 'CHECK (kind IN (''calendar'', ''addressbook'', ''inbox'', ''outbox'', ''files''))',
                       'CHECK (kind IN (''calendar'', ''addressbook'', ''inbox'', ''outbox''))')
WHERE type = 'table' AND name = 'collections';
PRAGMA writable_schema = RESET;
PRAGMA writable_schema = OFF;
