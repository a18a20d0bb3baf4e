-- DAV:quota-used-bytes (RFC 4331 §3) is asked for on every home PROPFIND by
-- some clients; summing objects.size per request costs a scan of all of a
-- user's objects. Each collection keeps the sum of its members' sizes
-- instead, maintained by triggers on objects so that every write path (PUT,
-- DELETE, MOVE, cascaded deletes) stays exact without its own bookkeeping.
-- Writers already hold the collection row's lock (the modseq bump), so the
-- extra UPDATE waits on nobody new; used_bytes = used_bytes + delta is
-- applied to the newest row version, so concurrent writers never lose one
-- another's change. TRUNCATE objects bypasses the triggers, and a data-only
-- restore (which brings used_bytes along) must disable them
-- (pg_restore --disable-triggers) or count every object twice.
ALTER TABLE collections ADD COLUMN used_bytes bigint NOT NULL DEFAULT 0;

-- Inserts and deletes are counted once per statement, per collection, from
-- the transition table: a row-level trigger would update the collection row
-- once per object, and a statement writing many objects of one collection (a
-- bulk load) would then pile up one row version per object in its own
-- transaction and slow down quadratically (measured: 200,000 objects in
-- three INSERT statements took 10 minutes with row triggers, 6 seconds with
-- these). A cascaded delete of a collection finds the collection row already
-- gone and updates nothing.
CREATE FUNCTION objects_used_bytes_rows() RETURNS trigger
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

CREATE TRIGGER objects_used_bytes_insert
AFTER INSERT ON objects
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION objects_used_bytes_rows();

CREATE TRIGGER objects_used_bytes_delete
AFTER DELETE ON objects
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION objects_used_bytes_rows();

-- Updates change one object at a time (a PUT replacing a body, a MOVE), and
-- a row trigger can skip the ones that change nothing: a rename within a
-- collection, a replacement of the same size.
CREATE FUNCTION objects_used_bytes_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.collection_id = NEW.collection_id THEN
        UPDATE collections SET used_bytes = used_bytes + (NEW.size - OLD.size) WHERE id = NEW.collection_id;
    ELSE
        -- A move between collections: both rows, the lower id first, the
        -- order in which writers of two collections lock them.
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

CREATE TRIGGER objects_used_bytes_update
AFTER UPDATE OF size, collection_id ON objects
FOR EACH ROW
WHEN (OLD.size IS DISTINCT FROM NEW.size OR OLD.collection_id IS DISTINCT FROM NEW.collection_id)
EXECUTE FUNCTION objects_used_bytes_update();

-- Back-fill. The file runs as one transaction; ADD COLUMN holds collections'
-- ACCESS EXCLUSIVE lock and CREATE TRIGGER blocks writes to objects, so no
-- write lands between the triggers' start and this sum.
UPDATE collections c SET used_bytes = o.total
FROM (SELECT collection_id, sum(size) AS total FROM objects GROUP BY collection_id) o
WHERE c.id = o.collection_id;

-- UsedBytes reads sum(used_bytes) WHERE owner_id = $1 through the index of
-- collections_owner_id_kind_name_key, whose first column is owner_id.
