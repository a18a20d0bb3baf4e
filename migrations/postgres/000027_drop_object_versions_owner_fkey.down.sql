DROP TRIGGER users_delete_object_versions ON users;
DROP FUNCTION object_versions_delete_owner();
DELETE FROM object_versions v WHERE NOT EXISTS (SELECT FROM users u WHERE u.id = v.owner_id);
ALTER TABLE object_versions ADD CONSTRAINT object_versions_owner_id_fkey
    FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE CASCADE;
