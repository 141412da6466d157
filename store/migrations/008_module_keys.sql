-- Every module gets a key that never changes, so that code can name a
-- module (the API needs "access-management") without depending on the name
-- people see, which may be reworded or translated. The default modules get
-- their keys by their exact names; any other module a key of its own ID, so
-- that no name that merely looks like a default one gains its scope. Keys
-- are unique within an account.
ALTER TABLE modules ADD COLUMN key TEXT NOT NULL DEFAULT '';
UPDATE modules SET key = CASE name
    WHEN 'Access management' THEN 'access-management'
    WHEN 'Billing' THEN 'billing'
    WHEN 'Catalog' THEN 'catalog'
    WHEN 'Procurement' THEN 'procurement'
    ELSE lower(id)
END;
CREATE UNIQUE INDEX modules_key ON modules (account_id, key);
