// Package templates holds the templ components that render every page.
package templates

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"apitokens/static"
	"apitokens/store"
	"apitokens/web/paths"
)

// Page is what the layout needs on every page.
type Page struct {
	Title   string
	CSRF    string
	User    store.User // zero when signed out
	Flashes []Flash
	Now     time.Time // the request's clock, for states and relative times
	Path    string    // the address asked for, which the menu marks as current
}

// navItem is an entry of the settings menu.
type navItem struct{ label, path string }

// navItems are the entries of the settings menu: what the user may open.
// A member manages no tokens; their entry leads to a page that says who
// does.
func (p Page) navItems() []navItem {
	if p.User.IsAdmin() {
		return []navItem{{"API tokens", paths.Tokens}, {"Audit trail", paths.AuditTrail}}
	}
	return []navItem{{"API tokens", paths.Settings}}
}

// current reports whether the menu entry is the page shown, or holds it.
func (p Page) current(item navItem) bool {
	return p.Path == item.path || item.path != paths.Settings && strings.HasPrefix(p.Path, item.path+"/")
}

// SignedIn reports whether a user is signed in.
func (p Page) SignedIn() bool { return p.User.ID != "" }

// Flash is a one-time message shown after a redirect.
type Flash struct {
	Kind    string // "success", "warning" (done in part, or not done with what to do instead) or "error"
	Message string
}

// CSS and Scripts are the URLs of the stylesheet and scripts, in the order
// they run (app.js first: the others use what it defines); they carry a
// content hash so that browsers may cache them for good.
var (
	CSS     = static.Versioned("app.css")
	Scripts = []string{
		static.Versioned("app.js"), static.Versioned("menus.js"), static.Versioned("secret.js"),
		static.Versioned("forms.js"), static.Versioned("dialogs.js"), static.Versioned("list.js"), static.Versioned("audit.js"),
	}
)

// How every page writes a moment: the day and the time, as the platform
// does; the script writes the same in the person's time zone.
const (
	dayLayout   = "2 Jan 2006"
	clockLayout = "15:04"
	// agoWithin is how recent a last access reads as "5 minutes ago".
	agoWithin = 24 * time.Hour
)

// whenText is a moment in the same style as plain text, where markup
// cannot go (an option of a select) or would break a sentence:
// "15 Apr 2023 12:34 UTC".
func whenText(t time.Time) string {
	u := t.UTC()
	return u.Format(dayLayout) + " " + u.Format(clockLayout) + " UTC"
}

func isoDate(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// relative renders how long ago t was, for a recent last access: Ago, as
// the first words of a cell.
func relative(now, t time.Time) string {
	if ago := Ago(now, t); ago != "just now" {
		return ago
	}
	return "Just now"
}

// In is how long after now t comes, in the largest whole unit, as Ago says
// how long before: "in 3 days", "in 5 hours", "in 12 minutes".
func In(now, t time.Time) string {
	d := t.Sub(now)
	switch {
	case d < time.Minute:
		return "in less than a minute"
	case d < time.Hour:
		return "in " + plural(int(d/time.Minute), "minute")
	case d < 24*time.Hour:
		return "in " + plural(int(d/time.Hour), "hour")
	}
	return "in " + plural(int(d/(24*time.Hour)), "day")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// modulesCount is the Modules column of a token with several modules; the
// row writes out none or one itself.
func modulesCount(ms []store.Module) string { return plural(len(ms), "module") }

// avatarInitials are the first letters of a name's first two words, for the
// avatar of a token without a logo.
func avatarInitials(name string) string {
	var out []rune
	for _, w := range strings.Fields(name) {
		for _, r := range w {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				out = append(out, unicode.ToUpper(r))
				break
			}
		}
		if len(out) == 2 {
			break
		}
	}
	if len(out) == 0 {
		return "?"
	}
	return string(out)
}

func moduleNames(ms []store.Module) string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.Name
	}
	return strings.Join(names, ", ")
}

// Quote puts a token's name in quotation marks for a message.
func Quote(name string) string { return "“" + name + "”" }

// orNone shows an empty value in an audit change as "(none)".
func orNone(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}
