package templates

import (
	"apitokens/store"
	"apitokens/web/paths"
)

// Confirmation is how a token action is put to the person before it
// happens: in a dialog (with JavaScript) and on a confirmation page
// (without).
type Confirmation struct {
	Action  store.TokenAction // also the path segment and the dialog's id
	Title   string            // dialog and page title
	Verb    string            // the confirming button
	Working string            // the button while the request is under way
	Warning string            // what happens, said before it happens
	Danger  bool
}

// ConfirmView is what a confirmation page shows besides the token and the
// question.
type ConfirmView struct {
	Usage  UsageNote // for an action that stops the token
	Reason string    // as the person wrote it, when the page comes back
	// Problem is what was wrong with the reason.
	Problem string
}

// Confirmations are those of every action, in the order dialogs are
// rendered.
var Confirmations = []Confirmation{
	{
		Action: store.ActionEnable, Title: "Enable API token", Verb: "Enable", Working: "Enabling…",
		Warning: "API calls made with this token will be accepted again.",
	},
	{
		Action: store.ActionDisable, Title: "Disable API token", Verb: "Disable", Working: "Disabling…",
		Warning: "Every API call made with this token will be refused until you enable it again.",
	},
	{
		Action: store.ActionDelete, Title: "Delete API token", Verb: "Delete", Working: "Deleting…", Danger: true,
		Warning: "A deleted API token can't be reinstated or reused. Applications that use it lose access immediately.",
	},
}

// ConfirmationOf returns the confirmation of an action. Renew is Edit, and
// has none: asking for it is a mistake of the caller's.
func ConfirmationOf(a store.TokenAction) Confirmation {
	for _, c := range Confirmations {
		if c.Action == a {
			return c
		}
	}
	panic("templates: no confirmation for action " + string(a))
}

// path is the confirmation page (GET) and the action (POST) on a token.
func (c Confirmation) path(tokenID string) string {
	return paths.TokenAction(tokenID, string(c.Action))
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
// the list. The list is the default because it links to the confirmations
// and Edit from every row, so its many links can leave the origin out.
func ParseOrigin(s string) Origin {
	if s == string(FromDetails) {
		return FromDetails
	}
	return FromList
}

// Query is what a link from the origin to a confirmation or to Edit adds to
// the address, so that the page it opens leads back there.
func (o Origin) Query() string {
	if o == FromList {
		return ""
	}
	return "?from=" + string(o)
}

// Path is the page the origin names.
func (o Origin) Path(tokenID string) string {
	if o == FromList {
		return paths.Tokens
	}
	return paths.Token(tokenID)
}
