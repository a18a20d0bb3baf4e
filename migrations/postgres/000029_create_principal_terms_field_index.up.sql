-- Principal search reads the terms of one field (a name, an address) in a
-- prefix range. With the term alone as the key, a word every principal has
-- in one field ("example" of every address) made a search of the other
-- field walk every one of those entries, none of them a match, past any
-- LIMIT: 10,000 heap visits at 10,000 users. With the field first, each
-- field's range is its own ordered run of the index, read up to the LIMIT
-- (store/postgres searchQuery).
CREATE INDEX principal_terms_field_term_idx ON principal_terms (field, term) INCLUDE (user_id, group_id);
DROP INDEX principal_terms_term_idx;
