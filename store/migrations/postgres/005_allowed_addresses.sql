-- Allowed client addresses, and the latest refused call (SQLite's 018).
ALTER TABLE tokens ADD COLUMN allowed_addresses TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN last_refused_at BIGINT;
ALTER TABLE tokens ADD COLUMN last_refused_ip TEXT;
ALTER TABLE tokens ADD COLUMN last_refused_agent TEXT;
