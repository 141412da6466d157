-- The schema on PostgreSQL: what SQLite's migrations 001 to 014 built, in
-- one step, with the same tables, columns, checks and indexes. Times are
-- Unix milliseconds. Text is compared byte by byte (COLLATE "C"), as SQLite
-- does, so that IDs and keyset cursors order alike on both engines; where
-- SQLite ignores the case of ASCII letters (NOCASE), nocase() below does.
-- Triggers keep what SQLite's triggers keep: the module bits, the counters
-- and the finality of a deletion.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- SQLite's NOCASE: ASCII letters folded, every other character as it is.
CREATE FUNCTION nocase(text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN translate($1, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz');

-- The name search ignores case in every script, as SQLite's trigram index
-- does: Unicode's lower case, from ICU.
CREATE FUNCTION search_fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN lower($1 COLLATE "und-x-icu");

CREATE TABLE accounts (
    id         TEXT COLLATE "C" PRIMARY KEY,
    name       TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX accounts_name ON accounts (nocase(name));

CREATE TABLE users (
    id             TEXT COLLATE "C" PRIMARY KEY,
    account_id     TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    email          TEXT COLLATE "C" NOT NULL,
    name           TEXT COLLATE "C" NOT NULL,
    role           TEXT COLLATE "C" NOT NULL CHECK (role IN ('admin', 'member')),
    password_hash  TEXT COLLATE "C" NOT NULL,
    created_at     BIGINT NOT NULL,
    hidden_columns TEXT COLLATE "C" NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX users_email ON users (nocase(email));
CREATE INDEX users_account ON users (account_id);

-- Each module of an account owns a bit, 0 to 62, of tokens.module_bits.
CREATE TABLE modules (
    id         TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    name       TEXT COLLATE "C" NOT NULL,
    enabled    INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    bit        INTEGER,
    key        TEXT COLLATE "C" NOT NULL DEFAULT '',
    UNIQUE (account_id, name)
);
CREATE UNIQUE INDEX modules_bit ON modules (account_id, bit);
CREATE UNIQUE INDEX modules_key ON modules (account_id, key);

CREATE FUNCTION modules_bit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT COUNT(*) FROM modules WHERE account_id = NEW.account_id) > 63 THEN
        RAISE EXCEPTION 'an account has at most 63 modules';
    END IF;
    UPDATE modules SET bit = (SELECT COALESCE(MAX(bit), -1) + 1 FROM modules
        WHERE account_id = NEW.account_id AND id != NEW.id) WHERE id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER modules_bit AFTER INSERT ON modules
    FOR EACH ROW EXECUTE FUNCTION modules_bit();

-- A deleted token stays as a tombstone, its secret material wiped.
CREATE TABLE tokens (
    id                TEXT COLLATE "C" PRIMARY KEY,
    account_id        TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    name              TEXT COLLATE "C" NOT NULL,
    description       TEXT COLLATE "C" NOT NULL DEFAULT '',
    status            TEXT COLLATE "C" NOT NULL CHECK (status IN ('active', 'disabled', 'deleted')),
    secret_digest     BYTEA UNIQUE,
    secret_ciphertext BYTEA,
    secret_key_id     TEXT COLLATE "C",
    expires_at        BIGINT,
    created_at        BIGINT NOT NULL,
    created_by        TEXT COLLATE "C" NOT NULL,
    updated_at        BIGINT NOT NULL,
    updated_by        TEXT COLLATE "C" NOT NULL,
    last_access_at    BIGINT,
    deleted_at        BIGINT,
    deleted_by        TEXT COLLATE "C",
    logo              BYTEA,
    module_bits       BIGINT NOT NULL DEFAULT 0,
    CHECK ((status = 'deleted') = (secret_digest IS NULL)),
    CHECK ((status = 'deleted') = (secret_ciphertext IS NULL)),
    CHECK ((status = 'deleted') = (deleted_at IS NOT NULL))
);

-- Every index of the list skips tombstones and ends in id, the keyset
-- cursor's tie-break.
CREATE INDEX tokens_list_created ON tokens (account_id, created_at, id)
    WHERE status != 'deleted';
CREATE INDEX tokens_list_name ON tokens (account_id, nocase(name), id)
    WHERE status != 'deleted';
CREATE INDEX tokens_list_last_access ON tokens (account_id, COALESCE(last_access_at, 0), id)
    WHERE status != 'deleted';
CREATE INDEX tokens_list_status_name ON tokens (account_id, status, nocase(name), id)
    WHERE status != 'deleted';
CREATE INDEX tokens_list_created_by ON tokens (account_id, created_by, created_at, id)
    WHERE status != 'deleted';
CREATE INDEX tokens_list_expires ON tokens (account_id, expires_at)
    WHERE status = 'active' AND expires_at IS NOT NULL;
CREATE INDEX tokens_list_id ON tokens (account_id, id)
    WHERE status != 'deleted';
-- The name search: a substring of three characters or more, ignoring
-- case, found through trigrams.
CREATE INDEX tokens_search ON tokens USING gin (search_fold(name) gin_trgm_ops)
    WHERE status != 'deleted';

CREATE FUNCTION tokens_deleted_is_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'deleted token is final';
END $$;
CREATE TRIGGER tokens_deleted_is_final BEFORE UPDATE ON tokens
    FOR EACH ROW WHEN (OLD.status = 'deleted') EXECUTE FUNCTION tokens_deleted_is_final();

CREATE TABLE token_modules (
    token_id  TEXT COLLATE "C" NOT NULL REFERENCES tokens (id),
    module_id TEXT COLLATE "C" NOT NULL REFERENCES modules (id),
    PRIMARY KEY (token_id, module_id)
);
CREATE INDEX token_modules_module ON token_modules (module_id);

CREATE FUNCTION token_modules_bits() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE tokens SET module_bits = module_bits | (CAST(1 AS BIGINT) << (SELECT bit FROM modules WHERE id = NEW.module_id))
            WHERE id = NEW.token_id AND status != 'deleted';
    ELSE
        UPDATE tokens SET module_bits = module_bits & ~(CAST(1 AS BIGINT) << (SELECT bit FROM modules WHERE id = OLD.module_id))
            WHERE id = OLD.token_id AND status != 'deleted';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER token_modules_bits AFTER INSERT OR DELETE ON token_modules
    FOR EACH ROW EXECUTE FUNCTION token_modules_bits();

-- A deleted token loses its modules, as it loses its secret and logo.
CREATE FUNCTION token_modules_of_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM token_modules WHERE token_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER token_modules_of_deleted AFTER UPDATE OF status ON tokens
    FOR EACH ROW WHEN (NEW.status = 'deleted') EXECUTE FUNCTION token_modules_of_deleted();

-- The unfiltered and status-only totals, kept by triggers; tombstones
-- count as 'deleted'.
CREATE TABLE token_counts (
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    status     TEXT COLLATE "C" NOT NULL,
    n          BIGINT NOT NULL,
    PRIMARY KEY (account_id, status)
);

CREATE FUNCTION token_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE token_counts SET n = n - 1 WHERE account_id = OLD.account_id AND status = OLD.status;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO token_counts (account_id, status, n) VALUES (NEW.account_id, NEW.status, 1)
            ON CONFLICT (account_id, status) DO UPDATE SET n = token_counts.n + 1;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER token_counts_insert AFTER INSERT ON tokens
    FOR EACH ROW EXECUTE FUNCTION token_counts();
CREATE TRIGGER token_counts_status AFTER UPDATE OF status ON tokens
    FOR EACH ROW WHEN (OLD.status != NEW.status) EXECUTE FUNCTION token_counts();
CREATE TRIGGER token_counts_delete AFTER DELETE ON tokens
    FOR EACH ROW EXECUTE FUNCTION token_counts();

CREATE TABLE audit_events (
    id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    token_id   TEXT COLLATE "C" NOT NULL REFERENCES tokens (id),
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    at         BIGINT NOT NULL,
    actor_id   TEXT COLLATE "C" NOT NULL,
    action     TEXT COLLATE "C" NOT NULL,
    detail     TEXT COLLATE "C" NOT NULL DEFAULT '',
    ip         TEXT COLLATE "C" NOT NULL DEFAULT '',
    changes    TEXT COLLATE "C" NOT NULL DEFAULT '',
    user_agent TEXT COLLATE "C" NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_token ON audit_events (token_id, at DESC, id DESC);
CREATE INDEX audit_events_account ON audit_events (account_id, at DESC, id DESC);

-- Sign-in sessions, by a digest of their ID.
CREATE TABLE sessions (
    digest       BYTEA PRIMARY KEY,
    user_id      TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    confirmed_at BIGINT,
    last_seen_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- A known value sealed under the token keys, to refuse other keys at once.
CREATE TABLE key_check (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    digest     BYTEA NOT NULL,
    ciphertext BYTEA NOT NULL,
    key_id     TEXT COLLATE "C" NOT NULL
);
