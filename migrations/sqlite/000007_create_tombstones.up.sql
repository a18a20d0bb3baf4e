-- One row per deleted name, stamped with the modseq of the deletion; removed
-- when the name is re-created and pruned after the retention window.
CREATE TABLE tombstones (
    collection_id INTEGER NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    modseq        INTEGER NOT NULL,
    deleted_at    INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER)),
    PRIMARY KEY (collection_id, name)
) STRICT;

CREATE INDEX tombstones_collection_id_modseq_idx ON tombstones (collection_id, modseq);
CREATE INDEX tombstones_deleted_at_idx ON tombstones (deleted_at);
