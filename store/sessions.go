package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"slices"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// sessionDigest is what the database keeps of a session ID.
func sessionDigest(id string) []byte {
	sum := sha256.Sum256([]byte(id))
	return sum[:]
}

// CreateSession starts a sign-in session for the user that lasts at most
// ttl, and returns its ID (256 random bits) for the cookie. Sessions that
// have expired, anyone's, are removed after, so the table stays small.
func (s *Store) CreateSession(ctx context.Context, userID string, ttl time.Duration) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	id := base64.RawURLEncoding.EncodeToString(b)
	now := s.Now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// Signing in is a password confirmation of its own.
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (digest, user_id, created_at, expires_at, confirmed_at, last_seen_at)
			VALUES (?, ?, ?, ?, ?, ?)`,
			sessionDigest(id), userID, now.UnixMilli(), now.Add(ttl).UnixMilli(), now.UnixMilli(), now.UnixMilli())
		return err
	})
	if err != nil {
		return "", err
	}
	// Apart and best effort: removing a session raises its account's
	// version (migration 021), and other accounts' writes must not hold up
	// or fail a sign-in. What is left is removed at the next one.
	_ = s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, now.UnixMilli())
		return err
	})
	return id, nil
}

// SessionIdleTimeout ends a session that has not been used for this long,
// before its absolute expiry.
const SessionIdleTimeout = time.Hour

// sessionTouchEvery is how stale last_seen_at may get before a request
// writes it again: a write a minute per active session, not one a request.
const sessionTouchEvery = time.Minute

// SessionUser returns the user of a session that has not expired, ended or
// sat idle for SessionIdleTimeout, and marks the session as used; any other
// ID is ErrNotFound.
//
// A session found is kept with its account's version (versions.go): ending
// a session raises the version, as does any change to its user or account,
// so while the version holds and the session was used within
// sessionTouchEvery, the kept answer is the database's, and a request reads
// only the version.
func (s *Store) SessionUser(ctx context.Context, sessionID string) (User, error) {
	now := s.Now()
	digest := sessionDigest(sessionID)
	if k, ok := s.sessions.get(string(digest)); ok && now.UnixMilli() < k.expiresAt && now.Sub(time.UnixMilli(k.lastSeen)) < sessionTouchEvery {
		if still, err := s.stillAt(ctx, k.user.AccountID, k.version); err != nil {
			return User{}, err
		} else if still {
			u := k.user
			u.HiddenColumns = slices.Clone(u.HiddenColumns)
			return u, nil
		}
	}
	var lastSeen, expiresAt, version int64
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userColumns+`, se.last_seen_at, se.expires_at, av.version
		FROM sessions se
		JOIN users u ON u.id = se.user_id
		JOIN accounts a ON a.id = u.account_id
		JOIN account_versions av ON av.account_id = u.account_id
		WHERE se.digest = ? AND se.expires_at > ? AND se.last_seen_at > ?`,
		digest, now.UnixMilli(), now.Add(-SessionIdleTimeout).UnixMilli()), &lastSeen, &expiresAt, &version)
	if err != nil {
		return User{}, err
	}
	if now.Sub(time.UnixMilli(lastSeen)) >= sessionTouchEvery {
		// Best effort: when the write cannot be made now (the database busy
		// with a long write), the page is still served, and the next
		// request tries again; the session is at worst idle a minute early.
		if s.inTx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ? WHERE digest = ?`, now.UnixMilli(), digest)
			return err
		}) == nil {
			lastSeen = now.UnixMilli()
		}
	}
	kept := u
	kept.HiddenColumns = slices.Clone(u.HiddenColumns)
	s.sessions.put(string(digest), keptSession{user: kept, version: version, expiresAt: expiresAt, lastSeen: lastSeen})
	// The account's version, read with the sign-in, serves the rest of
	// the request (WithVersionMemo); after the touch, a write, which
	// forgets it.
	memoOf(ctx).set(u.AccountID, version)
	return u, nil
}

// keptSession is a session as SessionUser found it, kept by its digest at
// its account's version.
type keptSession struct {
	user      User
	version   int64
	expiresAt int64 // Unix milliseconds
	lastSeen  int64 // Unix milliseconds, as the database has it
}

// EndSession ends a session at once. Ending one that is gone is not an error.
func (s *Store) EndSession(ctx context.Context, sessionID string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE digest = ?`, sessionDigest(sessionID))
		return err
	})
}

// SessionConfirmedAt returns when the session's user last gave their
// password: at sign-in, or through ConfirmPassword.
func (s *Store) SessionConfirmedAt(ctx context.Context, sessionID string) (time.Time, error) {
	var at sql.NullInt64
	err := s.read.QueryRowContext(ctx, `SELECT confirmed_at FROM sessions WHERE digest = ? AND expires_at > ?`,
		sessionDigest(sessionID), s.now()).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, ErrNotFound
	}
	return millis(at), err
}

// ConfirmPassword checks the password of the session's user and, when it is
// right, records the confirmation on the session. A wrong password is
// ErrInvalidCredentials.
func (s *Store) ConfirmPassword(ctx context.Context, sessionID, password string) error {
	var hash string
	err := s.read.QueryRowContext(ctx, `SELECT u.password_hash FROM sessions se JOIN users u ON u.id = se.user_id
		WHERE se.digest = ? AND se.expires_at > ?`, sessionDigest(sessionID), s.now()).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return ErrInvalidCredentials
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE sessions SET confirmed_at = ? WHERE digest = ?`, s.now(), sessionDigest(sessionID))
		return err
	})
}
