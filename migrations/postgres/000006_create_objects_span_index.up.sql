-- calendar-query time-range narrowing: the instance span as a closed range,
-- NULL bounds being infinite, searched with &&.
CREATE INDEX objects_span_idx ON objects USING gist (tstzrange(first_start, last_end, '[]'));
