package templates

import (
	"encoding/base64"
	"slices"
	"strings"
	"time"

	"github.com/a-h/templ"

	"apitokens/store"
)

// Steps of the Add wizard, in order. The summary is not a form: it is the
// answer to Add.
const (
	StepGeneral  = "general"
	StepModules  = "modules"
	StepOverview = "overview"
	StepSummary  = "summary"
)

// WizardStep is a step of the Add wizard as its stepper shows it.
type WizardStep struct{ ID, Label string }

// WizardSteps are the steps of the Add wizard, in order.
var WizardSteps = []WizardStep{
	{StepGeneral, "General"}, {StepModules, "Modules"}, {StepOverview, "Overview"}, {StepSummary, "Summary"},
}

// Expiry choices of the Add wizard and the Edit form. Only Edit offers to
// keep the expiry date the token has.
const (
	ExpiryNever  = "never"
	ExpiryCustom = "custom"
	ExpiryKeep   = "keep"
)

// ExpiryChoice is an option of the expiry field.
type ExpiryChoice struct {
	Value, Label string
	Days         int // how many days from now it expires; 0 for never and a custom date
}

// ExpiryChoices are the options of the expiry field: a number of days, never,
// or a date of the person's choosing.
var ExpiryChoices = []ExpiryChoice{
	{ExpiryNever, "No expiry", 0}, {"30", "30 days", 30}, {"60", "60 days", 60}, {"90", "90 days", 90},
	{ExpiryCustom, "Custom date", 0},
}

// TokenForm is what the Add wizard and the Edit form show: the person's input
// as they typed it, and a message per field that needs attention.
type TokenForm struct {
	Step        string // the wizard step shown
	Draft       string // identifies one run of the wizard, so Add counts once
	Name        string
	Description string
	ModuleIDs   []string       // the modules ticked
	Modules     []store.Module // the account's enabled modules, to choose from
	Expiry      string         // one of ExpiryChoices
	ExpiresOn   string         // YYYY-MM-DD, with ExpiryCustom
	ExpiresAt   time.Time      // what Expiry means, for the overview
	Logo        string         // base64 of the normalised PNG, carried between steps
	LogoURL     string         // on Edit, the logo the token has, if any
	LogoTag     string         // the server's tag on Logo, so that the copy sent back is taken as it is
	// NoModules confirms that a token with no module, which cannot call
	// any API, is what the person wants.
	NoModules bool
	// AllowedAddresses are the addresses the token may be used from, one
	// per line, as typed; AllowEveryone confirms a range of every address.
	AllowedAddresses string
	AllowEveryone    bool
	// Editing is set on the Edit form, which offers to keep the expiry
	// date the token has (CurrentExpiry, zero for never).
	Editing       bool
	CurrentExpiry time.Time
	Expired       bool // the token is past CurrentExpiry: Edit renews it
	Errors        map[string]string
}

// expiryChoices are the options of the expiry field: on Edit, keeping the
// date the token has comes first.
func (f TokenForm) expiryChoices() []ExpiryChoice {
	if !f.Editing {
		return ExpiryChoices
	}
	keep := "Keep: no expiry"
	if !f.CurrentExpiry.IsZero() {
		keep = "Keep: " + whenText(f.CurrentExpiry)
	}
	return append([]ExpiryChoice{{ExpiryKeep, keep, 0}}, ExpiryChoices...)
}

// expirySelected reports whether the choice is the one to show selected.
func (f TokenForm) expirySelected(c ExpiryChoice) bool {
	if f.Expiry == "" {
		return c.Value == f.expiryChoices()[0].Value
	}
	return c.Value == f.Expiry
}

// describedBy is the aria-describedby of a field: its message when it has
// one, then its hints.
func (f TokenForm) describedBy(field string, hints ...string) string {
	ids := hints
	if f.fieldError(field) != "" {
		ids = append([]string{field + "-error"}, hints...)
	}
	return strings.Join(ids, " ")
}

// AddressLines are the allowed addresses as typed, a line each, blank
// lines dropped.
func (f TokenForm) AddressLines() []string {
	var out []string
	for _, l := range strings.Split(f.AllowedAddresses, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// allowsEveryone reports whether the allowed addresses have a range of
// every address, which takes a confirmation: the box is shown then.
func (f TokenForm) allowsEveryone() bool {
	if f.AllowEveryone {
		return true
	}
	a, err := store.ParseAllowedAddresses(f.AddressLines(), true)
	return err == nil && a.Everyone()
}

// Checked reports whether the module with the given ID is ticked.
func (f TokenForm) Checked(id string) bool { return slices.Contains(f.ModuleIDs, id) }

// Chosen returns the ticked modules, in the account's order.
func (f TokenForm) Chosen() []store.Module {
	var out []store.Module
	for _, m := range f.Modules {
		if f.Checked(m.ID) {
			out = append(out, m)
		}
	}
	return out
}

// carriedLogo is the value that carries the logo to the next step: the
// logo and its tag.
func (f TokenForm) carriedLogo() string { return f.Logo + "." + f.LogoTag }

// LogoPNG is the logo the form carries, as the PNG to store; nil for none.
func (f TokenForm) LogoPNG() []byte {
	if f.Logo == "" {
		return nil
	}
	png, _ := base64.StdEncoding.DecodeString(f.Logo)
	return png
}

// fieldError is the message for a field, "" when it is fine.
func (f TokenForm) fieldError(field string) string { return f.Errors[field] }

// errorFields lists the fields with a message, in the order they appear on
// the forms, for the summary of errors at the top.
func (f TokenForm) errorFields() []string {
	var out []string
	for _, k := range []string{"form", "logo", "name", "description", "expires", store.FieldAddresses, "modules"} {
		if f.Errors[k] != "" {
			out = append(out, k)
		}
	}
	return out
}

// fieldLabel names a field in the summary of errors.
// summaryLine is a field's message as the summary above the form lists it:
// after the field's label, unless the message names the field already
// ("Name is required.", not "Name: Name is required.").
func summaryLine(field, msg string) string {
	label := fieldLabel(field)
	if strings.Contains(strings.ToLower(msg), strings.ToLower(label)) {
		return msg
	}
	return label + ": " + msg
}

func fieldLabel(field string) string {
	switch field {
	case "logo":
		return "Logo"
	case "name":
		return "Name"
	case "description":
		return "Description"
	case "expires":
		return "Expiry"
	case "modules":
		return "Modules"
	case store.FieldAddresses:
		return "Allowed addresses"
	}
	return "Form"
}

// fieldAnchor is the id a summary entry links to.
func fieldAnchor(field string) string {
	switch field {
	case "expires":
		return "#expiry"
	case "modules":
		return "#modules"
	case store.FieldAddresses:
		return "#allowed_addresses"
	case "form":
		return "#main"
	}
	return "#" + field
}

// logoDataURL shows a logo carried between wizard steps; the policy allows
// data: images, never scripts.
// The value is base64 of a PNG this server encoded, so it is safe to mark.
func logoDataURL(b64 string) templ.SafeURL { return templ.SafeURL("data:image/png;base64," + b64) }

// logoLimit is the largest logo upload, as the hint says it.
func logoLimit() string { return store.MaxLogoSize }
