-- calendar-query time-range narrowing with an interval index. The B-tree
-- index of migration 6 could search only one bound of the span: with events
-- spread over past and future, "last_end >= start" still matched every event
-- that ends after the window starts, about half the collection, and
-- "first_start <= end" was then checked row by row. An R*Tree searches both
-- bounds at once.
--
-- One entry per object (object_id = objects.id) in two dimensions: the
-- collection, as a degenerate interval, and the instance span in
-- microseconds, NULL (unbounded) mapped to ±3e38. The module stores 32-bit
-- floats and rounds each lower bound down and each upper bound up, so a
-- search returns a superset of the matching rows; the query re-checks the
-- exact columns of objects (store/sqlite listQuery). Cards and to-dos without
-- dates are entered unbounded, so every range finds them, as it must.
CREATE VIRTUAL TABLE objects_span USING rtree (
    object_id,
    collection_lo, collection_hi,
    span_lo, span_hi
);

INSERT INTO objects_span (object_id, collection_lo, collection_hi, span_lo, span_hi)
SELECT id, collection_id, collection_id, coalesce(first_start, -3e38), coalesce(last_end, 3e38)
FROM objects;

CREATE TRIGGER objects_span_insert AFTER INSERT ON objects BEGIN
    INSERT INTO objects_span (object_id, collection_lo, collection_hi, span_lo, span_hi)
    VALUES (new.id, new.collection_id, new.collection_id,
            coalesce(new.first_start, -3e38), coalesce(new.last_end, 3e38));
END;

CREATE TRIGGER objects_span_update AFTER UPDATE OF collection_id, first_start, last_end ON objects BEGIN
    UPDATE objects_span
    SET collection_lo = new.collection_id, collection_hi = new.collection_id,
        span_lo = coalesce(new.first_start, -3e38), span_hi = coalesce(new.last_end, 3e38)
    WHERE object_id = new.id;
END;

CREATE TRIGGER objects_span_delete AFTER DELETE ON objects BEGIN
    DELETE FROM objects_span WHERE object_id = old.id;
END;

-- The one-sided index is no longer searched; dropping it saves a write per PUT.
DROP INDEX objects_span_idx;
