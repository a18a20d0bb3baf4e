-- The web UI shows each collection's number of items; counting objects per
-- page view is a scan. collections.object_count is kept by the same
-- statement-level triggers that keep used_bytes (000008), extended to count
-- rows as well as sum sizes, so every write path stays exact without its own
-- bookkeeping.
ALTER TABLE collections ADD COLUMN object_count bigint NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION objects_used_bytes_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE collections c SET used_bytes = c.used_bytes + n.size, object_count = c.object_count + n.n
        FROM (SELECT collection_id, sum(size)::bigint AS size, count(*) AS n FROM new_rows GROUP BY collection_id) n
        WHERE c.id = n.collection_id;
    ELSE
        UPDATE collections c SET used_bytes = c.used_bytes - o.size, object_count = c.object_count - o.n
        FROM (SELECT collection_id, sum(size)::bigint AS size, count(*) AS n FROM old_rows GROUP BY collection_id) o
        WHERE c.id = o.collection_id;
    END IF;
    RETURN NULL;
END
$$;

-- A move between collections also moves one object's count.
CREATE OR REPLACE FUNCTION objects_used_bytes_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.collection_id = NEW.collection_id THEN
        UPDATE collections SET used_bytes = used_bytes + (NEW.size - OLD.size) WHERE id = NEW.collection_id;
    ELSE
        UPDATE collections
        SET used_bytes = used_bytes + CASE WHEN id = NEW.collection_id THEN NEW.size ELSE -OLD.size END,
            object_count = object_count + CASE WHEN id = NEW.collection_id THEN 1 ELSE -1 END
        WHERE id = least(OLD.collection_id, NEW.collection_id);
        UPDATE collections
        SET used_bytes = used_bytes + CASE WHEN id = NEW.collection_id THEN NEW.size ELSE -OLD.size END,
            object_count = object_count + CASE WHEN id = NEW.collection_id THEN 1 ELSE -1 END
        WHERE id = greatest(OLD.collection_id, NEW.collection_id);
    END IF;
    RETURN NULL;
END
$$;

-- Back-fill in the same transaction (see 000008 for why no write slips in).
UPDATE collections c SET object_count = o.n
FROM (SELECT collection_id, count(*) AS n FROM objects GROUP BY collection_id) o
WHERE c.id = o.collection_id;
