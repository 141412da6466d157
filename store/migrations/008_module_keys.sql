-- Every module gets a key that never changes, so that code can name a
-- module (the API needs "access-management") without depending on the name
-- people see, which may be reworded or translated. Keys are unique within an
-- account.
ALTER TABLE modules ADD COLUMN key TEXT NOT NULL DEFAULT '';
UPDATE modules SET key = lower(replace(trim(name), ' ', '-'));
CREATE UNIQUE INDEX modules_key ON modules (account_id, key);
