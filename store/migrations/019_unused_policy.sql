-- The policy that retires what nobody uses: an account may have its active
-- tokens disabled once they have not been used for 30, 60, 90 or 180 days.
-- An account without a row, or with 0 days, has the policy off. Who set it
-- last, and when, is kept with it.
CREATE TABLE unused_policies (
    account_id TEXT PRIMARY KEY REFERENCES accounts (id),
    days       INTEGER NOT NULL CHECK (days >= 0),
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
) WITHOUT ROWID;

-- Each run of the policy that disabled tokens of an account, on whichever
-- instance ran it: how many, after how many days. Administrators are told
-- of the runs they have not seen yet, once; runs are kept 30 days.
CREATE TABLE unused_policy_runs (
    -- AUTOINCREMENT: an ID is never used again, even once the table has
    -- been emptied, so that a run is never older than one seen already.
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    at         INTEGER NOT NULL,
    days       INTEGER NOT NULL,
    disabled   INTEGER NOT NULL
);
CREATE INDEX unused_policy_runs_account ON unused_policy_runs (account_id, id);
CREATE INDEX unused_policy_runs_at ON unused_policy_runs (at);

-- The last run each administrator has been told of.
CREATE TABLE unused_policy_seen (
    user_id TEXT PRIMARY KEY REFERENCES users (id),
    run_id  INTEGER NOT NULL
) WITHOUT ROWID;

-- When a person last made the token work again, by enabling it or giving
-- it a new expiry date: from then on it has a new period to be used in.
-- NULL: since it was created.
ALTER TABLE tokens ADD COLUMN active_since INTEGER;
