-- The history and trash pages of the web UI (issue 14: every page under
-- 20 ms at 100,000 items) list a collection's newest changes and deleted
-- items: owner_id and collection_id given, newest id first, a few dozen of
-- them. object_versions_item_idx leads with (collection_id, name), so the
-- planner walked the primary key backwards from the newest version of any
-- collection instead, filtering, which for a collection changed long ago
-- is the whole table (190 ms at 100,000 versions). This index serves both
-- lists in id order, from the collection's newest change.
CREATE INDEX object_versions_collection_idx ON object_versions (collection_id, id);
