// Package store owns the domain of API-token management — accounts, users,
// modules, tokens and their audit trail — and its SQLite implementation.
package store

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Sentinel errors returned by the store. Callers compare with errors.Is.
var (
	// ErrNotFound means the object does not exist or is not visible to the
	// caller's account. The two are deliberately indistinguishable.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the change clashes with what is stored (a duplicate
	// e-mail address, for example).
	ErrConflict = errors.New("conflict")
	// ErrInvalidCredentials means an e-mail and password did not match a user.
	ErrInvalidCredentials = errors.New("invalid email or password")
	// ErrMalformedSecret means a string is not a well-formed token secret; it
	// is detected without reading the database.
	ErrMalformedSecret = errors.New("malformed token secret")
	// ErrTokenExpired means an enable or disable was asked of a token past
	// its expiry date: either would leave the API refusing it, so it is
	// renewed with a new expiry date instead.
	ErrTokenExpired = errors.New("token past its expiry date")
	// ErrUnavailable means the database could not be reached or did not
	// answer in time: nothing was read or changed, and the same request may
	// succeed once it is back.
	ErrUnavailable = errors.New("database unavailable")
	// ErrSchemaTooNew means the database was brought up to date by a newer
	// release: this one refuses to work on it.
	ErrSchemaTooNew = errors.New("database schema newer than this program")
)

// ValidationError carries a message per invalid field, keyed by field name.
type ValidationError struct {
	Fields map[string]string
}

// Error lists the messages in the order of their fields' names, so that the
// same problems always read the same.
func (e *ValidationError) Error() string {
	parts := make([]string, 0, len(e.Fields))
	for _, k := range slices.Sorted(maps.Keys(e.Fields)) {
		parts = append(parts, k+": "+e.Fields[k])
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// add records a message for field, keeping the first one.
func (e *ValidationError) add(field, msg string) {
	if e.Fields == nil {
		e.Fields = map[string]string{}
	}
	if _, ok := e.Fields[field]; !ok {
		e.Fields[field] = msg
	}
}

// err returns e when it holds a message, nil otherwise.
func (e *ValidationError) err() error {
	if len(e.Fields) == 0 {
		return nil
	}
	return e
}

// Role is what a user may do in their account.
type Role string

// Roles. Only administrators manage the account's tokens.
const (
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
)

// Account is a customer of the platform; it owns users, modules and tokens.
type Account struct {
	ID        string // ACC-NNNN-NNNN
	Name      string
	CreatedAt time.Time
}

// User is a person who signs in. Each user belongs to exactly one account.
type User struct {
	ID          string // USR-NNNN-NNNN
	AccountID   string
	AccountName string
	Email       string
	Name        string
	Role        Role
	// HiddenColumns are the keys of the token list's columns the user has
	// hidden.
	HiddenColumns []string
}

// IsAdmin reports whether the user may manage the account's tokens.
func (u User) IsAdmin() bool { return u.Role == RoleAdmin }

// Module is a part of the platform an account has enabled and a token can be
// scoped to.
type Module struct {
	ID   string // MOD-NNNN-NNNN
	Key  string // stable, for code to name it: "access-management"
	Name string // what people see: "Access management"
}

// ModuleAccessManagement is the key of the module a token needs to manage
// the account's tokens through the API.
const ModuleAccessManagement = "access-management"

// DefaultModules are enabled on every new account.
var DefaultModules = []Module{
	{Key: ModuleAccessManagement, Name: "Access management"},
	{Key: "billing", Name: "Billing"},
	{Key: "catalog", Name: "Catalog"},
	{Key: "procurement", Name: "Procurement"},
}

// TokenStatus is the stored state of a token.
type TokenStatus string

// Stored token states. Expired is not stored: see Token.State.
const (
	StatusActive   TokenStatus = "active"
	StatusDisabled TokenStatus = "disabled"
	StatusDeleted  TokenStatus = "deleted"
)

// TokenState is what a person sees: the stored status, with an active token
// past its expiry date shown as expired.
type TokenState string

// Token states as shown on the pages.
const (
	StateActive   TokenState = "Active"
	StateDisabled TokenState = "Disabled"
	StateExpired  TokenState = "Expired"
	StateDeleted  TokenState = "Deleted"
)

// UserRef names a user on another object ("Created by", audit events).
type UserRef struct {
	ID   string
	Name string
}

// Token is an API token of an account. Its secret is never part of it: the
// secret is returned once, by CreateToken.
type Token struct {
	ID           string // TKN-NNNN-NNNN
	AccountID    string
	AccountName  string // filled in by TokenByID and TokenBySecret
	Name         string
	Description  string
	Status       TokenStatus
	Modules      []Module
	CreatedAt    time.Time
	CreatedBy    UserRef
	UpdatedAt    time.Time
	UpdatedBy    UserRef
	LastAccessAt time.Time // zero when never used
	ExpiresAt    time.Time // zero when it never expires
	HasLogo      bool      // the logo is read with TokenLogo
	// Calls7d is the calls of the last 7 days as last counted: with each
	// batch of usage written, and each hour (see RecordUsage).
	Calls7d int64
	// PreviousUntil is when the secret the token had before its last
	// rotation stops working; zero when it has none (see RotateSecret).
	PreviousUntil time.Time
	// RotatedAt is when the token's secret was last rotated, and
	// PreviousLastAt the latest call made with the previous secret since;
	// zero for never. Only TokenByID fills them in, for the token's page.
	RotatedAt, PreviousLastAt time.Time
	// ViaPrevious is set by TokenBySecret when the secret presented was
	// the previous one, within its grace period.
	ViaPrevious bool
	// AllowedAddresses are where the token may be used from; none:
	// anywhere.
	AllowedAddresses AllowedAddresses
	// LastRefused is the latest call refused with the token: disabled,
	// expired, or from an address it does not allow. Only TokenByID fills
	// it in, for the token's page.
	LastRefused Caller
}

// PreviousWorks reports whether the token's previous secret still
// authenticates at now, the token allowing.
func (t Token) PreviousWorks(now time.Time) bool { return now.Before(t.PreviousUntil) }

// State returns the token's state at now.
func (t Token) State(now time.Time) TokenState {
	switch t.Status {
	case StatusDeleted:
		return StateDeleted
	case StatusDisabled:
		return StateDisabled
	}
	if t.pastExpiry(now) {
		return StateExpired
	}
	return StateActive
}

// pastExpiry reports whether the token has an expiry date and now is on or
// after it, whatever its stored status.
func (t Token) pastExpiry(now time.Time) bool {
	return !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt)
}

// TokenAction is a change of state a person may ask for on a token.
type TokenAction string

// Token actions.
const (
	ActionEnable  TokenAction = "enable"
	ActionDisable TokenAction = "disable"
	ActionDelete  TokenAction = "delete"
	// ActionRenew gives a token past its expiry date a new one, by Edit; it
	// changes no status.
	ActionRenew TokenAction = "renew"
	// ActionRotate gives a token a new secret, the current one working on
	// for a grace period (RotateSecret); it changes no status.
	ActionRotate TokenAction = "rotate"
)

// Actions returns what may be done to the token at now: Enable only when it
// is disabled, Disable only when it is active, Renew (in place of either,
// and of Rotate) once it is past its expiry date, since enabling,
// disabling or rotating it would change nothing the API sees, and Delete
// always. A deleted token allows nothing.
func (t Token) Actions(now time.Time) []TokenAction {
	switch {
	case t.Status == StatusDeleted:
		return nil
	case t.pastExpiry(now):
		return []TokenAction{ActionRenew, ActionDelete}
	case t.Status == StatusDisabled:
		return []TokenAction{ActionEnable, ActionRotate, ActionDelete}
	}
	return []TokenAction{ActionDisable, ActionRotate, ActionDelete}
}

// Status is the status the action gives a token; "" for no action.
func (a TokenAction) Status() TokenStatus {
	switch a {
	case ActionEnable:
		return StatusActive
	case ActionDisable:
		return StatusDisabled
	case ActionDelete:
		return StatusDeleted
	}
	return ""
}

// Stops reports whether the action stops the token working (Disable,
// Delete): before it, a person is told what the token has been doing, and
// may say why.
func (a TokenAction) Stops() bool { return a == ActionDisable || a == ActionDelete }

// Allows reports whether a may be done to the token at now.
func (t Token) Allows(a TokenAction, now time.Time) bool { return slices.Contains(t.Actions(now), a) }

// Limits on token fields, counted in characters (runes), not bytes.
const (
	MaxTokenName        = 200
	MaxTokenDescription = 2000
)

// Messages about a token's name and description. They are exported so that
// the forms can say them as a person types, in the same words.
var (
	MsgNameRequired       = "Name is required."
	MsgNameTooLong        = fmt.Sprintf("Name must be at most %d characters.", MaxTokenName)
	MsgDescriptionTooLong = fmt.Sprintf("Description must be at most %d characters.", MaxTokenDescription)
)

// NewToken is what it takes to create a token.
type NewToken struct {
	AccountID   string
	Name        string
	Description string
	ModuleIDs   []string
	ExpiresAt   time.Time // zero: never
	Logo        []byte    // a PNG made by NormalizeLogo; nil: none
	// Grantable, when not nil, are the only modules the token may be
	// given: those of the API token that creates it, which may not hand
	// out more than it holds. Nil: any of the account's, as for a person.
	Grantable []Module
	// Draft, when not empty, names the run of the Add wizard that sends
	// it: a second Add of one draft, sent to any instance, adds nothing
	// and is told the token the first added (DraftAdded).
	Draft string
	// AllowedAddresses are where the token may be used from, as written
	// (ParseAllowedAddresses); none: anywhere. AllowEveryone confirms a
	// range that allows every address.
	AllowedAddresses []string
	AllowEveryone    bool
}

// Validate checks the fields a person typed; module membership is checked
// against the account, and the expiry date against the clock, by the store.
// The allowed addresses are kept in their canonical form.
func (n *NewToken) Validate() error {
	var v ValidationError
	n.Name, n.Description = validateText(&v, n.Name, n.Description)
	n.AllowedAddresses = validateAddresses(&v, n.AllowedAddresses, n.AllowEveryone)
	return v.err()
}

// TokenUpdate is what Edit may change. Status is not among it.
type TokenUpdate struct {
	Name        string
	Description string
	ModuleIDs   []string
	// Expiry, when not nil, sets the expiry date (the zero time: never), so
	// that an expired token can be renewed; nil keeps the stored one.
	Expiry *time.Time
	// Logo, when not nil, replaces the logo with a PNG made by
	// NormalizeLogo, or removes it when empty; nil keeps the stored one.
	Logo *[]byte
	// Only names the fields to change ("name", "description", "modules",
	// "allowedAddresses"); the others keep what is stored when the update
	// is made. Nil changes all of them, as the Edit form does.
	Only []string
	// Grantable, when not nil, are the only modules the update may add to
	// the token (see NewToken.Grantable); those it has already may stay.
	Grantable []Module
	// AllowedAddresses and AllowEveryone, as NewToken's.
	AllowedAddresses []string
	AllowEveryone    bool
}

// Update fields, for TokenUpdate.Only.
const (
	FieldName        = "name"
	FieldDescription = "description"
	FieldModules     = "modules"
	FieldExpires     = "expires"
	FieldLogo        = "logo"
	FieldAddresses   = "allowedAddresses"
)

// changes reports whether the update sets field.
func (u *TokenUpdate) changes(field string) bool {
	return u.Only == nil || slices.Contains(u.Only, field)
}

// Validate checks the fields the update sets, the same way as
// NewToken.Validate.
func (u *TokenUpdate) Validate() error {
	var v ValidationError
	name, description := validateText(&v, u.Name, u.Description)
	if !u.changes(FieldName) {
		delete(v.Fields, "name")
	} else {
		u.Name = name
	}
	if !u.changes(FieldDescription) {
		delete(v.Fields, "description")
	} else {
		u.Description = description
	}
	if u.changes(FieldAddresses) {
		u.AllowedAddresses = validateAddresses(&v, u.AllowedAddresses, u.AllowEveryone)
	}
	return v.err()
}

// MaxExpiry is how far ahead an expiry date may be.
const MaxExpiry = 5 * 366 * 24 * time.Hour

// CheckExpiry checks an expiry date at now: none (zero), or after now and
// within MaxExpiry. A problem is a ValidationError on "expires".
func CheckExpiry(at, now time.Time) error {
	var msg string
	switch {
	case at.IsZero():
	case !at.After(now):
		msg = "The expiry date must be in the future."
	case at.After(now.Add(MaxExpiry)):
		msg = "The expiry date must be within five years."
	}
	if msg == "" {
		return nil
	}
	return &ValidationError{Fields: map[string]string{"expires": msg}}
}

// AuditEvent is one thing that happened to a token.
type AuditEvent struct {
	ID        int64
	TokenID   string
	TokenName string // the token's name now (a deleted token keeps its last)
	// TokenDeleted is set once the token is deleted: its events stay, its
	// page is gone.
	TokenDeleted bool
	At           time.Time
	Actor        UserRef // a user, or a token when the change came through the API
	Action       string  // one of the Audit… constants
	Detail       string
	Changes      []FieldChange // what an update changed
	IP           string
	UserAgent    string // the browser or client; "" for events recorded before it was
	Reason       string // why, as the person said; "" when they did not
}

// FieldChange is one field an update changed. Old and New are shown to
// people, so they never hold secret material.
type FieldChange struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// Audit actions.
const (
	AuditCreated  = "created"
	AuditUpdated  = "updated"
	AuditEnabled  = "enabled"
	AuditDisabled = "disabled"
	AuditRevealed = "revealed"
	AuditDeleted  = "deleted"
	// AuditRotated is a new secret (RotateSecret); its detail says how
	// long the previous one works on.
	AuditRotated = "rotated"
	// AuditPreviousEnded is the previous secret stopped before its time.
	AuditPreviousEnded = "previous-ended"
)

// AuditActions are the audit actions, in the order a token lives them.
var AuditActions = []string{AuditCreated, AuditUpdated, AuditRevealed, AuditRotated, AuditPreviousEnded,
	AuditEnabled, AuditDisabled, AuditDeleted}
