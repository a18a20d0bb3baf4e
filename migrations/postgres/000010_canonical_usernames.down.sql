ALTER TABLE users DROP CONSTRAINT users_username_lower;
