-- Dead properties (RFC 4918 §4.2): the raw XML of the whole property element,
-- keyed by its namespace and local name.
CREATE TABLE collection_properties (
    collection_id INTEGER NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    namespace     TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    xml           TEXT    NOT NULL,
    PRIMARY KEY (collection_id, namespace, name)
) STRICT;
