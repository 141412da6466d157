package web

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"apitokens/store"
	"apitokens/templates"
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
	if fields, ok := fieldMessages(err); ok {
		f.Errors = fields
		return s.renderEdit(c, http.StatusUnprocessableEntity, t, f, origin)
	}
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("The API token %s has been updated.", templates.Quote(saved.Name))
	if !changed {
		msg = fmt.Sprintf("Nothing to save: the API token %s was not changed.", templates.Quote(saved.Name))
	}
	s.flash(c, flashSuccess, msg)
	return c.Redirect(http.StatusSeeOther, origin.Path(t.ID))
}
