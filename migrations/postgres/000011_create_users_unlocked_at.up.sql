-- When the user's failed logins were last forgiven (`davenport user
-- unlock`); NULL when never. Failed-login throttling lives in each server's
-- memory, and the CLI is another process: every request already reads the
-- user's row (store.GetUserCredentials), so a throttled server sees the new
-- value on the next attempt and drops the failures counted before it.
ALTER TABLE users ADD COLUMN unlocked_at timestamptz;
