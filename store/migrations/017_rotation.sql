-- Rotation with a grace period: a token's secret is replaced, and the one
-- it replaced keeps working until previous_until (milliseconds, like every
-- time here), stored as the current one is: a digest to look it up by and a
-- ciphertext, never the secret itself. rotated_at is when the current
-- secret was made; previous_last_at the latest call made with the previous
-- one.
ALTER TABLE tokens ADD COLUMN previous_digest BLOB;
ALTER TABLE tokens ADD COLUMN previous_ciphertext BLOB;
ALTER TABLE tokens ADD COLUMN previous_key_id TEXT;
ALTER TABLE tokens ADD COLUMN previous_until INTEGER;
ALTER TABLE tokens ADD COLUMN previous_last_at INTEGER;
ALTER TABLE tokens ADD COLUMN rotated_at INTEGER;
-- Only tokens with a previous secret are in it: the look-up of a secret
-- that is not a current one, and the sweep of those past their time.
CREATE UNIQUE INDEX tokens_previous_digest ON tokens (previous_digest)
    WHERE previous_digest IS NOT NULL;

-- A tombstone holds no secret material, previous or current: the table's
-- CHECKs say so of the current secret, and SQLite adds none to a table.
CREATE TRIGGER tokens_deleted_has_no_previous
BEFORE UPDATE ON tokens
WHEN NEW.status = 'deleted' AND (NEW.previous_digest IS NOT NULL OR NEW.previous_ciphertext IS NOT NULL)
BEGIN
    SELECT RAISE(ABORT, 'deleted token keeps a previous secret');
END;

-- Calls made with the previous secret, counted apart as well as among
-- calls, so that a person sees when nothing uses it any more.
ALTER TABLE token_usage ADD COLUMN previous INTEGER NOT NULL DEFAULT 0;
