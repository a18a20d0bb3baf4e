ALTER TABLE users DROP COLUMN unlocked_at;
