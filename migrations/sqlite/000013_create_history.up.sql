-- Version history and trash (issue 17). A deleted collection keeps its
-- properties here for the history retention; its members' last versions are
-- in object_versions with trash_id set. components and dead_props are JSON
-- arrays (dead_props of {"namespace", "name", "xml"}).
CREATE TABLE collection_trash (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    collection_id  INTEGER NOT NULL,
    kind           TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    display_name   TEXT    NOT NULL,
    description    TEXT    NOT NULL,
    color          TEXT    NOT NULL,
    color_symbolic TEXT    NOT NULL,
    sort_order     INTEGER,
    timezone       TEXT    NOT NULL,
    components     TEXT    NOT NULL,
    dead_props     TEXT    NOT NULL DEFAULT '[]',
    created        INTEGER NOT NULL,
    deleted_at     INTEGER NOT NULL,
    user_id        INTEGER NOT NULL DEFAULT 0,
    user_agent     TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX collection_trash_owner_id_idx ON collection_trash (owner_id, deleted_at);

-- One row per change of a member: the state the name had before the change
-- (NULL body for a creation), when, by which user and which client. No
-- foreign key to collections: the history outlives a deleted collection.
-- Nothing on the request path reads this table; a write adds one row.
-- Every page a write touches is one more page written to the WAL at commit,
-- which is most of what a write costs here: no AUTOINCREMENT (it updates
-- sqlite_sequence on every insert) and no index that a write updates. With
-- an index on (collection_id, name, id) a replacing PUT cost 1.5 times as
-- much as without history; without it, 1.0 to 1.05 times. Listing an item's
-- history, and pruning, scan the table; neither is on the request path.
CREATE TABLE object_versions (
    id            INTEGER PRIMARY KEY,
    owner_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    collection_id INTEGER NOT NULL,
    trash_id      INTEGER REFERENCES collection_trash (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    op            TEXT    NOT NULL CHECK (op IN ('create', 'update', 'delete')),
    uid           TEXT    NOT NULL DEFAULT '',
    etag          TEXT    NOT NULL DEFAULT '',
    content_type  TEXT    NOT NULL DEFAULT '',
    component     TEXT    NOT NULL DEFAULT '',
    size          INTEGER NOT NULL DEFAULT 0,
    first_start   INTEGER,
    last_end      INTEGER,
    search_text   TEXT    NOT NULL DEFAULT '',
    changed_at    INTEGER NOT NULL,
    user_id       INTEGER NOT NULL DEFAULT 0,
    user_agent    TEXT    NOT NULL DEFAULT '',
    body          BLOB
) STRICT;

CREATE INDEX object_versions_trash_id_idx ON object_versions (trash_id) WHERE trash_id IS NOT NULL;
