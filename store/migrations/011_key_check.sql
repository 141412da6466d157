-- A known value sealed under the token keys the first time the database is
-- opened with them, so that a server started with other keys (a flipped
-- bit, the key file of another database) is refused at once, naming the
-- key, rather than failing at the first secret it checks or shows.
CREATE TABLE key_check (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    digest     BLOB NOT NULL, -- keyed digest of the value, under the digest key
    ciphertext BLOB NOT NULL, -- the value sealed under the encryption key
    key_id     TEXT NOT NULL  -- which encryption key sealed it
);
