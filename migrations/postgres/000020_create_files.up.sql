-- Plain WebDAV folders (RFC 4918): every user has a files home, the
-- collection of kind 'files' named '' (made with new users, here for the
-- users there are); folders below it are collections named by their path
-- ("a/b"). Files are objects, and their dead properties live in
-- object_properties, beside the collections' own.
ALTER TABLE collections DROP CONSTRAINT collections_kind_check;
ALTER TABLE collections ADD CONSTRAINT collections_kind_check
    CHECK (kind IN ('calendar', 'addressbook', 'inbox', 'outbox', 'files'));

INSERT INTO collections (owner_id, kind, name, display_name)
SELECT id, 'files', '', 'Files' FROM users
ON CONFLICT DO NOTHING;

-- Dead properties of objects (RFC 4918 §4.2), as collection_properties.
CREATE TABLE object_properties (
    object_id bigint NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
    namespace text COLLATE "C" NOT NULL,
    name      text COLLATE "C" NOT NULL,
    xml       text NOT NULL,
    PRIMARY KEY (object_id, namespace, name)
);
