-- Every Davenport process on this database keeps an in-memory cache of
-- successful password checks. When a user's password or name changes, the
-- user is deleted, or an app password is revoked or replaced, these
-- triggers tell every process at once (LISTEN/NOTIFY, delivered on commit),
-- whichever process or command made the change: each drops that user's
-- cached checks. The payload is "SCHEMA USER_ID", so that deployments (and
-- tests) in other schemas of one database ignore each other; user id 0
-- means every user (TRUNCATE, as a restore does).
CREATE FUNCTION notify_credentials() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    uid bigint := 0;
BEGIN
    IF TG_LEVEL = 'ROW' THEN
        IF TG_TABLE_NAME = 'users' THEN
            uid := OLD.id;
        ELSE
            uid := OLD.user_id;
        END IF;
    END IF;
    PERFORM pg_notify('davenport_credentials', TG_TABLE_SCHEMA || ' ' || uid);
    RETURN NULL;
END
$$;

CREATE TRIGGER users_notify_credentials
    AFTER UPDATE OF password_hash, username ON users FOR EACH ROW
    WHEN (OLD.password_hash IS DISTINCT FROM NEW.password_hash OR OLD.username IS DISTINCT FROM NEW.username)
    EXECUTE FUNCTION notify_credentials();
CREATE TRIGGER users_delete_notify_credentials
    AFTER DELETE ON users FOR EACH ROW EXECUTE FUNCTION notify_credentials();
CREATE TRIGGER users_truncate_notify_credentials
    AFTER TRUNCATE ON users FOR EACH STATEMENT EXECUTE FUNCTION notify_credentials();

CREATE TRIGGER app_passwords_notify_credentials
    AFTER UPDATE OF password_hash, user_id OR DELETE ON app_passwords FOR EACH ROW
    EXECUTE FUNCTION notify_credentials();
CREATE TRIGGER app_passwords_truncate_notify_credentials
    AFTER TRUNCATE ON app_passwords FOR EACH STATEMENT EXECUTE FUNCTION notify_credentials();
