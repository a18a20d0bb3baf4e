ALTER TABLE app_passwords DROP COLUMN last_used;
ALTER TABLE users DROP COLUMN last_login;
ALTER TABLE users DROP COLUMN is_admin;
