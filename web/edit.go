package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"apitokens/store"
	"apitokens/templates"
	"apitokens/web/paths"
)

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

// editForm is the Edit form of a token, before the person's input.
func (s *Server) editForm(t store.Token, mods []store.Module) templates.TokenForm {
	f := templates.TokenForm{
		Modules: mods, Editing: true, Expiry: templates.ExpiryKeep,
		CurrentExpiry: t.ExpiresAt, Expired: t.Allows(store.ActionRenew, s.now()),
	}
	if t.HasLogo {
		f.LogoURL = paths.TokenLogo(t.ID)
	}
	return f
}

func (s *Server) handleTokenEdit(c echo.Context) error {
	t, mods, err := s.editable(c)
	if err != nil {
		return err
	}
	f := s.editForm(t, mods)
	f.Name, f.Description = t.Name, t.Description
	for _, m := range t.Modules {
		f.ModuleIDs = append(f.ModuleIDs, m.ID)
	}
	// A token saved without modules before keeps that choice confirmed,
	// and one allowed everywhere by a range, that one.
	f.NoModules = len(t.Modules) == 0
	f.AllowedAddresses = strings.Join(t.AllowedAddresses.Strings(), "\n")
	f.AllowEveryone = t.AllowedAddresses.Everyone()
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
	f := s.editForm(t, mods)
	f.Name, f.Description = postValue(c, "name"), postValue(c, "description")
	f.ModuleIDs, f.NoModules = c.Request().PostForm["modules"], postValue(c, "no_modules") != ""
	f.Expiry, f.ExpiresOn = postValue(c, "expiry"), postValue(c, "expires_on")
	f.AllowedAddresses, f.AllowEveryone = postValue(c, "allowed_addresses"), postValue(c, "allow_everyone") != ""
	f.Errors = map[string]string{}
	if k := unknownField(c.Request(), editFields); k != "" {
		f.Errors["form"] = unexpectedField(k)
		return s.renderEdit(c, http.StatusUnprocessableEntity, t, f, origin)
	}
	// Every field is checked before any is saved, so that all problems
	// show at once; the expiry only when it is to change.
	checkText(&f)
	checkAddresses(&f)
	update := store.TokenUpdate{Name: f.Name, Description: f.Description, ModuleIDs: f.ModuleIDs,
		AllowedAddresses: f.AddressLines(), AllowEveryone: f.AllowEveryone}
	if f.Expiry != templates.ExpiryKeep && f.Expiry != "" {
		s.checkExpiry(&f)
		update.Expiry = &f.ExpiresAt
	}
	s.readLogo(c, &f)
	switch {
	case f.Logo != "":
		logo := f.LogoPNG()
		update.Logo = &logo
	case postValue(c, "logo_remove") != "":
		update.Logo = &[]byte{}
	}
	checkModuleChoice(&f)
	if len(f.Errors) > 0 {
		return s.renderEdit(c, http.StatusUnprocessableEntity, t, f, origin)
	}
	saved, changed, err := s.store.UpdateToken(ctx, u.AccountID, t.ID, update, by)
	if fields, ok := fieldMessages(err); ok {
		f.Errors = fields
		return s.renderEdit(c, http.StatusUnprocessableEntity, t, f, origin)
	}
	if err != nil {
		return err
	}
	msg := templates.TokenMessage(saved, templates.DidUpdate)
	if !changed {
		msg = templates.TokenMessage(saved, templates.DidNotChange)
	}
	s.flash(c, flashSuccess, msg)
	return c.Redirect(http.StatusSeeOther, origin.Path(t.ID))
}
