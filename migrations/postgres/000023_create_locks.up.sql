-- WebDAV write locks (RFC 4918 §6, §7), kept in the database so that several
-- server instances share them. A lock is on a path (root, percent-encoded as
-- the server writes hrefs; a collection's ends in "/"), not on a row: it can
-- cover an unmapped URL, and with depth infinity the members made later.
-- Expired locks are ignored by every query and deleted by the hourly
-- pruning.
CREATE TABLE locks (
    token           text PRIMARY KEY,
    root            text NOT NULL,
    user_id         bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    depth_infinity  boolean NOT NULL,
    shared          boolean NOT NULL,
    owner_xml       text NOT NULL DEFAULT '',
    timeout_seconds bigint NOT NULL,
    created         timestamptz NOT NULL,
    expires         timestamptz NOT NULL
);

CREATE INDEX locks_root_idx ON locks (root);
CREATE INDEX locks_user_id_idx ON locks (user_id);
