-- The Birthdays calendar (issue 17): a read-only calendar per user, derived
-- from the BDAY and ANNIVERSARY of the cards in their address books. It is
-- a collection of its own kind in the calendar home; new users get it with
-- their other initial collections, existing users here (on by default).
-- derived_cursors remembers, per derived collection and source address
-- book, the modseq up to which the source's change log has been applied,
-- so that keeping it current reads only what changed. source_id is not a
-- foreign key: the cursor of a deleted address book tells which derived
-- items to remove.
ALTER TABLE collections DROP CONSTRAINT collections_kind_check;
ALTER TABLE collections ADD CONSTRAINT collections_kind_check
    CHECK (kind IN ('calendar', 'addressbook', 'inbox', 'outbox', 'files', 'birthdays'));

INSERT INTO collections (owner_id, kind, name, display_name, components)
SELECT id, 'birthdays', 'contact_birthdays', 'Birthdays', '{VEVENT}' FROM users
ON CONFLICT DO NOTHING;

CREATE TABLE derived_cursors (
    collection_id bigint NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    source_id     bigint NOT NULL,
    modseq        bigint NOT NULL,
    PRIMARY KEY (collection_id, source_id)
);
