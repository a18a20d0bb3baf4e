-- Scheduling (RFC 6638 §2.1, §2.2): every user has one schedule inbox and
-- one schedule outbox, collections of their own kinds. New users get them
-- with their other initial collections; existing users get them here.
ALTER TABLE collections DROP CONSTRAINT collections_kind_check;
ALTER TABLE collections ADD CONSTRAINT collections_kind_check
    CHECK (kind IN ('calendar', 'addressbook', 'inbox', 'outbox'));

INSERT INTO collections (owner_id, kind, name, display_name)
SELECT id, 'inbox', 'inbox', 'Inbox' FROM users
ON CONFLICT DO NOTHING;
INSERT INTO collections (owner_id, kind, name, display_name)
SELECT id, 'outbox', 'outbox', 'Outbox' FROM users
ON CONFLICT DO NOTHING;
