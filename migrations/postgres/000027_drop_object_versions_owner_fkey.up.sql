-- The foreign key from object_versions.owner_id to users ran a referential
-- check on every kept version, that is on every PUT and DELETE with the
-- history on, and share-locked the owner's users row in each write. The
-- owner is taken from the collection the write has already locked, whose
-- own foreign key keeps the user, so the check proves nothing new. The
-- cascade on the owner's deletion is kept by a trigger on users, which runs
-- only when a user is deleted.
ALTER TABLE object_versions DROP CONSTRAINT object_versions_owner_id_fkey;

CREATE FUNCTION object_versions_delete_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM object_versions WHERE owner_id = OLD.id;
    RETURN OLD;
END
$$;

CREATE TRIGGER users_delete_object_versions AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION object_versions_delete_owner();
