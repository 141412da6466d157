-- Ending a session raises its account's version (SQLite's 021), once per
-- statement: the removal of expired sessions ends many at once.
CREATE FUNCTION account_versions_sessions_old() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM account_versions_raise(ARRAY(SELECT u.account_id FROM old_rows o JOIN users u ON u.id = o.user_id));
    RETURN NULL;
END $$;
CREATE TRIGGER account_versions_session_delete AFTER DELETE ON sessions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION account_versions_sessions_old();

-- A statement may raise many accounts (this sweep, a usage batch): lock
-- their rows in the order of their IDs before raising them, so that two
-- such statements never wait for each other crosswise, whatever plan the
-- update takes.
CREATE OR REPLACE FUNCTION account_versions_raise(ids TEXT[]) RETURNS void LANGUAGE sql AS $$
    SELECT 1 FROM account_versions WHERE account_id = ANY (ids) ORDER BY account_id FOR UPDATE;
    UPDATE account_versions SET version = version + 1 WHERE account_id = ANY (ids);
$$;
