-- The token lifecycle: a logo per token, what an update changed, and when a
-- session last confirmed its user's password (revealing a secret asks again
-- after a while).
ALTER TABLE tokens ADD COLUMN logo BLOB;
ALTER TABLE audit_events ADD COLUMN changes TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN confirmed_at INTEGER;
