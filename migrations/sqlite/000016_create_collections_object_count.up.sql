-- collections.object_count, kept by triggers beside used_bytes (see the
-- PostgreSQL file): the web UI shows item counts without a scan.
ALTER TABLE collections ADD COLUMN object_count INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER objects_count_insert AFTER INSERT ON objects
BEGIN
    UPDATE collections SET object_count = object_count + 1 WHERE id = NEW.collection_id;
END;

CREATE TRIGGER objects_count_delete AFTER DELETE ON objects
BEGIN
    UPDATE collections SET object_count = object_count - 1 WHERE id = OLD.collection_id;
END;

CREATE TRIGGER objects_count_update AFTER UPDATE OF collection_id ON objects
WHEN OLD.collection_id IS NOT NEW.collection_id
BEGIN
    UPDATE collections SET object_count = object_count - 1 WHERE id = OLD.collection_id;
    UPDATE collections SET object_count = object_count + 1 WHERE id = NEW.collection_id;
END;

UPDATE collections SET object_count = o.n
FROM (SELECT collection_id, count(*) AS n FROM objects GROUP BY collection_id) AS o
WHERE collections.id = o.collection_id;
