-- What every instance of the server must agree on, kept in the database
-- rather than in one process's memory: the buckets of the limits on failed
-- attempts (so that ten guesses are ten across all instances), and which
-- Add wizard added which token (so that one wizard's Add sent twice, to two
-- instances, adds one token).
CREATE TABLE limit_buckets (
    name       TEXT NOT NULL,    -- the limit
    key        TEXT NOT NULL,    -- what it counts by: an address, a user
    level      REAL NOT NULL,    -- attempts not yet drained away
    at         INTEGER NOT NULL, -- when level was reckoned
    drained_at INTEGER NOT NULL, -- when it will be empty, and may go
    PRIMARY KEY (name, key)
) WITHOUT ROWID;
CREATE INDEX limit_buckets_drained ON limit_buckets (drained_at);

CREATE TABLE token_drafts (
    draft      TEXT PRIMARY KEY, -- the wizard's draft, with its user
    token_id   TEXT NOT NULL REFERENCES tokens (id),
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX token_drafts_created ON token_drafts (created_at);
