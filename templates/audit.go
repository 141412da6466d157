package templates

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"apitokens/store"
)

// AuditView is one page of an audit trail, as its table shows it.
type AuditView struct {
	Events []store.AuditEvent
	// Objects adds the Object and Object type columns: the account's trail
	// holds the events of every token.
	Objects bool
	Pager   AuditPager
}

// AuditPager is where a page of an audit trail lies among the others, and
// the addresses of the pages beside it ("" at an end).
type AuditPager struct {
	Span
	Prev, Next string
}

// AuditFilterForm is the account's audit-trail filter as it was sent.
type AuditFilterForm struct {
	Object, Actor, Event, From, To string
}

// Active reports whether a filter narrows the trail.
func (f AuditFilterForm) Active() bool { return f != AuditFilterForm{} }

// AuditTrailView is the account's audit trail page: the filter, what is
// wrong with it, and the page of events.
type AuditTrailView struct {
	AuditView
	Filter AuditFilterForm
	Errors map[string]string // per field of the filter
	Actors []store.User      // the people the Actor filter offers
}

// auditSummary is what an event did, in the Summary column.
func auditSummary(action string) string {
	switch action {
	case store.AuditCreated:
		return "API token created"
	case store.AuditUpdated:
		return "API token updated"
	case store.AuditRevealed:
		return "Token value shown"
	case store.AuditRotated:
		return "Secret rotated"
	case store.AuditPreviousEnded:
		return "Previous secret ended"
	case store.AuditEnabled:
		return "API token enabled"
	case store.AuditDisabled:
		return "API token disabled"
	case store.AuditDeleted:
		return "API token deleted"
	}
	return action
}

// auditObjectType is the kind of object every event of the trail is about.
const auditObjectType = "API token"

// msLayout is a moment in RFC 3339, to the millisecond.
const msLayout = "2006-01-02T15:04:05.000Z07:00"

// preciseDate is an event's time to the millisecond, in UTC: record
// details tell apart events a person made in one second.
func preciseDate(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04:05.000 UTC") }

// browserName is a short name of the browser or client a User-Agent
// header names, such as "Chrome 131 on Linux"; the header itself when it
// names none this knows, and "Unknown" when there was none.
func browserName(ua string) string {
	if ua == "" {
		return "Unknown"
	}
	name := ""
	for _, b := range []struct{ marker, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"Chrome/", "Chrome"},
		{"Version/", "Safari"}, {"curl/", "curl"}, {"python-requests/", "Python requests"}, {"Go-http-client/", "Go"},
	} {
		if _, after, ok := strings.Cut(ua, b.marker); ok {
			major := strings.IndexFunc(after, func(r rune) bool { return r < '0' || r > '9' })
			if major < 0 {
				major = len(after)
			}
			name = strings.TrimSpace(b.name + " " + after[:major])
			break
		}
	}
	if name == "" {
		return ua
	}
	for _, os := range []struct{ marker, name string }{
		{"Windows", "Windows"}, {"iPhone", "iOS"}, {"iPad", "iOS"}, {"Mac OS X", "macOS"},
		{"Android", "Android"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, os.marker) {
			return name + " on " + os.name
		}
	}
	return name
}

// changeSummary is an event's changes in one line, for the Details column.
func changeSummary(e store.AuditEvent) string {
	if len(e.Changes) == 0 {
		return e.Detail
	}
	parts := make([]string, len(e.Changes))
	for i, ch := range e.Changes {
		parts[i] = fmt.Sprintf("%s: %s → %s", fieldLabel(ch.Field), orNone(ch.Old), orNone(ch.New))
	}
	return strings.Join(parts, "; ")
}

// auditRecord is an event as the Record details show its JSON.
type auditRecord struct {
	ID     int64 `json:"id"`
	Object struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"object"`
	Event   string `json:"event"`
	Summary string `json:"summary"`
	At      string `json:"at"`
	Actor   struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"actor"`
	Address   string              `json:"address"`
	UserAgent string              `json:"userAgent"`
	Detail    string              `json:"detail,omitempty"`
	Changes   []store.FieldChange `json:"changes,omitempty"`
	Reason    string              `json:"reason,omitempty"`
}

// recordJSON is the event's JSON, indented for people.
func recordJSON(e store.AuditEvent) string {
	r := auditRecord{ID: e.ID, Event: e.Action, Summary: auditSummary(e.Action),
		At: e.At.UTC().Format(msLayout), Address: e.IP, UserAgent: e.UserAgent,
		Detail: e.Detail, Changes: e.Changes, Reason: e.Reason}
	r.Object.ID, r.Object.Name, r.Object.Type = e.TokenID, e.TokenName, auditObjectType
	r.Actor.ID, r.Actor.Name = e.Actor.ID, e.Actor.Name
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		panic(err) // strings, numbers and a slice of them always marshal
	}
	return string(b)
}

// AuditSummary is the summary of an event, as the audit trail shows it:
// "API token deleted".
func AuditSummary(e store.AuditEvent) string { return auditSummary(e.Action) }

// AuditDetails is what an event changed, as one line of text.
func AuditDetails(e store.AuditEvent) string { return changeSummary(e) }
