ALTER TABLE objects DROP COLUMN unscheduled;
