-- The admin role (web UI administration pages), the last sign-in shown to
-- administrators, and when each app password last authenticated (written at
-- most once a minute per app password).
ALTER TABLE users ADD COLUMN is_admin boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN last_login timestamptz;
ALTER TABLE app_passwords ADD COLUMN last_used timestamptz;
