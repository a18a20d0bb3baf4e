DROP TABLE public_links;
ALTER TABLE users DROP COLUMN free_busy_everyone;
DROP TABLE grants;
