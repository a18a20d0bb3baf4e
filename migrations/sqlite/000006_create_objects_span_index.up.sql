-- calendar-query time-range narrowing. Most stored events lie in the past, so
-- the end of the span is the selective bound; indexing it with NULL (an
-- open-ended rule) mapped to the largest integer turns "last_end IS NULL OR
-- last_end >= ?" into one range search, which the planner picks without
-- statistics. Measured on 20,000 events over ten years, one-month window:
-- 4-7 ms, against 18-30 ms with no time index, 6-9 ms with a plain
-- (collection_id, last_end) index, 40-80 ms with one on first_start, and
-- 6-8 ms with an R*Tree that would need triggers to stay in step.
-- Queries must use the same expression (store/sqlite listQuery).
CREATE INDEX objects_span_idx ON objects (collection_id, coalesce(last_end, 9223372036854775807));
