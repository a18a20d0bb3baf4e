-- addressbook-query text-match narrowing with a trigram index. A match is a
-- substring test ("contains", and every other match type implies one), which
-- no B-tree can search: without this index each query read the search text
-- of every card in the address book. pg_trgm's GIN operator class answers
-- LIKE '%term%' for terms of three or more characters (store/postgres
-- listQuery); the result is exact, since LIKE is.
--
-- pg_trgm ships with PostgreSQL (contrib) and is a trusted extension, so the
-- database owner may create it. It goes into the schema public, where other
-- users of the database find it too, unless it is already installed
-- elsewhere. Where it cannot be created (a role without the right, a build
-- without contrib), the migration still succeeds without the index, and text
-- searches read whole address books as before. A concurrent creation by
-- another migrating database user is not an error.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
EXCEPTION
    WHEN unique_violation THEN
        NULL;
    WHEN insufficient_privilege OR undefined_file OR undefined_object OR invalid_schema_name OR feature_not_supported THEN
        RAISE WARNING 'davenport: pg_trgm is unavailable (%); addressbook-query text searches will read whole address books', SQLERRM;
END
$$;

DO $$
DECLARE
    ext_schema name;
BEGIN
    SELECT n.nspname INTO ext_schema
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'pg_trgm';
    IF ext_schema IS NOT NULL THEN
        EXECUTE format('CREATE INDEX objects_search_text_trgm_idx ON objects USING gin (search_text %I.gin_trgm_ops) WITH (fastupdate = off) WHERE search_text <> %L', ext_schema, '');
    END IF;
END
$$;
