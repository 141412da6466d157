package web

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"apitokens/store"
	"apitokens/templates"
)

// The fields each form posts. Anything else is refused with a 422, so that
// no field a page does not show (status, account, digest…) can be slipped in.
var (
	wizardFields = []string{csrfField, "draft", "step", "go", "name", "description",
		"logo", "logo_data", "logo_remove", "modules", "no_modules", "expiry", "expires_on",
		"allowed_addresses", "allow_everyone"}
	editFields = []string{csrfField, "from", "name", "description", "logo", "logo_data", "logo_remove",
		"modules", "no_modules", "expiry", "expires_on", "allowed_addresses", "allow_everyone"}
	revealFields = []string{csrfField, "password"}
	rotateFields = []string{csrfField, "from", "grace", "reason"}
	// bulkFields are what the bulk form and its confirmation page post: the
	// selection (ids, or all with the filter), the action, and the list
	// view to go back to.
	bulkFields = append([]string{csrfField, "action", "ids", "all", "count", "selection", "confirm", "return", "reason"},
		templates.FilterParams...)
)

// unknownField returns the first posted field, by name, that is not in
// allowed; "" when there is none.
func unknownField(r *http.Request, allowed []string) string {
	names := slices.Collect(maps.Keys(r.PostForm))
	if r.MultipartForm != nil {
		names = slices.AppendSeq(names, maps.Keys(r.MultipartForm.File))
	}
	slices.Sort(names)
	for _, k := range names {
		if !slices.Contains(allowed, k) {
			return k
		}
	}
	return ""
}

func unexpectedField(name string) string {
	return fmt.Sprintf("The form sent a field this page does not have (%s). Nothing was saved; please use the form as shown.", strconv.Quote(name))
}

// checkGeneral checks the General step of the Add wizard: name,
// description, expiry and allowed addresses.
func (s *Server) checkGeneral(f *templates.TokenForm) {
	checkText(f)
	s.checkExpiry(f)
	checkAddresses(f)
}

// checkAddresses checks a token form's allowed addresses as the store
// will.
func checkAddresses(f *templates.TokenForm) {
	_, err := store.ParseAllowedAddresses(f.AddressLines(), f.AllowEveryone)
	if fields, ok := fieldMessages(err); ok {
		maps.Copy(f.Errors, fields)
	}
}

// checkText checks a token form's name and description, as the store
// will, and keeps them as it will store them (trimmed).
func checkText(f *templates.TokenForm) {
	u := store.TokenUpdate{Name: f.Name, Description: f.Description}
	if fields, ok := fieldMessages(u.Validate()); ok {
		maps.Copy(f.Errors, fields)
	}
	f.Name, f.Description = u.Name, u.Description
}

// checkExpiry turns a token form's expiry choice into its date.
func (s *Server) checkExpiry(f *templates.TokenForm) {
	at, msg := expiryDate(f.Expiry, f.ExpiresOn, s.now())
	if msg != "" {
		f.Errors["expires"] = msg
	}
	f.ExpiresAt = at
}

// expiryDate turns the expiry choice into a moment: a number of days from
// now, or the end of a chosen day in UTC. It returns a message when the
// choice cannot be used.
func expiryDate(choice, on string, now time.Time) (time.Time, string) {
	i := slices.IndexFunc(templates.ExpiryChoices, func(c templates.ExpiryChoice) bool { return c.Value == choice })
	switch {
	case i < 0:
		return time.Time{}, "Choose an expiry from the list."
	case templates.ExpiryChoices[i].Days > 0:
		return now.AddDate(0, 0, templates.ExpiryChoices[i].Days).Truncate(time.Second), ""
	case choice == templates.ExpiryCustom:
		day, err := time.Parse(time.DateOnly, strings.TrimSpace(on))
		if err != nil {
			return time.Time{}, "Enter the expiry date as a date, for example 2027-01-31."
		}
		end := day.AddDate(0, 0, 1)
		if fields, ok := fieldMessages(store.CheckExpiry(end, now)); ok {
			return time.Time{}, fields["expires"]
		}
		return end, ""
	}
	return time.Time{}, "" // never
}

// checkModuleChoice accepts only the account's enabled modules, and no
// module at all only when the person confirms it: such a token can call no
// API.
func checkModuleChoice(f *templates.TokenForm) {
	for _, id := range f.ModuleIDs {
		if !slices.ContainsFunc(f.Modules, func(m store.Module) bool { return m.ID == id }) {
			f.Errors["modules"] = "Choose only modules enabled for this account."
			return
		}
	}
	if len(f.ModuleIDs) == 0 && !f.NoModules {
		f.Errors["modules"] = "Choose at least one module, or confirm that this token needs none. " + templates.MsgNoModules
	}
}
