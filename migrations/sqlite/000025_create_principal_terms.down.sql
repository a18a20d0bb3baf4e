DROP INDEX users_email_lower_idx;
DROP TABLE principal_terms;
