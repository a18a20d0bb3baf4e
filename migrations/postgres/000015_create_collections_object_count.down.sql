CREATE OR REPLACE FUNCTION objects_used_bytes_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE collections c SET used_bytes = c.used_bytes + n.size
        FROM (SELECT collection_id, sum(size)::bigint AS size FROM new_rows GROUP BY collection_id) n
        WHERE c.id = n.collection_id;
    ELSE
        UPDATE collections c SET used_bytes = c.used_bytes - o.size
        FROM (SELECT collection_id, sum(size)::bigint AS size FROM old_rows GROUP BY collection_id) o
        WHERE c.id = o.collection_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION objects_used_bytes_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.collection_id = NEW.collection_id THEN
        UPDATE collections SET used_bytes = used_bytes + (NEW.size - OLD.size) WHERE id = NEW.collection_id;
    ELSE
        UPDATE collections
        SET used_bytes = used_bytes + CASE WHEN id = NEW.collection_id THEN NEW.size ELSE -OLD.size END
        WHERE id = least(OLD.collection_id, NEW.collection_id);
        UPDATE collections
        SET used_bytes = used_bytes + CASE WHEN id = NEW.collection_id THEN NEW.size ELSE -OLD.size END
        WHERE id = greatest(OLD.collection_id, NEW.collection_id);
    END IF;
    RETURN NULL;
END
$$;

ALTER TABLE collections DROP COLUMN object_count;
