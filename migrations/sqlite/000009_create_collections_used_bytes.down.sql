DROP TRIGGER objects_used_bytes_update;
DROP TRIGGER objects_used_bytes_delete;
DROP TRIGGER objects_used_bytes_insert;
ALTER TABLE collections DROP COLUMN used_bytes;
