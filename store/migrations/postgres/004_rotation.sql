-- Rotation with a grace period (SQLite's 017).
ALTER TABLE tokens ADD COLUMN previous_digest BYTEA;
ALTER TABLE tokens ADD COLUMN previous_ciphertext BYTEA;
ALTER TABLE tokens ADD COLUMN previous_key_id TEXT COLLATE "C";
ALTER TABLE tokens ADD COLUMN previous_until BIGINT;
ALTER TABLE tokens ADD COLUMN previous_last_at BIGINT;
ALTER TABLE tokens ADD COLUMN rotated_at BIGINT;
CREATE UNIQUE INDEX tokens_previous_digest ON tokens (previous_digest)
    WHERE previous_digest IS NOT NULL;
ALTER TABLE tokens ADD CONSTRAINT tokens_deleted_has_no_previous
    CHECK (status != 'deleted' OR (previous_digest IS NULL AND previous_ciphertext IS NULL));

ALTER TABLE token_usage ADD COLUMN previous BIGINT NOT NULL DEFAULT 0;
