-- DAV:quota-used-bytes (RFC 4331 §3) is asked for on every home PROPFIND by
-- some clients; summing objects.size per request costs a scan of all of a
-- user's objects. Each collection keeps the sum of its members' sizes
-- instead, maintained by triggers on objects so that every write path (PUT,
-- DELETE, MOVE, cascaded deletes) stays exact without its own bookkeeping.
-- There is one writer at a time, so the triggers need no ordering.
ALTER TABLE collections ADD COLUMN used_bytes INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER objects_used_bytes_insert AFTER INSERT ON objects
BEGIN
    UPDATE collections SET used_bytes = used_bytes + NEW.size WHERE id = NEW.collection_id;
END;

-- In a cascaded delete the collection row goes too; what this leaves in it
-- does not matter.
CREATE TRIGGER objects_used_bytes_delete AFTER DELETE ON objects
BEGIN
    UPDATE collections SET used_bytes = used_bytes - OLD.size WHERE id = OLD.collection_id;
END;

-- A rename within a collection or a replacement of the same size changes
-- nothing and skips the trigger; a move between collections updates both.
CREATE TRIGGER objects_used_bytes_update AFTER UPDATE OF size, collection_id ON objects
WHEN OLD.size IS NOT NEW.size OR OLD.collection_id IS NOT NEW.collection_id
BEGIN
    UPDATE collections SET used_bytes = used_bytes - OLD.size WHERE id = OLD.collection_id;
    UPDATE collections SET used_bytes = used_bytes + NEW.size WHERE id = NEW.collection_id;
END;

-- Back-fill, in the same transaction as the triggers.
UPDATE collections SET used_bytes = o.total
FROM (SELECT collection_id, sum(size) AS total FROM objects GROUP BY collection_id) AS o
WHERE collections.id = o.collection_id;

-- UsedBytes reads sum(used_bytes) WHERE owner_id = $1 through the index of
-- collections_owner_id_kind_name_key, whose first column is owner_id.
