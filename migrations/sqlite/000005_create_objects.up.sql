-- Calendar object resources and vCards: the bytes the client sent plus their
-- index. first_start/last_end bound the span of all instances; NULL is
-- unbounded on that side. body is the last column: a listing reads the
-- columns before it and never touches the body's overflow pages.
CREATE TABLE objects (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    collection_id INTEGER NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    uid           TEXT    NOT NULL,
    etag          TEXT    NOT NULL,
    content_type  TEXT    NOT NULL DEFAULT '',
    component     TEXT    NOT NULL DEFAULT '',
    size          INTEGER NOT NULL,
    modseq        INTEGER NOT NULL,
    first_start   INTEGER,
    last_end      INTEGER,
    search_text   TEXT    NOT NULL DEFAULT '',
    created       INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER)),
    updated       INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER)),
    body          BLOB    NOT NULL,
    CONSTRAINT objects_collection_id_name_key UNIQUE (collection_id, name),
    CONSTRAINT objects_collection_id_uid_key UNIQUE (collection_id, uid),
    CONSTRAINT objects_span_check CHECK (first_start <= last_end)
) STRICT;

-- sync-collection: members changed after a modseq.
CREATE INDEX objects_collection_id_modseq_idx ON objects (collection_id, modseq);
