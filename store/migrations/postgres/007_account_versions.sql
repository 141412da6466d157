-- How far each account's tokens, modules and users have come (SQLite's
-- 020): every write to them raises the account's version in its own
-- transaction. Once per statement for tokens, as a bulk action or a usage
-- batch changes many at once.
CREATE TABLE account_versions (
    account_id TEXT COLLATE "C" PRIMARY KEY REFERENCES accounts (id),
    version    BIGINT NOT NULL DEFAULT 0
);
INSERT INTO account_versions (account_id) SELECT id FROM accounts;

CREATE FUNCTION account_versions_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO account_versions (account_id) VALUES (NEW.id);
    ELSE
        UPDATE account_versions SET version = version + 1 WHERE account_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER account_versions_account AFTER INSERT OR UPDATE OF name ON accounts
    FOR EACH ROW EXECUTE FUNCTION account_versions_account();

-- Accounts in the order of their IDs, so that two statements that raise
-- the same accounts lock them in one order.
CREATE FUNCTION account_versions_raise(ids TEXT[]) RETURNS void LANGUAGE sql AS $$
    UPDATE account_versions v SET version = v.version + 1
        FROM (SELECT DISTINCT a FROM unnest(ids) AS a ORDER BY a) x
        WHERE v.account_id = x.a;
$$;

CREATE FUNCTION account_versions_tokens_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM account_versions_raise(ARRAY(SELECT account_id FROM new_rows));
    RETURN NULL;
END $$;
CREATE FUNCTION account_versions_tokens_old() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM account_versions_raise(ARRAY(SELECT account_id FROM old_rows));
    RETURN NULL;
END $$;
CREATE TRIGGER account_versions_token_insert AFTER INSERT ON tokens
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION account_versions_tokens_new();
CREATE TRIGGER account_versions_token_update AFTER UPDATE ON tokens
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION account_versions_tokens_new();
CREATE TRIGGER account_versions_token_delete AFTER DELETE ON tokens
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION account_versions_tokens_old();

-- Modules and users change one at a time.
CREATE FUNCTION account_versions_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM account_versions_raise(ARRAY[OLD.account_id]);
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM account_versions_raise(ARRAY[OLD.account_id, NEW.account_id]);
    ELSE
        PERFORM account_versions_raise(ARRAY[NEW.account_id]);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER account_versions_module AFTER INSERT OR UPDATE OR DELETE ON modules
    FOR EACH ROW EXECUTE FUNCTION account_versions_row();
CREATE TRIGGER account_versions_user AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION account_versions_row();
-- A run of the unused-token policy comes with the tokens it disabled; the
-- list's notice of it is kept at the version too.
CREATE TRIGGER account_versions_policy_run AFTER INSERT ON unused_policy_runs
    FOR EACH ROW EXECUTE FUNCTION account_versions_row();
