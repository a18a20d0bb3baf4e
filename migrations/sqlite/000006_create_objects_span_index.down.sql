DROP INDEX objects_span_idx;
