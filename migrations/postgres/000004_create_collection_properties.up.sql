-- Dead properties (RFC 4918 §4.2): the raw XML of the whole property element,
-- keyed by its namespace and local name.
CREATE TABLE collection_properties (
    collection_id bigint NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    namespace     text COLLATE "C" NOT NULL,
    name          text COLLATE "C" NOT NULL,
    xml           text NOT NULL,
    PRIMARY KEY (collection_id, namespace, name)
);
