DROP TRIGGER objects_search_delete;
DROP TRIGGER objects_search_update;
DROP TRIGGER objects_search_insert;
DROP TABLE objects_search;
