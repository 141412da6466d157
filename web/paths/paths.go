// Package paths holds the addresses of the pages and of the REST API, in
// one place for the route table that serves them and the templates that
// link to them. It imports nothing of the project.
package paths

import "strconv"

// The site's own addresses.
const (
	// Home leads to Settings, which is the list for an administrator and,
	// for a member, a page that says who manages the account's tokens.
	Home     = "/"
	Settings = "/settings"
	// Static holds the stylesheet, scripts and icons.
	Static = "/static/"
	// Health answers ok while the process serves, whether or not the
	// database answers: restarting the process would not bring it back.
	Health = "/healthz"
	// Ready answers 200 while the database answers too, and 503 while it
	// does not, so that a load balancer sends requests elsewhere meanwhile.
	Ready  = "/readyz"
	Login  = "/login"
	Logout = "/logout"
)

// The token pages.
const (
	// Tokens is the list page.
	Tokens = "/settings/api-tokens"
	// NewToken is the Add wizard.
	NewToken = Tokens + "/new"
	// TokensBulk takes a bulk action on selected tokens (POST only).
	TokensBulk = Tokens + "/bulk"
	// TokenColumns keeps the columns a person shows in the list (POST only).
	TokenColumns = Tokens + "/columns"
	// TokensExport is the list, as its query selects it, as CSV.
	TokensExport = Tokens + "/export.csv"
	// TokensUnusedPolicy is the account's policy on tokens nobody uses.
	TokensUnusedPolicy = Tokens + "/unused-policy"
)

// AuditTrail is the account's audit trail: the events of every token.
const AuditTrail = Settings + "/audit-trail"

// AuditRecord is the details of one event of the audit trail.
func AuditRecord(id int64) string { return AuditTrail + "/" + strconv.FormatInt(id, 10) }

// Token is the details page of a token.
func Token(id string) string { return Tokens + "/" + id }

// TokenEdit is the Edit form of a token.
func TokenEdit(id string) string { return Token(id) + "/edit" }

// TokenAdded is the summary of the Add wizard that made the token, with
// its secret the first time it is shown.
func TokenAdded(id string) string { return Token(id) + "/added" }

// TokenRotate is the form (GET) and the action (POST) that give a token a
// new secret.
func TokenRotate(id string) string { return Token(id) + "/rotate" }

// TokenRotated is what a rotation leads to, with the new secret the first
// time it is shown.
func TokenRotated(id string) string { return Token(id) + "/rotated" }

// TokenEndPrevious stops the previous secret of a rotated token before its
// time (POST only).
func TokenEndPrevious(id string) string { return Token(id) + "/end-previous" }

// TokenReveal shows a token's secret again (POST only).
func TokenReveal(id string) string { return Token(id) + "/reveal" }

// TokenAuditExport is a token's audit trail as CSV.
func TokenAuditExport(id string) string { return Token(id) + "/audit.csv" }

// TokenLogo is a token's logo.
func TokenLogo(id string) string { return Token(id) + "/logo" }

// TokenAction is the confirmation page (GET) and the action (POST) of a
// token: "delete", "enable" or "disable".
func TokenAction(id, action string) string { return Token(id) + "/" + action }

// The REST API.
const (
	// APIMount is where the REST API is mounted: every address under it is
	// the API's, and answers as the API does, errors included.
	APIMount = "/public/"
	// API is where every address of this version of the API begins.
	API = APIMount + "v1"
	// OpenAPI is the API's description.
	OpenAPI = API + "/openapi.json"
	// APITokens is the collection of the caller's account's tokens.
	APITokens = API + "/accounts/api-tokens"
)

// APIToken is one token in the API.
func APIToken(id string) string { return APITokens + "/" + id }

// APITokenIcon is a token's logo in the API.
func APITokenIcon(id string) string { return APIToken(id) + "/icon" }

// APITokenUsage is what a token has been used for, in the API.
func APITokenUsage(id string) string { return APIToken(id) + "/usage" }
