-- Calendars and address books. modseq is the last change stamped on a member
-- (RFC 6578 sync-token, getctag); pruned_modseq is the highest modseq whose
-- tombstones may be gone. components is a JSON array of component names
-- (PostgreSQL: text[]).
CREATE TABLE collections (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind           TEXT    NOT NULL CHECK (kind IN ('calendar', 'addressbook')),
    name           TEXT    NOT NULL,
    display_name   TEXT    NOT NULL DEFAULT '',
    description    TEXT    NOT NULL DEFAULT '',
    color          TEXT    NOT NULL DEFAULT '',
    color_symbolic TEXT    NOT NULL DEFAULT '',
    sort_order     INTEGER,
    timezone       TEXT    NOT NULL DEFAULT '',
    components     TEXT    NOT NULL DEFAULT '[]' CHECK (json_type(components) = 'array'),
    modseq         INTEGER NOT NULL DEFAULT 0,
    pruned_modseq  INTEGER NOT NULL DEFAULT 0,
    created        INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER)),
    updated        INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER)),
    CONSTRAINT collections_owner_id_kind_name_key UNIQUE (owner_id, kind, name)
) STRICT;
