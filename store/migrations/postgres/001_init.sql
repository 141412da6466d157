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
-- cursor's tie-break. Each carries the columns the filters read, as on
-- SQLite, so that a count or a filtered walk reads the index alone.
CREATE INDEX tokens_list_created ON tokens (account_id, created_at, id)
    INCLUDE (status, expires_at, created_by, module_bits, last_access_at)
    WHERE status != 'deleted';
CREATE INDEX tokens_list_name ON tokens (account_id, nocase(name), id)
    INCLUDE (status, expires_at, created_by, created_at, module_bits)
    WHERE status != 'deleted';
CREATE INDEX tokens_list_last_access ON tokens (account_id, COALESCE(last_access_at, 0), id)
    INCLUDE (status, expires_at, created_by, created_at, last_access_at, module_bits)
    WHERE status != 'deleted';
CREATE INDEX tokens_list_status_name ON tokens (account_id, status, nocase(name), id)
    INCLUDE (expires_at, created_by, created_at, module_bits)
    WHERE status != 'deleted';
CREATE INDEX tokens_list_created_by ON tokens (account_id, created_by, created_at, id)
    INCLUDE (status, expires_at, module_bits)
    WHERE status != 'deleted';
CREATE INDEX tokens_list_expires ON tokens (account_id, expires_at)
    INCLUDE (created_at, id, name, last_access_at, created_by, module_bits)
    WHERE status = 'active' AND expires_at IS NOT NULL;
CREATE INDEX tokens_list_id ON tokens (account_id, id)
    INCLUDE (status)
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

-- Once per statement, for all its rows: a token's modules come and go
-- together, and a seed adds thousands at once.
CREATE FUNCTION token_modules_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tokens t SET module_bits = t.module_bits | x.bits
        FROM (SELECT a.token_id, bit_or(CAST(1 AS BIGINT) << m.bit) AS bits
            FROM added a JOIN modules m ON m.id = a.module_id GROUP BY a.token_id) x
        WHERE t.id = x.token_id AND t.status != 'deleted';
    RETURN NULL;
END $$;
CREATE TRIGGER token_modules_added AFTER INSERT ON token_modules
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION token_modules_added();

CREATE FUNCTION token_modules_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tokens t SET module_bits = t.module_bits & ~x.bits
        FROM (SELECT r.token_id, bit_or(CAST(1 AS BIGINT) << m.bit) AS bits
            FROM removed r JOIN modules m ON m.id = r.module_id GROUP BY r.token_id) x
        WHERE t.id = x.token_id AND t.status != 'deleted';
    RETURN NULL;
END $$;
CREATE TRIGGER token_modules_removed AFTER DELETE ON token_modules
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION token_modules_removed();

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

-- Once per statement, from its rows before and after: a bulk action or a
-- seed changes one counter once, not once a token.
CREATE FUNCTION token_counts_add(changes jsonb) RETURNS void LANGUAGE sql AS $$
    INSERT INTO token_counts (account_id, status, n)
        SELECT c ->> 'account_id', c ->> 'status', CAST(c ->> 'n' AS BIGINT) FROM jsonb_array_elements(changes) AS c
        ON CONFLICT (account_id, status) DO UPDATE SET n = token_counts.n + excluded.n;
$$;

CREATE FUNCTION token_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM token_counts_add((SELECT jsonb_agg(x) FROM (SELECT account_id, status, COUNT(*) AS n
        FROM new_rows GROUP BY account_id, status) x));
    RETURN NULL;
END $$;
CREATE TRIGGER token_counts_insert AFTER INSERT ON tokens
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION token_counts_inserted();

CREATE FUNCTION token_counts_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM token_counts_add((SELECT jsonb_agg(x) FROM (
        SELECT account_id, status, SUM(n) AS n FROM (
            SELECT o.account_id, o.status, -1 AS n FROM old_rows o JOIN new_rows w ON w.id = o.id WHERE o.status != w.status
            UNION ALL
            SELECT w.account_id, w.status, 1 FROM old_rows o JOIN new_rows w ON w.id = o.id WHERE o.status != w.status
        ) d GROUP BY account_id, status) x));
    RETURN NULL;
END $$;
CREATE TRIGGER token_counts_status AFTER UPDATE ON tokens
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION token_counts_updated();

CREATE FUNCTION token_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM token_counts_add((SELECT jsonb_agg(x) FROM (SELECT account_id, status, -COUNT(*) AS n
        FROM old_rows GROUP BY account_id, status) x));
    RETURN NULL;
END $$;
CREATE TRIGGER token_counts_delete AFTER DELETE ON tokens
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION token_counts_deleted();

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
