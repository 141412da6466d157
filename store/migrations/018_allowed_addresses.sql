-- Where a token may be used from: its allowed client addresses and ranges,
-- in their canonical form, separated by spaces; '' for anywhere. And the
-- latest call refused with the token (disabled, expired, from an address
-- it does not allow): when, from where, with which client.
ALTER TABLE tokens ADD COLUMN allowed_addresses TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN last_refused_at INTEGER;
ALTER TABLE tokens ADD COLUMN last_refused_ip TEXT;
ALTER TABLE tokens ADD COLUMN last_refused_agent TEXT;
