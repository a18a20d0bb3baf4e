DROP TABLE derived_cursors;
DELETE FROM collections WHERE kind = 'birthdays';
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(sql, 'CHECK (kind IN (''calendar'', ''addressbook'', ''inbox'', ''outbox'', ''files'', ''birthdays''))',
                       'CHECK (kind IN (''calendar'', ''addressbook'', ''inbox'', ''outbox'', ''files''))')
WHERE type = 'table' AND name = 'collections';
PRAGMA writable_schema = RESET;
PRAGMA writable_schema = OFF;
