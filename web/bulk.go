package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"apitokens/store"
	"apitokens/templates"
)

// bulkFields are what the bulk form and its confirmation page post: the
// selection (ids, or all with the filter), the action, and the list view
// to go back to.
var bulkFields = append([]string{csrfField, "action", "ids", "all", "count", "selection", "confirm", "return"}, templates.FilterParams...)

const (
	// confirmNamed is how many tokens a confirmation names; "and N more"
	// stands for the rest.
	confirmNamed = 20
	// skipsNamed is how many unchanged tokens the message after a bulk
	// action names, keeping it readable and the session cookie small.
	skipsNamed = 10
	// nameInMessage bounds a token's name in that message, for the same reasons.
	nameInMessage = 40
	// maxMessageBytes bounds the names in that message: it travels in the
	// session cookie, which holds 4 KB once encrypted and encoded (about
	// twice the message).
	maxMessageBytes = 1200
)

// handleTokenBulk disables, enables or deletes the selected tokens, or all
// that match the filter. Without confirm=1 it answers with a confirmation
// page naming them; with it, it acts, leaves one message with the count
// and every token it did not change, and goes back to the list view.
func (s *Server) handleTokenBulk(c echo.Context) error {
	u, by := actor(c)
	ctx := c.Request().Context()
	r := c.Request()
	if k := unknownField(r, bulkFields); k != "" {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, unexpectedField(k))
	}
	a, ok := templates.BulkActionNamed(postValue(c, "action"))
	if !ok {
		return echo.NewHTTPError(http.StatusUnprocessableEntity,
			"Choose Disable, Enable or Delete for the selected API tokens. Nothing was changed.")
	}
	ids := r.PostForm["ids"]
	for _, id := range ids {
		// Anything but a token ID is not a selection the page made.
		if !store.IsTokenID(id) {
			return echo.NewHTTPError(http.StatusUnprocessableEntity, fmt.Sprintf(
				"%s is not an API token ID. Nothing was changed; please use the list as shown.", strconv.Quote(id)))
		}
	}
	back := listReturn(postValue(c, "return"))
	refuse := func(msg string) error {
		s.flash(c, "error", msg)
		return c.Redirect(http.StatusSeeOther, back)
	}

	all := postValue(c, "all") == "1"
	fields := []templates.HiddenField{{Name: "return", Value: postValue(c, "return")}}
	if all {
		f, q, err := listFilter(r.PostForm)
		if err == nil {
			// By name: the confirmation names the first ones.
			f.Sort, f.Order = store.SortName, ""
			ids, err = s.store.TokenIDs(ctx, u.AccountID, f)
		}
		var ve *store.ValidationError
		if errors.As(err, &ve) {
			return refuse(validationMessage(ve) + " Nothing was changed.")
		}
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return refuse("No API tokens match these filters any more. Nothing was changed.")
		}
		fields = append(fields, templates.HiddenField{Name: "all", Value: "1"},
			templates.HiddenField{Name: "count", Value: strconv.Itoa(len(ids))},
			templates.HiddenField{Name: "selection", Value: selectionDigest(ids)})
		for _, k := range templates.FilterParams {
			if val := q.Get(k); val != "" {
				fields = append(fields, templates.HiddenField{Name: k, Value: val})
			}
		}
	} else {
		ids = store.UniqueIDs(ids)
		if len(ids) == 0 {
			return refuse("Select at least one API token.")
		}
		for _, id := range ids {
			fields = append(fields, templates.HiddenField{Name: "ids", Value: id})
		}
	}

	confirmed := postValue(c, "confirm") == "1"
	var note string
	if all && confirmed && postValue(c, "selection") != selectionDigest(ids) {
		// Other tokens match than those the person agreed to act on: as
		// many, perhaps, but not the same ones.
		confirmed = false
		note = fmt.Sprintf("The API tokens that match these filters have changed since you were asked; %s match now. Nothing has been changed yet: check them and confirm again.",
			templates.CountTokens(len(ids)))
		if was, err := strconv.Atoi(postValue(c, "count")); err == nil && was != len(ids) {
			note = fmt.Sprintf("The filters now match %s, not %d as when you asked. Nothing has been changed yet: check the list and confirm again.",
				templates.CountTokens(len(ids)), was)
		}
	}
	if !confirmed {
		return s.renderBulkConfirm(c, templates.BulkConfirmView{
			Action: a, Count: len(ids), All: all, Fields: fields, Return: back, Note: note,
		}, ids)
	}

	var res store.BulkResult
	var err error
	switch a.Action {
	case store.ActionDelete:
		res, err = s.store.BulkDeleteTokens(ctx, u.AccountID, ids, by)
	case store.ActionDisable:
		res, err = s.store.BulkSetTokenStatus(ctx, u.AccountID, ids, store.StatusDisabled, by)
	default:
		res, err = s.store.BulkSetTokenStatus(ctx, u.AccountID, ids, store.StatusActive, by)
	}
	var ve *store.ValidationError
	if errors.As(err, &ve) {
		return refuse(validationMessage(ve) + " Nothing was changed.")
	}
	if err != nil && len(res.Changed) == 0 && len(res.Skipped) == 0 {
		return err
	}
	msg, kind := s.bulkMessage(ctx, u.AccountID, a, res)
	if err != nil {
		// Some batches were committed before the error: say what was done.
		s.log.Error("bulk action stopped", slog.String("action", string(a.Action)), slog.Int("changed", len(res.Changed)),
			slog.Int("of", len(ids)), slog.Any("err", err))
		msg += fmt.Sprintf(" The other %d could not be changed because of an error; please try again.",
			len(ids)-len(res.Changed)-len(res.Skipped))
		kind = "warning"
	}
	s.flash(c, kind, msg)
	return c.Redirect(http.StatusSeeOther, back)
}

// selectionDigest names a set of token IDs in a few bytes, so that the
// confirmation of "all matching" can check that the set it acts on is the
// one the person saw, without carrying up to 10,000 IDs through the form.
func selectionDigest(ids []string) string {
	sorted := slices.Sorted(slices.Values(ids))
	sum := sha256.Sum256([]byte(strings.Join(sorted, ",")))
	return hex.EncodeToString(sum[:16])
}

// renderBulkConfirm shows the confirmation page, naming the first tokens of
// the selection.
func (s *Server) renderBulkConfirm(c echo.Context, v templates.BulkConfirmView, ids []string) error {
	u, _ := currentUser(c)
	ctx := c.Request().Context()
	for _, id := range ids[:min(len(ids), confirmNamed)] {
		t, err := s.store.TokenByID(ctx, u.AccountID, id)
		if errors.Is(err, store.ErrNotFound) {
			t = store.Token{ID: id} // the action will say it was not found
		} else if err != nil {
			return err
		}
		v.Named = append(v.Named, t)
	}
	p, err := s.page(c, v.Action.Question(v.Count))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, templates.TokenBulkConfirm(p, v))
}

// bulkMessage is the one message after a bulk action: how many tokens it
// changed and, token by token, which it did not and why. Its kind is
// "success" when every token changed, "warning" when some did, and "error"
// when none did.
func (s *Server) bulkMessage(ctx context.Context, accountID string, a templates.BulkAction, res store.BulkResult) (string, string) {
	var b strings.Builder
	kind := "success"
	switch n := len(res.Changed); {
	case n == 1:
		fmt.Fprintf(&b, "1 API token has been %s.", a.Past)
	case n > 1:
		fmt.Fprintf(&b, "%d API tokens have been %s.", n, a.Past)
	default:
		b.WriteString("No API tokens were changed.")
		kind = "error"
	}
	if len(res.Skipped) == 0 {
		return b.String(), kind
	}
	if kind == "success" {
		kind = "warning"
	}
	b.WriteString(" Not changed: ")
	named := 0
	for _, sk := range res.Skipped[:min(len(res.Skipped), skipsNamed)] {
		name := ""
		if sk.Reason == store.SkipAlreadyActive || sk.Reason == store.SkipAlreadyDisabled {
			// Still there, so it has a name; a missing one has only its ID.
			if t, err := s.store.TokenByID(ctx, accountID, sk.ID); err == nil {
				name = t.Name
			}
		}
		entry := fmt.Sprintf("%s — %s", sk.ID, sk.Reason)
		if name != "" {
			entry = fmt.Sprintf("%s (%s) — %s", templates.Quote(shorten(name, nameInMessage)), sk.ID, sk.Reason)
		}
		if named > 0 && b.Len()+len(entry) > maxMessageBytes {
			break // the rest are counted
		}
		if named > 0 {
			b.WriteString("; ")
		}
		b.WriteString(entry)
		named++
	}
	if more := len(res.Skipped) - named; more > 0 {
		fmt.Fprintf(&b, "; and %d more", more)
	}
	b.WriteString(".")
	return b.String(), kind
}

// validationMessage joins a validation error's messages, in a stable order.
func validationMessage(ve *store.ValidationError) string {
	keys := make([]string, 0, len(ve.Fields))
	for k := range ve.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	msgs := make([]string, len(keys))
	for i, k := range keys {
		msgs[i] = ve.Fields[k]
	}
	return strings.Join(msgs, " ")
}

// shorten cuts a name to n characters, marking the cut.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
