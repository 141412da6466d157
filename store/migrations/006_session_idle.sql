-- A session ends after a while without use as well as at its absolute
-- expiry: last_seen_at is when it was last used, to the minute.
ALTER TABLE sessions ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET last_seen_at = created_at;
