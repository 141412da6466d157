package templates

import (
	"fmt"
	"strings"

	"apitokens/store"
)

// What a message says happened to a token. Each ends the sentence that
// TokenMessage begins with the token's name and ID, so that every action
// reads the same way.
const (
	DidAdd       = "has been added successfully"
	DidAddBefore = "has already been added"
	DidUpdate    = "has been updated successfully"
	DidNotChange = "was not changed: there was nothing to save"
	DidEnable    = "has been enabled successfully"
	DidDisable   = "has been disabled successfully"
	DidDelete    = "has been deleted successfully"
	DidRotate    = "has a new secret"
	DidEndOld    = "accepts its new secret only: the previous one no longer works"
	DidEndedOld  = "had no previous secret working: nothing was changed"
	// NeedsRenewal answers Enable or Disable of a token past its expiry
	// date, which the API refuses either way.
	NeedsRenewal = "has expired: edit it to give it a new expiry date"
)

// TokenMessage is the one pattern of the messages about a token: its name
// and ID, then what happened.
func TokenMessage(t store.Token, what string) string {
	return fmt.Sprintf("The API token %s (%s) %s.", Quote(t.Name), t.ID, what)
}

// StatusMessage says what an enable or disable did: changed is false when
// the token was already in the state asked for.
func StatusMessage(t store.Token, a store.TokenAction, changed bool) string {
	switch {
	case !changed:
		return TokenMessage(t, "is already "+strings.ToLower(string(t.Status))+"; nothing was changed")
	case a == store.ActionEnable:
		return TokenMessage(t, DidEnable)
	}
	return TokenMessage(t, DidDisable)
}

// MsgNoModules says what a token without modules can do.
const MsgNoModules = "Without a module, this token won't be able to call any API."
