-- Sign-in sessions live on the server, so that signing out ends a session
-- for good, even for a copy of its cookie. Only a digest of the session ID is
-- stored: a copy of the database opens no session.
CREATE TABLE sessions (
    digest     BLOB PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_expires ON sessions (expires_at);
