-- How far each account's tokens, modules and users have come: every write
-- to them raises the account's version in its own transaction, by the
-- triggers below, whichever process or statement makes it. What a server
-- keeps in memory of an account (a token found by its secret, the modules
-- and users a page lists) it keeps with the version it read, and uses only
-- while the database still says that version: a change is seen at the next
-- request, on every instance. A table apart, so that nothing else reads or
-- locks the rows.
CREATE TABLE account_versions (
    account_id TEXT PRIMARY KEY REFERENCES accounts (id),
    version    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO account_versions (account_id) SELECT id FROM accounts;

CREATE TRIGGER account_versions_account AFTER INSERT ON accounts
BEGIN
    INSERT INTO account_versions (account_id) VALUES (NEW.id);
END;

-- A token's modules change its module_bits, by the triggers of
-- token_modules, and so raise the version too.
CREATE TRIGGER account_versions_token_insert AFTER INSERT ON tokens
BEGIN
    UPDATE account_versions SET version = version + 1 WHERE account_id = NEW.account_id;
END;
CREATE TRIGGER account_versions_token_update AFTER UPDATE ON tokens
BEGIN
    UPDATE account_versions SET version = version + 1 WHERE account_id = NEW.account_id;
END;
CREATE TRIGGER account_versions_token_delete AFTER DELETE ON tokens
BEGIN
    UPDATE account_versions SET version = version + 1 WHERE account_id = OLD.account_id;
END;

CREATE TRIGGER account_versions_module_insert AFTER INSERT ON modules
BEGIN
    UPDATE account_versions SET version = version + 1 WHERE account_id = NEW.account_id;
END;
CREATE TRIGGER account_versions_module_update AFTER UPDATE ON modules
BEGIN
    UPDATE account_versions SET version = version + 1 WHERE account_id IN (OLD.account_id, NEW.account_id);
END;
CREATE TRIGGER account_versions_module_delete AFTER DELETE ON modules
BEGIN
    UPDATE account_versions SET version = version + 1 WHERE account_id = OLD.account_id;
END;

CREATE TRIGGER account_versions_user_insert AFTER INSERT ON users
BEGIN
    UPDATE account_versions SET version = version + 1 WHERE account_id = NEW.account_id;
END;
CREATE TRIGGER account_versions_user_update AFTER UPDATE ON users
BEGIN
    UPDATE account_versions SET version = version + 1 WHERE account_id IN (OLD.account_id, NEW.account_id);
END;
CREATE TRIGGER account_versions_user_delete AFTER DELETE ON users
BEGIN
    UPDATE account_versions SET version = version + 1 WHERE account_id = OLD.account_id;
END;

-- A run of the unused-token policy comes with the tokens it disabled; the
-- list's notice of it is kept at the version too.
CREATE TRIGGER account_versions_policy_run AFTER INSERT ON unused_policy_runs
BEGIN
    UPDATE account_versions SET version = version + 1 WHERE account_id = NEW.account_id;
END;

CREATE TRIGGER account_versions_account_update AFTER UPDATE OF name ON accounts
BEGIN
    UPDATE account_versions SET version = version + 1 WHERE account_id = NEW.id;
END;
