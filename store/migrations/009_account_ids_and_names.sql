-- A search by the start of a token ID reads the caller's account alone: a
-- range of this index, which begins with the account as every index of the
-- list does, where the primary key's range read every account's IDs. It
-- carries status, which SQLite would otherwise read from each row to check
-- the index's own condition.
CREATE INDEX tokens_list_id ON tokens (account_id, id, status)
    WHERE status != 'deleted';

-- Account names are unique regardless of case, as people read them: "beta
-- corp" beside "Beta Corp" would be two accounts no one could tell apart.
-- Where that has happened already, the oldest account keeps the name and
-- each other one gets its ID after it, "beta corp (ACC-0000-0002)": nothing
-- is lost, and the operator can tell them apart. NOCASE folds ASCII letters,
-- as the unique e-mail addresses of users do.
UPDATE accounts SET name = name || ' (' || id || ')'
WHERE EXISTS (SELECT 1 FROM accounts a
    WHERE a.name = accounts.name COLLATE NOCASE
        AND (a.created_at < accounts.created_at OR a.created_at = accounts.created_at AND a.id < accounts.id));
CREATE UNIQUE INDEX accounts_name ON accounts (name COLLATE NOCASE);
