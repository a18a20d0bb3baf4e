-- addressbook-query text-match narrowing with a trigram index. A match is a
-- substring test ("contains", and every other match type implies one), which
-- no B-tree can search: without this index each query read the search text
-- of every card in the address book.
--
-- A contentless FTS5 table (rowid = objects.id) indexes every trigram of
-- each non-empty search_text. search_text is already case-folded
-- (carddav.Normalize) and queries fold their terms the same way, so the
-- tokenizer compares exactly (case_sensitive 1). A phrase of three or more
-- characters finds the rows containing it; the query re-checks the exact
-- substring on objects (store/sqlite listQuery), and shorter terms, which
-- have no trigram, fall back to reading the collection.
CREATE VIRTUAL TABLE objects_search USING fts5 (
    text,
    content = '',
    contentless_delete = 1,
    tokenize = 'trigram case_sensitive 1',
    detail = 'none'
);

INSERT INTO objects_search (rowid, text)
SELECT id, search_text FROM objects WHERE search_text <> '';

CREATE TRIGGER objects_search_insert AFTER INSERT ON objects WHEN new.search_text <> '' BEGIN
    INSERT INTO objects_search (rowid, text) VALUES (new.id, new.search_text);
END;

CREATE TRIGGER objects_search_update AFTER UPDATE OF search_text ON objects BEGIN
    DELETE FROM objects_search WHERE rowid = old.id;
    INSERT INTO objects_search (rowid, text) SELECT new.id, new.search_text WHERE new.search_text <> '';
END;

CREATE TRIGGER objects_search_delete AFTER DELETE ON objects BEGIN
    DELETE FROM objects_search WHERE rowid = old.id;
END;
