-- What every instance must agree on: the limits' buckets and the Add
-- wizards' tokens (SQLite's 015).
CREATE TABLE limit_buckets (
    name       TEXT COLLATE "C" NOT NULL,
    key        TEXT COLLATE "C" NOT NULL,
    level      DOUBLE PRECISION NOT NULL,
    at         BIGINT NOT NULL,
    drained_at BIGINT NOT NULL,
    PRIMARY KEY (name, key)
);
CREATE INDEX limit_buckets_drained ON limit_buckets (drained_at);

CREATE TABLE token_drafts (
    draft      TEXT COLLATE "C" PRIMARY KEY,
    token_id   TEXT COLLATE "C" NOT NULL REFERENCES tokens (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX token_drafts_created ON token_drafts (created_at);
