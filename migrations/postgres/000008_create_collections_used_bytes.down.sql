DROP TRIGGER objects_used_bytes_update ON objects;
DROP TRIGGER objects_used_bytes_delete ON objects;
DROP TRIGGER objects_used_bytes_insert ON objects;
DROP FUNCTION objects_used_bytes_update();
DROP FUNCTION objects_used_bytes_rows();
ALTER TABLE collections DROP COLUMN used_bytes;
