package templates

import "apitokens/store"

// TokenAction is a change a person confirms before it happens: it has a
// dialog (with JavaScript) and a confirmation page (without).
type TokenAction struct {
	Name    string // path segment and dialog id: "delete", "enable", "disable"
	Title   string // dialog and page title
	Verb    string // the confirming button
	Working string // the button while the request is under way
	Warning string // what happens, said before it happens
	Danger  bool
}

// The token actions.
var (
	DeleteAction = TokenAction{
		Name: "delete", Title: "Delete API token", Verb: "Delete", Working: "Deleting…", Danger: true,
		Warning: "A deleted API token can't be reinstated or reused. Applications that use it lose access immediately.",
	}
	DisableAction = TokenAction{
		Name: "disable", Title: "Disable API token", Verb: "Disable", Working: "Disabling…",
		Warning: "Every API call made with this token will be refused until you enable it again.",
	}
	EnableAction = TokenAction{
		Name: "enable", Title: "Enable API token", Verb: "Enable", Working: "Enabling…",
		Warning: "API calls made with this token will be accepted again.",
	}
	// TokenActions lists every action, in the order dialogs are rendered.
	TokenActions = []TokenAction{EnableAction, DisableAction, DeleteAction}
)

// ActionsFor returns what may be done to t: Enable only on a disabled token,
// Disable only on an active (or expired) one, and always Delete.
func ActionsFor(t store.Token) []TokenAction {
	if t.Status == store.StatusDisabled {
		return []TokenAction{EnableAction, DeleteAction}
	}
	return []TokenAction{DisableAction, DeleteAction}
}

// stateClass is the colour of a state's badge and icon.
func stateClass(s store.TokenState) string {
	switch s {
	case store.StateActive:
		return "badge-active"
	case store.StateExpired:
		return "badge-expired"
	}
	return "badge-disabled"
}

// Origin says which page a confirmation was opened from, so that Cancel and
// Enable/Disable go back there.
type Origin string

// Origins of a confirmation.
const (
	FromList    Origin = "list"
	FromDetails Origin = "details"
)

// ParseOrigin reads an origin from a query or form value; anything else is
// the details page.
func ParseOrigin(s string) Origin {
	if s == string(FromList) {
		return FromList
	}
	return FromDetails
}

// Path is the page the origin names.
func (o Origin) Path(tokenID string) string {
	if o == FromList {
		return TokensPath
	}
	return TokenPath(tokenID)
}
