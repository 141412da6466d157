-- A search by the start of a token ID reads the caller's account alone: a
-- range of this index, which begins with the account as every index of the
-- list does, where the primary key's range read every account's IDs. It
-- carries status, which SQLite would otherwise read from each row to check
-- the index's own condition.
CREATE INDEX tokens_list_id ON tokens (account_id, id, status)
    WHERE status != 'deleted';
