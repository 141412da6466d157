package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"
)

// UpdateToken changes a token's name, description, modules and allowed
// addresses (and expiry and logo, when given), with the same
// validation as CreateToken, and records which fields changed in the audit
// trail. Saving without a change writes nothing; changed reports whether
// anything was written. A deleted token is ErrNotFound.
func (s *Store) UpdateToken(ctx context.Context, accountID, id string, u TokenUpdate, by Actor) (t Token, changed bool, err error) {
	if err := s.checkUpdate(&u); err != nil {
		return Token{}, false, err
	}
	u.ModuleIDs = UniqueIDs(u.ModuleIDs)
	given := u
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		// A transaction run again starts again from the update as given.
		u, changed = given, false
		var old Token
		var expires sql.NullInt64
		var allowed string
		err := tx.QueryRowContext(ctx, `SELECT t.name, t.description, t.expires_at, t.logo IS NOT NULL, t.allowed_addresses
			FROM tokens t WHERE `+liveToken,
			id, accountID).Scan(&old.Name, &old.Description, &expires, &old.HasLogo, &allowed)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		oldModuleIDs, err := tokenModuleIDs(ctx, tx, id)
		if err != nil {
			return err
		}

		// Fields the update leaves out keep what is stored now, read in
		// this transaction: two partial updates at once both land.
		if !u.changes(FieldName) {
			u.Name = old.Name
		}
		if !u.changes(FieldDescription) {
			u.Description = old.Description
		}
		old.AllowedAddresses = allowedFromStored(allowed)
		if !u.changes(FieldAddresses) {
			u.AllowedAddresses = old.AllowedAddresses.Strings()
		} else if !slices.Equal(old.AllowedAddresses.Strings(), u.AllowedAddresses) {
			// Where a token may be used from guards what it can do: an
			// API token changes that only for tokens that can do no more.
			if err := checkWithinGrantable(ctx, tx, u.Grantable, oldModuleIDs, FieldAddresses,
				"An API token may change the allowed addresses of"); err != nil {
				return err
			}
		}
		old.ExpiresAt = millis(expires)
		if u.Expiry == nil {
			u.Expiry = &old.ExpiresAt
		}
		if !u.changes(FieldModules) {
			u.ModuleIDs = oldModuleIDs
		} else if err := checkGrantable(u.Grantable, u.ModuleIDs, oldModuleIDs); err != nil {
			return err
		} else if err := checkModules(ctx, tx, accountID, u.ModuleIDs); err != nil {
			return err
		}
		oldModules, err := tokenModules(ctx, tx, id)
		if err != nil {
			return err
		}
		newModules, err := moduleNames(ctx, tx, u.ModuleIDs)
		if err != nil {
			return err
		}
		changes := fieldChanges(old, u, oldModules, newModules)
		if len(changes) == 0 {
			return nil
		}
		now := s.now()
		if err := writeUpdate(ctx, tx, id, u, now, by); err != nil {
			return err
		}
		changed = true
		return s.recordAudit(ctx, tx, auditEntry{accountID: accountID, by: by, action: AuditUpdated, changes: changes}, tokensAt(now, id))
	})
	if err != nil {
		return Token{}, false, err
	}
	t, err = s.TokenByID(ctx, accountID, id)
	return t, changed, err
}

// checkUpdate tidies an update and refuses, before anything is read, one
// the rules forbid whatever is stored.
func (s *Store) checkUpdate(u *TokenUpdate) error {
	if err := u.Validate(); err != nil {
		return err
	}
	if u.Expiry != nil {
		if err := CheckExpiry(*u.Expiry, s.Now()); err != nil {
			return err
		}
	}
	if u.Logo != nil {
		return checkStoredLogo(*u.Logo)
	}
	return nil
}

// writeUpdate stores a complete update of a token: its logo when one was
// sent (an empty one removes it), its fields and its modules.
func writeUpdate(ctx context.Context, tx *sql.Tx, id string, u TokenUpdate, now int64, by Actor) error {
	if u.Logo != nil {
		var logo any
		if len(*u.Logo) > 0 {
			logo = *u.Logo
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tokens SET logo = ? WHERE id = ?`, logo, id); err != nil {
			return err
		}
	}
	// A new expiry date renews the token: like enabling it, that gives it
	// a new period to be used in before the policy on unused tokens
	// disables it. The CASE sees the expiry date as it was.
	var expiry int64 // as COALESCE(expires_at, 0) reads it
	if !u.Expiry.IsZero() {
		expiry = u.Expiry.UnixMilli()
	}
	if _, err := tx.ExecContext(ctx, `UPDATE tokens SET name = ?, description = ?, allowed_addresses = ?,
			active_since = CASE WHEN COALESCE(expires_at, 0) = ? THEN active_since ELSE ? END, expires_at = ?,
			updated_at = ?, updated_by = ?
		WHERE id = ?`, u.Name, u.Description, storedAddresses(u.AllowedAddresses),
		expiry, now, nullMillis(*u.Expiry), now, by.ID, id); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM token_modules WHERE token_id = ?`, id); err != nil {
		return err
	}
	return insertTokenModules(ctx, tx, id, u.ModuleIDs)
}

// logoText is a logo as the audit trail shows it.
func logoText(has bool, text string) string {
	if has {
		return text
	}
	return ""
}

// expiryText is an expiry date as the audit trail shows it: the moment in
// UTC, or "" for never.
func expiryText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// fieldChanges is what an update changes of a token, as the audit trail
// shows it: modules by name.
func fieldChanges(old Token, u TokenUpdate, oldModules, newModules []string) []FieldChange {
	var changes []FieldChange
	if old.Name != u.Name {
		changes = append(changes, FieldChange{Field: FieldName, Old: old.Name, New: u.Name})
	}
	if old.Description != u.Description {
		changes = append(changes, FieldChange{Field: FieldDescription, Old: old.Description, New: u.Description})
	}
	if !slices.Equal(oldModules, newModules) {
		changes = append(changes, FieldChange{Field: FieldModules,
			Old: strings.Join(oldModules, ", "), New: strings.Join(newModules, ", ")})
	}
	// A logo is pixels, not words: the trail says it was set or removed.
	if u.Logo != nil && (len(*u.Logo) > 0 || old.HasLogo) {
		changes = append(changes, FieldChange{Field: FieldLogo, Old: logoText(old.HasLogo, "Logo"), New: logoText(len(*u.Logo) > 0, "New logo")})
	}
	if was, now := strings.Join(old.AllowedAddresses.Strings(), ", "), strings.Join(u.AllowedAddresses, ", "); was != now {
		changes = append(changes, FieldChange{Field: FieldAddresses, Old: was, New: now})
	}
	if !old.ExpiresAt.Equal(*u.Expiry) {
		changes = append(changes, FieldChange{Field: FieldExpires, Old: expiryText(old.ExpiresAt), New: expiryText(*u.Expiry)})
	}
	return changes
}
