-- Usage per token: calls and refused calls per hour, kept 90 days, added
-- to by every instance; the last caller; the last 7 days' calls for the
-- list; why a change was made (SQLite's 016).
CREATE TABLE token_usage (
    token_id TEXT COLLATE "C" NOT NULL,
    hour     BIGINT NOT NULL,
    calls    BIGINT NOT NULL DEFAULT 0,
    refused  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (token_id, hour)
);
CREATE INDEX token_usage_hour ON token_usage (hour, token_id);

ALTER TABLE tokens ADD COLUMN last_caller_ip TEXT;
ALTER TABLE tokens ADD COLUMN last_caller_agent TEXT;
ALTER TABLE tokens ADD COLUMN calls_7d BIGINT NOT NULL DEFAULT 0;
CREATE INDEX tokens_list_calls ON tokens (account_id, calls_7d, id)
    INCLUDE (status, expires_at, created_by, created_at, module_bits)
    WHERE status != 'deleted';

CREATE TABLE usage_batches (
    id TEXT COLLATE "C" PRIMARY KEY,
    at BIGINT NOT NULL
);
CREATE INDEX usage_batches_at ON usage_batches (at);

CREATE TABLE usage_rollup (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    hour BIGINT NOT NULL
);
INSERT INTO usage_rollup (id, hour) VALUES (1, 0);

ALTER TABLE audit_events ADD COLUMN reason TEXT NOT NULL DEFAULT '';
