CREATE INDEX principal_terms_term_idx ON principal_terms (term) INCLUDE (field, user_id, group_id);
DROP INDEX principal_terms_field_term_idx;
