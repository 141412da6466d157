-- Accounts, their people and modules, and the API tokens they own.
CREATE TABLE accounts (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (id),
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX users_account ON users (account_id);

CREATE TABLE modules (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    name       TEXT NOT NULL,
    enabled    INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    UNIQUE (account_id, name)
);

-- A deleted token stays as a tombstone so that its history survives; its
-- secret material is wiped (the CHECK makes a deleted row with a digest, or a
-- live row without one, impossible).
CREATE TABLE tokens (
    id                TEXT PRIMARY KEY,
    account_id        TEXT NOT NULL REFERENCES accounts (id),
    name              TEXT NOT NULL,
    description       TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL CHECK (status IN ('active', 'disabled', 'deleted')),
    secret_digest     BLOB UNIQUE,
    secret_ciphertext BLOB,
    secret_key_id     TEXT,
    expires_at        INTEGER,
    created_at        INTEGER NOT NULL,
    created_by        TEXT NOT NULL,
    updated_at        INTEGER NOT NULL,
    updated_by        TEXT NOT NULL,
    last_access_at    INTEGER,
    deleted_at        INTEGER,
    deleted_by        TEXT,
    CHECK ((status = 'deleted') = (secret_digest IS NULL)),
    CHECK ((status = 'deleted') = (secret_ciphertext IS NULL)),
    CHECK ((status = 'deleted') = (deleted_at IS NOT NULL))
);
CREATE INDEX tokens_account_created ON tokens (account_id, created_at DESC, id DESC)
    WHERE status != 'deleted';

-- Deleted is terminal: no statement may bring a tombstone back.
CREATE TRIGGER tokens_deleted_is_final
BEFORE UPDATE ON tokens
WHEN OLD.status = 'deleted'
BEGIN
    SELECT RAISE(ABORT, 'deleted token is final');
END;

CREATE TABLE token_modules (
    token_id  TEXT NOT NULL REFERENCES tokens (id),
    module_id TEXT NOT NULL REFERENCES modules (id),
    PRIMARY KEY (token_id, module_id)
) WITHOUT ROWID;
CREATE INDEX token_modules_module ON token_modules (module_id);

CREATE TABLE audit_events (
    id         INTEGER PRIMARY KEY,
    token_id   TEXT NOT NULL REFERENCES tokens (id),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    at         INTEGER NOT NULL,
    actor_id   TEXT NOT NULL,
    action     TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT '',
    ip         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_token ON audit_events (token_id, at DESC, id DESC);
