-- Usage per token. Calls, and refused calls (the token is disabled or
-- expired), are counted per hour and kept 90 days. Each instance of the
-- server adds what it saw to these counts in batches, so that the counts
-- of several instances add up and never overwrite one another.
CREATE TABLE token_usage (
    token_id TEXT NOT NULL,
    hour     INTEGER NOT NULL, -- hours since 1970-01-01 00:00 UTC
    calls    INTEGER NOT NULL DEFAULT 0,
    refused  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (token_id, hour)
) WITHOUT ROWID;
-- The hourly roll-up finds the hours that leave the 7-day window, and those
-- past 90 days, by hour.
CREATE INDEX token_usage_hour ON token_usage (hour, token_id);

-- Who called last, beside last access: the address and the client's name.
ALTER TABLE tokens ADD COLUMN last_caller_ip TEXT;
ALTER TABLE tokens ADD COLUMN last_caller_agent TEXT;
-- The calls of the last 7 days (168 whole hours), which the list shows and
-- sorts by: brought up to date with every batch of counts, and each hour
-- for the tokens whose oldest counted hour has left the window.
ALTER TABLE tokens ADD COLUMN calls_7d INTEGER NOT NULL DEFAULT 0;
CREATE INDEX tokens_list_calls ON tokens (account_id, calls_7d, id,
    status, expires_at, created_by, created_at, module_bits)
    WHERE status != 'deleted';

-- The batches written, by the ID their writer gave them, kept a day: a
-- batch sent again because its writer could not tell whether the first
-- send was written (its commit's answer was lost) is not added twice.
CREATE TABLE usage_batches (
    id TEXT PRIMARY KEY,
    at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX usage_batches_at ON usage_batches (at);

-- The hour up to which the roll-up has run, on whichever instance ran it.
CREATE TABLE usage_rollup (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    hour INTEGER NOT NULL
);
INSERT INTO usage_rollup (id, hour) VALUES (1, 0);

-- Why a person made a change, when they said: "Rotated after a leak".
ALTER TABLE audit_events ADD COLUMN reason TEXT NOT NULL DEFAULT '';
