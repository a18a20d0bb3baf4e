DELETE FROM collections WHERE kind IN ('inbox', 'outbox');
ALTER TABLE collections DROP CONSTRAINT collections_kind_check;
ALTER TABLE collections ADD CONSTRAINT collections_kind_check
    CHECK (kind IN ('calendar', 'addressbook'));
