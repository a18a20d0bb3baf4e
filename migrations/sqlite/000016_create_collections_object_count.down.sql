DROP TRIGGER objects_count_update;
DROP TRIGGER objects_count_delete;
DROP TRIGGER objects_count_insert;
ALTER TABLE collections DROP COLUMN object_count;
