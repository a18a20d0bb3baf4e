DELETE FROM collections WHERE kind IN ('inbox', 'outbox');
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(sql, 'CHECK (kind IN (''calendar'', ''addressbook'', ''inbox'', ''outbox''))',
                       'CHECK (kind IN (''calendar'', ''addressbook''))')
WHERE type = 'table' AND name = 'collections';
PRAGMA writable_schema = RESET;
PRAGMA writable_schema = OFF;
