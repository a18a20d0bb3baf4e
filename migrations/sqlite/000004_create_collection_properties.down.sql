DROP TABLE collection_properties;
