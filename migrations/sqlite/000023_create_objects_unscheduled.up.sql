-- A calendar object without an ORGANIZER is not a scheduling object
-- resource (RFC 6638 §3.1). The writer marks it so, and a later overwrite or
-- delete skips reading the old body for scheduling. Existing rows are not
-- known to be plain: 0 makes them read, as before.
ALTER TABLE objects ADD COLUMN unscheduled INTEGER NOT NULL DEFAULT 0 CHECK (unscheduled IN (0, 1));
