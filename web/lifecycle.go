package web

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"apitokens/store"
	"apitokens/templates"
	"apitokens/web/paths"
)

// revealWindow is how long a password confirmation lets a person show token
// values without being asked again.
const revealWindow = 10 * time.Minute

// Wrong passwords when confirming, per user: five, then one a minute.
const (
	confirmFailureBurst    = 5
	confirmFailureInterval = time.Minute
)

// The fields each form posts. Anything else is refused with a 422, so that
// no field a page does not show (status, account, digest…) can be slipped in.
var (
	wizardFields = []string{csrfField, "draft", "step", "go", "name", "description",
		"logo", "logo_data", "logo_remove", "modules", "expiry", "expires_on"}
	editFields   = []string{csrfField, "from", "name", "description", "modules"}
	revealFields = []string{csrfField, "password"}
)

// Session cookie values that make Add count once per run of the wizard.
const (
	keyAddedDraft = "added_draft"
	keyAddedToken = "added_token"
)

// unknownField returns the first posted field, by name, that is not in
// allowed; "" when there is none.
func unknownField(r *http.Request, allowed []string) string {
	var names []string
	for k := range r.PostForm {
		names = append(names, k)
	}
	if r.MultipartForm != nil {
		for k := range r.MultipartForm.File {
			names = append(names, k)
		}
	}
	sort.Strings(names)
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
// and answers with its secret.
func (s *Server) handleTokenWizard(c echo.Context) error {
	u, by := actor(c)
	ctx := c.Request().Context()
	mods, err := s.store.Modules(ctx, u.AccountID)
	if err != nil {
		return err
	}
	r := c.Request()
	f := templates.TokenForm{
		Step:        postValue(c, "step"),
		Draft:       postValue(c, "draft"),
		Name:        postValue(c, "name"),
		Description: postValue(c, "description"),
		ModuleIDs:   r.PostForm["modules"],
		Expiry:      postValue(c, "expiry"),
		ExpiresOn:   postValue(c, "expires_on"),
		Modules:     mods,
		Errors:      map[string]string{},
	}
	steps := []string{templates.StepGeneral, templates.StepModules, templates.StepOverview}
	at := slices.Index(steps, f.Step)
	if at < 0 {
		at, f.Step = 0, templates.StepGeneral
	}
	if f.Expiry == "" {
		f.Expiry = templates.ExpiryNever
	}
	if k := unknownField(r, wizardFields); k != "" {
		f.Errors["form"] = unexpectedField(k)
		return s.renderWizard(c, http.StatusUnprocessableEntity, f)
	}
	s.readLogo(c, &f)
	if postValue(c, "go") == "back" {
		// Going back checks nothing: the person is about to change it.
		f.Step = steps[max(at-1, 0)]
		delete(f.Errors, "form")
		return s.renderWizard(c, http.StatusOK, f)
	}
	// Every step up to this one is checked again: hidden fields can be
	// changed as easily as visible ones.
	s.checkGeneral(&f)
	if at >= 1 {
		checkModuleChoice(&f)
	}
	if len(f.Errors) > 0 {
		f.Step = steps[0]
		if f.Errors["modules"] != "" && len(f.Errors) == 1 {
			f.Step = templates.StepModules
		}
		return s.renderWizard(c, http.StatusUnprocessableEntity, f)
	}
	if f.Step != templates.StepOverview || postValue(c, "go") != "add" {
		f.Step = steps[min(at+1, len(steps)-1)]
		return s.renderWizard(c, http.StatusOK, f)
	}

	sess := session(c)
	if f.Draft != "" && sess.Values[keyAddedDraft] == f.Draft {
		// The same wizard sent Add twice (a double click, a reload of the
		// summary): the token exists, show it rather than make another.
		id, _ := sess.Values[keyAddedToken].(string)
		s.flash(c, "success", "This API token has already been added.")
		return c.Redirect(http.StatusSeeOther, paths.Token(id))
	}
	// Two Adds of one wizard sent at once carry the same cookie: the first
	// to claim the draft adds the token, the other waits for it.
	draftKey := u.ID + " " + f.Draft
	claim, first := s.drafts.claim(draftKey, s.now())
	if !first {
		id := claim.wait(ctx)
		if id == "" {
			return echo.NewHTTPError(http.StatusConflict, "This API token is being added already. Check the list in a moment.")
		}
		s.flash(c, "success", "This API token has already been added.")
		return c.Redirect(http.StatusSeeOther, paths.Token(id))
	}
	var logo []byte
	if f.Logo != "" {
		logo, _ = base64.StdEncoding.DecodeString(f.Logo)
	}
	t, secret, err := s.store.CreateToken(ctx, store.NewToken{
		AccountID: u.AccountID, Name: f.Name, Description: f.Description,
		ModuleIDs: f.ModuleIDs, ExpiresAt: f.ExpiresAt, Logo: logo,
	}, by)
	s.drafts.settle(draftKey, claim, t.ID, err == nil)
	var ve *store.ValidationError
	if errors.As(err, &ve) {
		for k, v := range ve.Fields {
			f.Errors[k] = v
		}
		f.Step = templates.StepGeneral
		if ve.Fields["modules"] != "" && len(ve.Fields) == 1 {
			f.Step = templates.StepModules
		}
		return s.renderWizard(c, http.StatusUnprocessableEntity, f)
	}
	if err != nil {
		return err
	}
	sess.Values[keyAddedDraft], sess.Values[keyAddedToken] = f.Draft, t.ID
	if err := s.saveSession(c, sess); err != nil {
		return err
	}
	p, err := s.page(c, "API token added")
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, templates.TokenAdded(p, t, secret))
}

// readLogo takes the logo from a new upload, or from the one carried from an
// earlier step, normalising either: the carried copy comes back from the
// browser and is trusted no more than an upload.
func (s *Server) readLogo(c echo.Context, f *templates.TokenForm) {
	r := c.Request()
	if r.MultipartForm != nil {
		if files := r.MultipartForm.File["logo"]; len(files) > 0 && files[0].Size > 0 {
			file, err := files[0].Open()
			if err != nil {
				f.Errors["logo"] = "The logo could not be read; choose it again."
				return
			}
			defer file.Close()
			data, err := io.ReadAll(io.LimitReader(file, store.MaxLogoBytes+1))
			if err != nil {
				f.Errors["logo"] = "The logo could not be read; choose it again."
				return
			}
			f.Logo = ""
			logo, err := store.NormalizeLogo(data)
			var ve *store.ValidationError
			if errors.As(err, &ve) {
				f.Errors["logo"] = ve.Fields["logo"]
				return
			}
			if err == nil {
				f.Logo = base64.StdEncoding.EncodeToString(logo)
			}
			return
		}
	}
	carried := postValue(c, "logo_data")
	if carried == "" || postValue(c, "logo_remove") != "" {
		return
	}
	raw, err := base64.StdEncoding.DecodeString(carried)
	if err == nil {
		var logo []byte
		if logo, err = store.NormalizeLogo(raw); err == nil {
			f.Logo = base64.StdEncoding.EncodeToString(logo)
			return
		}
	}
	f.Errors["logo"] = "The logo could not be read; choose it again."
}

// checkGeneral checks the General step: name, description and expiry.
func (s *Server) checkGeneral(f *templates.TokenForm) {
	u := store.TokenUpdate{Name: f.Name, Description: f.Description}
	var ve *store.ValidationError
	if errors.As(u.Validate(), &ve) {
		for k, v := range ve.Fields {
			f.Errors[k] = v
		}
	}
	f.Name = u.Name
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
	switch choice {
	case templates.ExpiryNever:
		return time.Time{}, ""
	case "30", "60", "90":
		days, _ := strconv.Atoi(choice)
		return now.AddDate(0, 0, days).Truncate(time.Second), ""
	case templates.ExpiryCustom:
		day, err := time.Parse(time.DateOnly, strings.TrimSpace(on))
		if err != nil {
			return time.Time{}, "Enter the expiry date as a date, for example 2027-01-31."
		}
		end := day.AddDate(0, 0, 1)
		var ve *store.ValidationError
		if errors.As(store.CheckExpiry(end, now), &ve) {
			return time.Time{}, ve.Fields["expires"]
		}
		return end, ""
	}
	return time.Time{}, "Choose an expiry from the list."
}

// checkModuleChoice accepts only the account's enabled modules.
func checkModuleChoice(f *templates.TokenForm) {
	for _, id := range f.ModuleIDs {
		if !slices.ContainsFunc(f.Modules, func(m store.Module) bool { return m.ID == id }) {
			f.Errors["modules"] = "Choose only modules enabled for this account."
			return
		}
	}
}

// editable loads what the Edit form works on: the token in the path, and
// the account's modules to choose from.
func (s *Server) editable(c echo.Context) (store.Token, []store.Module, error) {
	u, _ := currentUser(c)
	ctx := c.Request().Context()
	t, err := s.store.TokenByID(ctx, u.AccountID, c.Param("id"))
	if err != nil {
		return t, nil, err
	}
	mods, err := s.store.Modules(ctx, u.AccountID)
	return t, mods, err
}

func (s *Server) handleTokenEdit(c echo.Context) error {
	t, mods, err := s.editable(c)
	if err != nil {
		return err
	}
	f := templates.TokenForm{Name: t.Name, Description: t.Description, Modules: mods}
	for _, m := range t.Modules {
		f.ModuleIDs = append(f.ModuleIDs, m.ID)
	}
	return s.renderEdit(c, http.StatusOK, t, f, templates.ParseOrigin(c.QueryParam("from")))
}

func (s *Server) renderEdit(c echo.Context, status int, t store.Token, f templates.TokenForm, origin templates.Origin) error {
	p, err := s.page(c, "Edit "+t.Name)
	if err != nil {
		return err
	}
	return render(c, status, templates.TokenEdit(p, t, f, origin))
}

// handleTokenSave saves the Edit form: a 422 with the input kept when it
// does not validate, otherwise a message and back where Edit was opened.
func (s *Server) handleTokenSave(c echo.Context) error {
	u, by := actor(c)
	ctx := c.Request().Context()
	t, mods, err := s.editable(c)
	if err != nil {
		return err
	}
	origin := templates.ParseOrigin(postValue(c, "from"))
	f := templates.TokenForm{
		Name: postValue(c, "name"), Description: postValue(c, "description"),
		ModuleIDs: c.Request().PostForm["modules"], Modules: mods, Errors: map[string]string{},
	}
	if k := unknownField(c.Request(), editFields); k != "" {
		f.Errors["form"] = unexpectedField(k)
		return s.renderEdit(c, http.StatusUnprocessableEntity, t, f, origin)
	}
	saved, changed, err := s.store.UpdateToken(ctx, u.AccountID, t.ID,
		store.TokenUpdate{Name: f.Name, Description: f.Description, ModuleIDs: f.ModuleIDs}, by)
	var ve *store.ValidationError
	if errors.As(err, &ve) {
		f.Errors = ve.Fields
		return s.renderEdit(c, http.StatusUnprocessableEntity, t, f, origin)
	}
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("The API token %s has been updated.", templates.Quote(saved.Name))
	if !changed {
		msg = fmt.Sprintf("Nothing to save: the API token %s was not changed.", templates.Quote(saved.Name))
	}
	s.flash(c, "success", msg)
	return c.Redirect(http.StatusSeeOther, origin.Path(t.ID))
}

// handleTokenReveal shows a token's secret again. It asks for the person's
// password unless they gave it in the last revealWindow, records the reveal
// in the audit trail, and is never cached. With JavaScript it answers JSON,
// without it a page.
func (s *Server) handleTokenReveal(c echo.Context) error {
	u, by := actor(c)
	ctx := c.Request().Context()
	t, err := s.store.TokenByID(ctx, u.AccountID, c.Param("id"))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	wantJSON := strings.Contains(c.Request().Header.Get("Accept"), "application/json")
	ask := func(status int, problem string) error {
		if wantJSON {
			return c.JSON(status, map[string]any{"confirm": true, "error": problem})
		}
		p, err := s.page(c, "Confirm your password")
		if err != nil {
			return err
		}
		return render(c, status, templates.PasswordConfirm(p, t, problem))
	}
	if k := unknownField(c.Request(), revealFields); k != "" {
		return ask(http.StatusUnprocessableEntity, unexpectedField(k))
	}
	sid, _ := session(c).Values[keySessionID].(string)
	confirmed, err := s.store.SessionConfirmedAt(ctx, sid)
	if err != nil {
		return err
	}
	if s.now().Sub(confirmed) >= revealWindow {
		password := postValue(c, "password")
		if password == "" {
			return ask(http.StatusForbidden, "")
		}
		if wait := s.confirms.reserve(u.ID, s.now()); wait > 0 {
			secs := int(math.Ceil(wait.Seconds()))
			c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
			return ask(http.StatusTooManyRequests,
				fmt.Sprintf("Too many wrong passwords. Try again in %d seconds.", secs))
		}
		err := s.store.ConfirmPassword(ctx, sid, password)
		if errors.Is(err, store.ErrInvalidCredentials) {
			s.log.Warn("password confirmation failed", slog.String("user", u.ID), slog.String("token", t.ID), slog.String("ip", c.RealIP()))
			return ask(http.StatusUnprocessableEntity, "That password is not right. Try again.")
		}
		if err != nil {
			return err
		}
		s.confirms.succeed(u.ID, s.now())
	}
	secret, err := s.store.RevealSecret(ctx, u.AccountID, t.ID, by)
	if err != nil {
		return err
	}
	if wantJSON {
		return c.JSON(http.StatusOK, map[string]string{"token": secret})
	}
	p, err := s.page(c, t.Name)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, templates.TokenDetails(p, t, templates.DetailsView{
		Tab: templates.TabGeneral, Endpoint: s.endpoint(c), Secret: secret,
	}))
}

// handleTokenLogo serves a token's logo, a PNG this server encoded.
func (s *Server) handleTokenLogo(c echo.Context) error {
	u, _ := currentUser(c)
	logo, err := s.store.TokenLogo(c.Request().Context(), u.AccountID, c.Param("id"))
	if err != nil {
		return err
	}
	if logo == nil {
		return echo.NewHTTPError(http.StatusNotFound, "This API token has no logo.")
	}
	c.Response().Header().Set("Cache-Control", "private, max-age=300")
	return c.Blob(http.StatusOK, "image/png", logo)
}

// draftClaims lets one request per Add wizard create its token. Claims are
// kept for a while after, so that a late duplicate finds the token too.
type draftClaims struct {
	mu     sync.Mutex
	claims map[string]*draftClaim
}

type draftClaim struct {
	at      time.Time
	settled chan struct{}
	tokenID string // once settled; "" when the Add failed
}

// draftClaimLife is how long a claim is remembered.
const draftClaimLife = 10 * time.Minute

func newDraftClaims() *draftClaims { return &draftClaims{claims: map[string]*draftClaim{}} }

// claim returns the claim on key and whether this caller made it.
func (d *draftClaims) claim(key string, now time.Time) (*draftClaim, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c, ok := d.claims[key]; ok && now.Sub(c.at) < draftClaimLife {
		return c, false
	}
	for k, c := range d.claims {
		if now.Sub(c.at) >= draftClaimLife {
			delete(d.claims, k)
		}
	}
	c := &draftClaim{at: now, settled: make(chan struct{})}
	d.claims[key] = c
	return c, true
}

// settle ends a claim. A failed Add leaves no token and no claim, so that
// the wizard can be sent again.
func (d *draftClaims) settle(key string, c *draftClaim, tokenID string, ok bool) {
	d.mu.Lock()
	if ok {
		c.tokenID = tokenID
	} else if d.claims[key] == c {
		delete(d.claims, key)
	}
	d.mu.Unlock()
	close(c.settled)
}

// wait returns the token the claim's owner added, "" if it failed or the
// request ends first.
func (c *draftClaim) wait(ctx context.Context) string {
	select {
	case <-c.settled:
		return c.tokenID
	case <-ctx.Done():
		return ""
	}
}
