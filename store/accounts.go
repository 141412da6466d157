package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// PasswordCost is the bcrypt cost of new password hashes. Tests lower it.
var PasswordCost = bcrypt.DefaultCost

// MinPasswordLength is the shortest password a user may have.
const MinPasswordLength = 8

// AccountNameTakenError is CreateAccount's answer when an account has the
// name already, written in any case: it is an ErrConflict.
type AccountNameTakenError struct {
	Name string // the name as the account has it
}

func (e *AccountNameTakenError) Error() string {
	return fmt.Sprintf("an account named %q exists already: account names are unique regardless of case", e.Name)
}

// Is makes the error an ErrConflict.
func (e *AccountNameTakenError) Is(target error) bool { return target == ErrConflict }

// CreateAccount creates an account with the default modules enabled. A
// name another account has, in any case, is an AccountNameTakenError.
func (s *Store) CreateAccount(ctx context.Context, name string) (Account, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return Account{}, &ValidationError{Fields: map[string]string{"account": "Account name is required."}}
	}
	a := Account{Name: name, CreatedAt: s.Now().UTC()}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// In the words of the unique index on names (migration 009).
		var taken string
		err := tx.QueryRowContext(ctx, `SELECT name FROM accounts WHERE `+s.d.equalsNocase(`name`), name).Scan(&taken)
		if err == nil {
			return &AccountNameTakenError{Name: taken}
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		id, err := newID(ctx, tx, accountPrefix, "accounts")
		if err != nil {
			return err
		}
		a.ID = id
		if _, err := tx.ExecContext(ctx, `INSERT INTO accounts (id, name, created_at) VALUES (?, ?, ?)`,
			a.ID, a.Name, a.CreatedAt.UnixMilli()); err != nil {
			return err
		}
		for _, m := range DefaultModules {
			mid, err := newID(ctx, tx, modulePrefix, "modules")
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO modules (id, account_id, key, name) VALUES (?, ?, ?, ?)`, mid, a.ID, m.Key, m.Name); err != nil {
				return err
			}
		}
		return nil
	})
	return a, err
}

// AccountByName returns the account with the given name.
func (s *Store) AccountByName(ctx context.Context, name string) (Account, error) {
	var a Account
	var created sql.NullInt64
	err := s.read.QueryRowContext(ctx, `SELECT id, name, created_at FROM accounts WHERE name = ?`,
		strings.TrimSpace(name)).Scan(&a.ID, &a.Name, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, ErrNotFound
	}
	a.CreatedAt = millis(created)
	return a, err
}

// NewUser is what it takes to create a user.
type NewUser struct {
	AccountID string
	Email     string
	Name      string
	Role      Role
	Password  string
}

// CreateUser adds a user to an account.
func (s *Store) CreateUser(ctx context.Context, n NewUser) (User, error) {
	var v ValidationError
	n.Email = strings.TrimSpace(n.Email)
	n.Name = strings.TrimSpace(n.Name)
	if addr, err := mail.ParseAddress(n.Email); err != nil || addr.Address != n.Email {
		v.add("email", "Enter a valid email address.")
	}
	if n.Name == "" {
		v.add("name", "Name is required.")
	}
	if n.Role != RoleAdmin && n.Role != RoleMember {
		v.add("role", "Role must be admin or member.")
	}
	if len(n.Password) < MinPasswordLength {
		v.add("password", "Password must be at least 8 characters.")
	}
	if err := v.err(); err != nil {
		return User{}, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(n.Password), PasswordCost)
	if err != nil {
		return User{}, err
	}
	u := User{AccountID: n.AccountID, Email: n.Email, Name: n.Name, Role: n.Role}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var taken int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE `+s.d.equalsNocase(`email`), n.Email).Scan(&taken); err != nil {
			return err
		}
		if taken > 0 {
			return ErrConflict
		}
		if err := tx.QueryRowContext(ctx, `SELECT name FROM accounts WHERE id = ?`, n.AccountID).Scan(&u.AccountName); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return err
		}
		if u.ID, err = newID(ctx, tx, userPrefix, "users"); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO users (id, account_id, email, name, role, password_hash, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, u.ID, u.AccountID, u.Email, u.Name, u.Role, string(hash), s.now())
		return err
	})
	return u, err
}

const userColumns = `u.id, u.account_id, a.name, u.email, u.name, u.role, u.hidden_columns`

// scanUser reads userColumns, and then extra columns into extra.
func scanUser(row interface{ Scan(...any) error }, extra ...any) (User, error) {
	var u User
	var hidden string
	err := row.Scan(append([]any{&u.ID, &u.AccountID, &u.AccountName, &u.Email, &u.Name, &u.Role, &hidden}, extra...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if hidden != "" {
		u.HiddenColumns = strings.Split(hidden, ",")
	}
	return u, err
}

// maxHiddenColumns bounds what a person may hide: far more than the list
// has columns, but a bound all the same on what a form can store.
const maxHiddenColumns = 20

// SetHiddenColumns remembers which columns of the token list the user has
// hidden, by key; none shows every column. Which keys exist is the list's
// business: the store keeps any short word.
func (s *Store) SetHiddenColumns(ctx context.Context, userID string, keys []string) error {
	if len(keys) > maxHiddenColumns {
		return &ValidationError{Fields: map[string]string{"columns": "Too many columns."}}
	}
	for _, k := range keys {
		if k == "" || len(k) > 32 || strings.ContainsAny(k, ", ") {
			return &ValidationError{Fields: map[string]string{"columns": "Choose columns of the list."}}
		}
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET hidden_columns = ? WHERE id = ?`, strings.Join(keys, ","), userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// UserByEmail returns a user.
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	return scanUser(s.read.QueryRowContext(ctx, `SELECT `+userColumns+`
		FROM users u JOIN accounts a ON a.id = u.account_id WHERE `+s.d.equalsNocase(`u.email`), strings.TrimSpace(email)))
}

// FirstAdmin returns the account's longest-standing administrator.
func (s *Store) FirstAdmin(ctx context.Context, accountID string) (User, error) {
	return scanUser(s.read.QueryRowContext(ctx, `SELECT `+userColumns+`
		FROM users u JOIN accounts a ON a.id = u.account_id
		WHERE u.account_id = ? AND u.role = 'admin' ORDER BY u.created_at, u.id LIMIT 1`, accountID))
}

// dummyHash is compared against when an e-mail is unknown, so that a wrong
// address and a wrong password take the same time.
// It is made on first use, to keep start-up fast.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("not a password"), PasswordCost)
	return h
})

// Authenticate returns the user with this e-mail and password, or
// ErrInvalidCredentials.
func (s *Store) Authenticate(ctx context.Context, email, password string) (User, error) {
	var hash string
	err := s.read.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE `+s.d.equalsNocase(`email`), strings.TrimSpace(email)).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return User{}, ErrInvalidCredentials
	}
	if err != nil {
		return User{}, err
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return User{}, ErrInvalidCredentials
	}
	return s.UserByEmail(ctx, email)
}

// Modules returns the account's enabled modules, by name.
func (s *Store) Modules(ctx context.Context, accountID string) ([]Module, error) {
	all, err := s.accountModules(ctx, accountID)
	var out []Module
	for _, m := range all {
		if m.enabled {
			out = append(out, m.Module)
		}
	}
	return out, err
}

// Users returns the account's users, by name.
func (s *Store) Users(ctx context.Context, accountID string) ([]User, error) {
	return s.usersOf(ctx, accountID)
}
