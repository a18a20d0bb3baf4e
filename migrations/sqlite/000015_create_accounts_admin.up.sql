-- The admin role, the last sign-in and app passwords' last use (see the
-- PostgreSQL file). Booleans are INTEGER 0/1 in a STRICT table.
ALTER TABLE users ADD COLUMN is_admin INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_login INTEGER;
ALTER TABLE app_passwords ADD COLUMN last_used INTEGER;
