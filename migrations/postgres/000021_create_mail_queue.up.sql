-- iMIP (RFC 6047): scheduling messages for calendar users who are not users
-- of this server go out by email. Each is queued here in the transaction of
-- the write that caused it, so a relay outage or a crash loses nothing; the
-- sender claims due rows (FOR UPDATE SKIP LOCKED, so two instances never
-- claim the same one), and deletes a row once it is sent or given up.
CREATE TABLE mail_queue (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    uid          text NOT NULL,
    sender       text NOT NULL,
    recipient    text NOT NULL,
    method       text NOT NULL,
    body         bytea NOT NULL,
    attempts     integer NOT NULL DEFAULT 0,
    next_attempt timestamptz NOT NULL DEFAULT now(),
    last_error   text NOT NULL DEFAULT '',
    created      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mail_queue_next_attempt_idx ON mail_queue (next_attempt);
CREATE INDEX mail_queue_user_id_idx ON mail_queue (user_id);
