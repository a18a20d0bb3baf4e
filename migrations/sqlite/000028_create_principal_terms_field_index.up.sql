-- Principal search by field, then prefix range: see
-- migrations/postgres/000028_create_principal_terms_field_index.
CREATE INDEX principal_terms_field_term_idx ON principal_terms (field, term, user_id, group_id);
DROP INDEX principal_terms_term_idx;
