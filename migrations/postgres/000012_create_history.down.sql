DROP TABLE object_versions;
DROP TABLE collection_trash;
