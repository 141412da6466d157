-- The list at scale: an index for every sort order and filter the list
-- offers, counters for the unfiltered total, and a trigram index for searching
-- names. Every index skips tombstones (queries repeat status != 'deleted' so
-- that SQLite can prove they apply). Each sort key is followed by id, the
-- tie-break of the keyset cursor.

-- Which modules a token has, as bits of one integer, so that the module
-- filter is read from an index like every other filter rather than joined
-- row by row (a join costs a microsecond or more a row, a step along an
-- index a tenth of that). Each module of an account owns a bit, 0 to 62;
-- triggers on token_modules keep the bits, so no write path can forget to.
ALTER TABLE modules ADD COLUMN bit INTEGER;
UPDATE modules SET bit = (SELECT COUNT(*) FROM modules m
    WHERE m.account_id = modules.account_id AND m.rowid < modules.rowid);
CREATE UNIQUE INDEX modules_bit ON modules (account_id, bit);

CREATE TRIGGER modules_bit AFTER INSERT ON modules
BEGIN
    SELECT RAISE(ABORT, 'an account has at most 63 modules')
        WHERE (SELECT COUNT(*) FROM modules WHERE account_id = NEW.account_id) > 63;
    UPDATE modules SET bit = (SELECT COALESCE(MAX(bit), -1) + 1 FROM modules
        WHERE account_id = NEW.account_id AND id != NEW.id) WHERE id = NEW.id;
END;

ALTER TABLE tokens ADD COLUMN module_bits INTEGER NOT NULL DEFAULT 0;
UPDATE tokens SET module_bits = (SELECT COALESCE(SUM(1 << m.bit), 0)
    FROM token_modules tm JOIN modules m ON m.id = tm.module_id WHERE tm.token_id = tokens.id)
    WHERE status != 'deleted';

CREATE TRIGGER token_modules_bits_insert AFTER INSERT ON token_modules
BEGIN
    UPDATE tokens SET module_bits = module_bits | (1 << (SELECT bit FROM modules WHERE id = NEW.module_id))
        WHERE id = NEW.token_id AND status != 'deleted';
END;

CREATE TRIGGER token_modules_bits_delete AFTER DELETE ON token_modules
BEGIN
    UPDATE tokens SET module_bits = module_bits & ~(1 << (SELECT bit FROM modules WHERE id = OLD.module_id))
        WHERE id = OLD.token_id AND status != 'deleted';
END;

-- After its key, each index carries the columns the filters read (all but
-- last_access_at, which changes on every use of a token and so is kept to
-- the indexes that sort by it), so that a count or a filtered walk reads the
-- index alone.
DROP INDEX tokens_account_created;
CREATE INDEX tokens_list_created ON tokens (account_id, created_at, id,
    status, expires_at, created_by, module_bits)
    WHERE status != 'deleted';
-- Sort by name ignores ASCII case, as people expect of a list of names.
CREATE INDEX tokens_list_name ON tokens (account_id, name COLLATE NOCASE, id,
    status, expires_at, created_by, created_at, module_bits)
    WHERE status != 'deleted';
-- Never used sorts as 0: keyset comparisons and NULL do not mix.
CREATE INDEX tokens_list_last_access ON tokens (account_id, COALESCE(last_access_at, 0), id,
    status, expires_at, created_by, created_at, last_access_at, module_bits)
    WHERE status != 'deleted';
-- The status sort lists the states one after another, by name within each;
-- this index also finds a rare status.
CREATE INDEX tokens_list_status_name ON tokens (account_id, status, name COLLATE NOCASE, id,
    expires_at, created_by, created_at, module_bits)
    WHERE status != 'deleted';
CREATE INDEX tokens_list_created_by ON tokens (account_id, created_by, created_at, id,
    status, expires_at, module_bits)
    WHERE status != 'deleted';
-- Expired is an active token past its date: found by date when there are
-- few, with what sorting them needs.
CREATE INDEX tokens_list_expires ON tokens (account_id, expires_at,
    created_at, id, name, last_access_at, created_by, module_bits)
    WHERE status = 'active' AND expires_at IS NOT NULL;

-- A deleted token loses its modules, as it loses its secret and logo: they
-- are never shown again, and without them a module's tokens are counted
-- from token_modules_module alone.
DELETE FROM token_modules WHERE token_id IN (SELECT id FROM tokens WHERE status = 'deleted');

CREATE TRIGGER token_modules_of_deleted AFTER UPDATE OF status ON tokens
WHEN NEW.status = 'deleted'
BEGIN
    DELETE FROM token_modules WHERE token_id = NEW.id;
END;

-- COUNT(*) walks an index entry by entry: about 10 ms for 100,000 tokens. The
-- unfiltered and status-only totals read these counters instead; triggers
-- keep them, so no write path can forget to. Tombstones are counted too (as
-- 'deleted'), which keeps the triggers simple.
CREATE TABLE token_counts (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    status     TEXT NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (account_id, status)
) WITHOUT ROWID;

INSERT INTO token_counts (account_id, status, n)
    SELECT account_id, status, COUNT(*) FROM tokens GROUP BY account_id, status;

CREATE TRIGGER token_counts_insert AFTER INSERT ON tokens
BEGIN
    INSERT INTO token_counts (account_id, status, n) VALUES (NEW.account_id, NEW.status, 1)
        ON CONFLICT (account_id, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER token_counts_status AFTER UPDATE OF status ON tokens
WHEN OLD.status != NEW.status
BEGIN
    UPDATE token_counts SET n = n - 1 WHERE account_id = OLD.account_id AND status = OLD.status;
    INSERT INTO token_counts (account_id, status, n) VALUES (NEW.account_id, NEW.status, 1)
        ON CONFLICT (account_id, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER token_counts_delete AFTER DELETE ON tokens
BEGIN
    UPDATE token_counts SET n = n - 1 WHERE account_id = OLD.account_id AND status = OLD.status;
END;

-- Searching names by substring cannot use a B-tree index: LIKE '%sync%'
-- reads every name of the account (20 ms for 100,000). An FTS5 trigram index
-- finds a substring of three or more characters, case-insensitively, in well
-- under a millisecond. It is contentless (the names live in tokens) and its
-- rowid is the token ID's eight digits (TKN-1234-5678 is 12345678): the
-- implicit rowid of tokens could change on VACUUM, the ID never does.
-- Tombstones are not indexed: they are never listed. Enabling or disabling
-- leaves the index alone.
CREATE VIRTUAL TABLE token_search USING fts5 (name, content = '', contentless_delete = 1, tokenize = 'trigram');

INSERT INTO token_search (rowid, name)
    SELECT CAST(substr(id, 5, 4) || substr(id, 10, 4) AS INTEGER), name FROM tokens WHERE status != 'deleted';

CREATE TRIGGER token_search_insert AFTER INSERT ON tokens
WHEN NEW.status != 'deleted'
BEGIN
    INSERT INTO token_search (rowid, name)
        VALUES (CAST(substr(NEW.id, 5, 4) || substr(NEW.id, 10, 4) AS INTEGER), NEW.name);
END;

CREATE TRIGGER token_search_update AFTER UPDATE OF name, status ON tokens
WHEN OLD.name != NEW.name OR NEW.status = 'deleted'
BEGIN
    DELETE FROM token_search WHERE rowid = CAST(substr(OLD.id, 5, 4) || substr(OLD.id, 10, 4) AS INTEGER);
    INSERT INTO token_search (rowid, name)
        SELECT CAST(substr(NEW.id, 5, 4) || substr(NEW.id, 10, 4) AS INTEGER), NEW.name
        WHERE NEW.status != 'deleted';
END;

CREATE TRIGGER token_search_delete AFTER DELETE ON tokens
BEGIN
    DELETE FROM token_search WHERE rowid = CAST(substr(OLD.id, 5, 4) || substr(OLD.id, 10, 4) AS INTEGER);
END;
