-- Each audit event records the browser (or client) it came from, beside the
-- address; events before this migration have none. The account's audit
-- trail is read newest first within one account, through its own index.
ALTER TABLE audit_events ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_events_account ON audit_events (account_id, at DESC, id DESC);
