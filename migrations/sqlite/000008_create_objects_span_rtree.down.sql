CREATE INDEX objects_span_idx ON objects (collection_id, coalesce(last_end, 9223372036854775807));
DROP TRIGGER objects_span_delete;
DROP TRIGGER objects_span_update;
DROP TRIGGER objects_span_insert;
DROP TABLE objects_span;
