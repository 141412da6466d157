-- The trigram index of names, keyed by account as well as token: its rowid
-- is made of the account's and the token's ID digits (ACC-0000-0042 and
-- TKN-1234-5678 give 42 * 100000000 + 12345678), where 005 used the token's
-- alone. A search then reads one account's range of rowids, not every
-- account's matches, and a search alone counts its matches without reading
-- tokens. IDs never change, unlike the implicit rowid of tokens on VACUUM.
-- Tombstones are not indexed; enabling or disabling leaves the index alone.
DROP TRIGGER token_search_insert;
DROP TRIGGER token_search_update;
DROP TRIGGER token_search_delete;
DROP TABLE token_search;

CREATE VIRTUAL TABLE token_search USING fts5 (name, content = '', contentless_delete = 1, tokenize = 'trigram');

INSERT INTO token_search (rowid, name)
    SELECT CAST(substr(account_id, 5, 4) || substr(account_id, 10, 4) AS INTEGER) * 100000000
        + CAST(substr(id, 5, 4) || substr(id, 10, 4) AS INTEGER), name
    FROM tokens WHERE status != 'deleted';

CREATE TRIGGER token_search_insert AFTER INSERT ON tokens
WHEN NEW.status != 'deleted'
BEGIN
    INSERT INTO token_search (rowid, name)
        VALUES (CAST(substr(NEW.account_id, 5, 4) || substr(NEW.account_id, 10, 4) AS INTEGER) * 100000000
            + CAST(substr(NEW.id, 5, 4) || substr(NEW.id, 10, 4) AS INTEGER), NEW.name);
END;

CREATE TRIGGER token_search_update AFTER UPDATE OF name, status ON tokens
WHEN OLD.name != NEW.name OR NEW.status = 'deleted'
BEGIN
    DELETE FROM token_search
        WHERE rowid = CAST(substr(OLD.account_id, 5, 4) || substr(OLD.account_id, 10, 4) AS INTEGER) * 100000000
            + CAST(substr(OLD.id, 5, 4) || substr(OLD.id, 10, 4) AS INTEGER);
    INSERT INTO token_search (rowid, name)
        SELECT CAST(substr(NEW.account_id, 5, 4) || substr(NEW.account_id, 10, 4) AS INTEGER) * 100000000
            + CAST(substr(NEW.id, 5, 4) || substr(NEW.id, 10, 4) AS INTEGER), NEW.name
        WHERE NEW.status != 'deleted';
END;

CREATE TRIGGER token_search_delete AFTER DELETE ON tokens
BEGIN
    DELETE FROM token_search
        WHERE rowid = CAST(substr(OLD.account_id, 5, 4) || substr(OLD.account_id, 10, 4) AS INTEGER) * 100000000
            + CAST(substr(OLD.id, 5, 4) || substr(OLD.id, 10, 4) AS INTEGER);
END;
