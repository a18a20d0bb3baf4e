DROP INDEX IF EXISTS objects_search_text_trgm_idx;
-- The extension stays: other objects in the database may use it, and it
-- holds no data.
