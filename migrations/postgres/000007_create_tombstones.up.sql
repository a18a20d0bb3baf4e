-- One row per deleted name, stamped with the modseq of the deletion; removed
-- when the name is re-created and pruned after the retention window.
CREATE TABLE tombstones (
    collection_id bigint NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    name          text COLLATE "C" NOT NULL,
    modseq        bigint NOT NULL,
    deleted_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (collection_id, name)
);

CREATE INDEX tombstones_collection_id_modseq_idx ON tombstones (collection_id, modseq);
CREATE INDEX tombstones_deleted_at_idx ON tombstones (deleted_at);
