package web

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"apitokens/store"
	"apitokens/templates"
	"apitokens/web/paths"
)

// The Add wizard's body may carry an upload of up to store.MaxLogoBytes,
// with room for the logo carried from an earlier step (base64 of a small
// PNG) and the other fields.
const maxWizardBody = store.MaxLogoBytes + 512<<10

// wizardTooLarge is the 413 of the wizard: only a logo makes its form that
// large.
var wizardTooLarge = fmt.Sprintf("The logo is far over its limit of %s. Go back, choose a smaller PNG or JPEG, and try again.",
	store.MaxLogoSize)

// Session cookie values that make Add count once per run of the wizard,
// and let the summary that follows show the new token's secret once.
const (
	keyAddedDraft = "added_draft"
	keyAddedToken = "added_token"
	// keySecretDue holds the ID of the token whose summary has not been
	// shown yet: the secret itself never leaves the server but on that page.
	keySecretDue = "secret_due"
)

// wizardSteps are the steps of the Add wizard that are forms, in the order
// the stepper shows. The summary is not one of them: Add leads to it.
var wizardSteps = func() []string {
	var out []string
	for _, s := range templates.WizardSteps {
		if s.ID != templates.StepSummary {
			out = append(out, s.ID)
		}
	}
	return out
}()

// wizardStep is a step of the Add wizard, by its place in wizardSteps.
type wizardStep int

// stepNamed is the step with the name; an unknown name is the first step.
func stepNamed(name string) wizardStep { return wizardStep(max(slices.Index(wizardSteps, name), 0)) }

func (w wizardStep) name() string { return wizardSteps[w] }

// back is the step before this one; next the one after.
func (w wizardStep) back() wizardStep { return max(w-1, 0) }
func (w wizardStep) next() wizardStep { return min(w+1, wizardStep(len(wizardSteps)-1)) }

// stepToFix is the step that shows problems: Modules when only the modules
// are wrong, General (where everything else is) otherwise.
func stepToFix(problems map[string]string) string {
	if problems["modules"] != "" && len(problems) == 1 {
		return templates.StepModules
	}
	return templates.StepGeneral
}

func (s *Server) handleTokenNew(c echo.Context) error {
	u, _ := currentUser(c)
	mods, err := s.store.Modules(c.Request().Context(), u.AccountID)
	if err != nil {
		return err
	}
	f := templates.TokenForm{Step: templates.StepGeneral, Draft: randomToken(), Expiry: templates.ExpiryNever, Modules: mods}
	return s.renderWizard(c, http.StatusOK, f)
}

func (s *Server) renderWizard(c echo.Context, status int, f templates.TokenForm) error {
	p, err := s.page(c, "Add API token")
	if err != nil {
		return err
	}
	return render(c, status, templates.TokenWizard(p, f))
}

// handleTokenWizard takes one step of the Add wizard: it checks what the
// step gathered and shows the next one, the previous one (Back), or the same
// one with a message per field (422). Add at the overview creates the token
// and leads to its summary.
func (s *Server) handleTokenWizard(c echo.Context) error {
	u, _ := currentUser(c)
	mods, err := s.store.Modules(c.Request().Context(), u.AccountID)
	if err != nil {
		return err
	}
	f := templates.TokenForm{
		Step:             postValue(c, "step"),
		Draft:            wizardDraft(postValue(c, "draft")),
		Name:             postValue(c, "name"),
		Description:      postValue(c, "description"),
		ModuleIDs:        c.Request().PostForm["modules"],
		NoModules:        postValue(c, "no_modules") != "",
		Expiry:           postValue(c, "expiry"),
		ExpiresOn:        postValue(c, "expires_on"),
		Modules:          mods,
		Errors:           map[string]string{},
		AllowedAddresses: postValue(c, "allowed_addresses"),
		AllowEveryone:    postValue(c, "allow_everyone") != "",
	}
	at := stepNamed(f.Step)
	f.Step = at.name()
	if f.Expiry == "" {
		f.Expiry = templates.ExpiryNever
	}
	if k := unknownField(c.Request(), wizardFields); k != "" {
		f.Errors["form"] = unexpectedField(k)
		return s.renderWizard(c, http.StatusUnprocessableEntity, f)
	}
	s.readLogo(c, &f)
	if postValue(c, "go") == "back" {
		// Going back checks nothing: the person is about to change it.
		f.Step = at.back().name()
		delete(f.Errors, "form")
		return s.renderWizard(c, http.StatusOK, f)
	}
	// Every step up to this one is checked again: hidden fields can be
	// changed as easily as visible ones.
	s.checkGeneral(&f)
	if at >= stepNamed(templates.StepModules) {
		checkModuleChoice(&f)
	}
	if len(f.Errors) > 0 {
		f.Step = stepToFix(f.Errors)
		return s.renderWizard(c, http.StatusUnprocessableEntity, f)
	}
	if f.Step != templates.StepOverview || postValue(c, "go") != "add" {
		f.Step = at.next().name()
		return s.renderWizard(c, http.StatusOK, f)
	}
	return s.addToken(c, f)
}

// addToken is Add at the wizard's overview: it creates the token, once per
// run of the wizard, and answers with its secret.
func (s *Server) addToken(c echo.Context, f templates.TokenForm) error {
	u, by := actor(c)
	ctx := c.Request().Context()
	sess := session(c)
	if sess.Values[keyAddedDraft] == f.Draft {
		// The same wizard sent Add twice (a double click, Back to the
		// overview and Add again): the token exists, show it rather than
		// make another.
		id, _ := sess.Values[keyAddedToken].(string)
		return s.addedBefore(c, id)
	}
	// Two Adds of one wizard sent at once carry the same cookie, and may
	// reach two instances: the store adds one token per draft, and tells
	// the other Add which.
	t, _, err := s.store.CreateToken(ctx, store.NewToken{
		AccountID: u.AccountID, Name: f.Name, Description: f.Description,
		ModuleIDs: f.ModuleIDs, ExpiresAt: f.ExpiresAt, Logo: f.LogoPNG(),
		AllowedAddresses: f.AddressLines(), AllowEveryone: f.AllowEveryone,
		Draft: u.ID + " " + f.Draft,
	}, by)
	if added, ok := errors.AsType[*store.DraftAdded](err); ok {
		return s.addedBefore(c, added.TokenID)
	}
	if fields, ok := fieldMessages(err); ok {
		maps.Copy(f.Errors, fields)
		f.Step = stepToFix(fields)
		return s.renderWizard(c, http.StatusUnprocessableEntity, f)
	}
	if err != nil {
		return err
	}
	// The summary is reached by a redirect, so that Back and reload ask
	// for a page rather than send Add again; it reads the secret from the
	// store, sealed there, rather than carry it in the cookie or the URL.
	sess.Values[keyAddedDraft], sess.Values[keyAddedToken], sess.Values[keySecretDue] = f.Draft, t.ID, t.ID
	if err := s.saveSession(c, sess); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, paths.TokenAdded(t.ID))
}

// addedBefore answers a second Add of one wizard: the token it added.
func (s *Server) addedBefore(c echo.Context, id string) error {
	u, _ := currentUser(c)
	t, err := s.store.TokenByID(c.Request().Context(), u.AccountID, id)
	if err != nil {
		return err
	}
	s.flash(c, flashSuccess, templates.TokenMessage(t, templates.DidAddBefore))
	return c.Redirect(http.StatusSeeOther, paths.Token(t.ID))
}

// handleTokenAdded is the summary of the Add wizard. Its first showing
// after Add has the token's secret; later ones (Back, reload) say where to
// show it again, after a password confirmation.
func (s *Server) handleTokenAdded(c echo.Context) error {
	u, _ := currentUser(c)
	ctx := c.Request().Context()
	t, err := s.store.TokenByID(ctx, u.AccountID, c.Param("id"))
	if err != nil {
		return err
	}
	secret, err := s.takeDueSecret(c, keySecretDue, t)
	if err != nil {
		return err
	}
	p, err := s.page(c, "API token added")
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, templates.TokenAdded(p, t, secret))
}
