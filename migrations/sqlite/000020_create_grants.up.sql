-- Grants of a user's whole calendar account to another user or a group
-- (exactly one is set): free-busy (see their busy time), read (CalendarServer
-- calendar-proxy-read: read every calendar) or read-write
-- (calendar-proxy-write). users.free_busy_everyone tells whether every user
-- of the server may see the user's busy time (the default, as before).
CREATE TABLE grants (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_id  INTEGER REFERENCES users (id) ON DELETE CASCADE,
    group_id INTEGER REFERENCES groups (id) ON DELETE CASCADE,
    access   TEXT    NOT NULL CHECK (access IN ('free-busy', 'read', 'read-write')),
    created  INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER)),
    CHECK ((user_id IS NULL) <> (group_id IS NULL)),
    CHECK (user_id IS NOT owner_id),
    CONSTRAINT grants_owner_id_user_id_key UNIQUE (owner_id, user_id),
    CONSTRAINT grants_owner_id_group_id_key UNIQUE (owner_id, group_id)
) STRICT;

CREATE INDEX grants_user_id_idx ON grants (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX grants_group_id_idx ON grants (group_id) WHERE group_id IS NOT NULL;

ALTER TABLE users ADD COLUMN free_busy_everyone INTEGER NOT NULL DEFAULT 1;

-- Public read-only subscription links to a collection. The token is the
-- secret of the URL; it is found by its SHA-256, so the index compares
-- hashes, never the secret itself.
CREATE TABLE public_links (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    collection_id INTEGER NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    token         TEXT    NOT NULL,
    token_hash    BLOB    NOT NULL,
    created       INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER)),
    CONSTRAINT public_links_token_hash_key UNIQUE (token_hash)
) STRICT;

CREATE INDEX public_links_collection_id_idx ON public_links (collection_id);
