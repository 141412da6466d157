-- Ending a session raises its account's version (020), so that a server
-- may keep a session it found with that version and answer from memory
-- while the version holds: signing out on one instance, or the removal of
-- expired sessions, is seen by every instance at its next request. Using a
-- session (last_seen_at) or confirming a password changes nothing kept.
CREATE TRIGGER account_versions_session_delete AFTER DELETE ON sessions
BEGIN
    UPDATE account_versions SET version = version + 1
        WHERE account_id = (SELECT account_id FROM users WHERE id = OLD.user_id);
END;
