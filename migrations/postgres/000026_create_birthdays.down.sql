DROP TABLE derived_cursors;
DELETE FROM collections WHERE kind = 'birthdays';
ALTER TABLE collections DROP CONSTRAINT collections_kind_check;
ALTER TABLE collections ADD CONSTRAINT collections_kind_check
    CHECK (kind IN ('calendar', 'addressbook', 'inbox', 'outbox', 'files'));
