-- Shares of a collection with one user or one group (exactly one is set).
-- A user share is an invitation the sharee accepts or declines; a group
-- share is in force for every member. share_views keeps each sharee's own
-- name and colour for a collection shared with them.
CREATE TABLE shares (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    collection_id INTEGER NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    user_id       INTEGER REFERENCES users (id) ON DELETE CASCADE,
    group_id      INTEGER REFERENCES groups (id) ON DELETE CASCADE,
    access        TEXT    NOT NULL CHECK (access IN ('read', 'read-write')),
    status        TEXT    NOT NULL CHECK (status IN ('pending', 'accepted', 'declined')),
    created       INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER)),
    CHECK ((user_id IS NULL) <> (group_id IS NULL)),
    CONSTRAINT shares_collection_id_user_id_key UNIQUE (collection_id, user_id),
    CONSTRAINT shares_collection_id_group_id_key UNIQUE (collection_id, group_id)
) STRICT;

CREATE INDEX shares_user_id_idx ON shares (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX shares_group_id_idx ON shares (group_id) WHERE group_id IS NOT NULL;

CREATE TABLE share_views (
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    collection_id INTEGER NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    display_name  TEXT    NOT NULL DEFAULT '',
    color         TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (user_id, collection_id)
) STRICT;
