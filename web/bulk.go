package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"apitokens/store"
	"apitokens/templates"
)

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
	r := c.Request()
	if k := unknownField(r, bulkFields); k != "" {
		return problemValidation.with(unexpectedField(k))
	}
	a, ok := templates.BulkActionNamed(postValue(c, "action"))
	if !ok {
		return problemValidation.with("Choose Disable, Enable or Delete for the selected API tokens. Nothing was changed.")
	}
	for _, id := range r.PostForm["ids"] {
		// Anything but a token ID is not a selection the page made.
		if !store.IsTokenID(id) {
			return problemValidation.with(fmt.Sprintf(
				"%s is not an API token ID. Nothing was changed; please use the list as shown.", strconv.Quote(id)))
		}
	}
	back := listReturn(postValue(c, "return"))
	reason, err := store.CheckReason(postValue(c, "reason"))
	if fields, ok := fieldMessages(err); ok {
		s.flash(c, flashError, fields["reason"]+" Nothing was changed.")
		return c.Redirect(http.StatusSeeOther, back)
	}
	sel, refusal, err := s.readBulkSelection(c)
	if err != nil {
		return err
	}
	if refusal != "" {
		s.flash(c, flashError, refusal)
		return c.Redirect(http.StatusSeeOther, back)
	}
	if note, confirmed := bulkConfirmed(c, sel); !confirmed {
		return s.renderBulkConfirm(c, templates.BulkConfirmView{
			Action: a, Count: len(sel.ids), All: sel.all, Fields: sel.fields, Return: back, Note: note, Reason: reason,
		}, sel.ids)
	}
	return s.applyBulk(c, a, sel.ids, back, reason)
}

// bulkSelection is what a bulk action takes: its tokens, and the fields
// that carry the same selection to the confirmation.
type bulkSelection struct {
	ids    []string
	all    bool // every token that matches the filter
	fields []templates.HiddenField
}

// readBulkSelection reads the selection: the ticked rows, or every token
// that matches the filter, found now. A selection that cannot be acted on
// comes back as a refusal, a message for the list.
func (s *Server) readBulkSelection(c echo.Context) (bulkSelection, string, error) {
	u, _ := currentUser(c)
	r := c.Request()
	sel := bulkSelection{all: postValue(c, "all") == "1",
		fields: []templates.HiddenField{{Name: "return", Value: postValue(c, "return")}}}
	if !sel.all {
		sel.ids = store.UniqueIDs(r.PostForm["ids"])
		if len(sel.ids) == 0 {
			return sel, "Select at least one API token.", nil
		}
		for _, id := range sel.ids {
			sel.fields = append(sel.fields, templates.HiddenField{Name: "ids", Value: id})
		}
		return sel, "", nil
	}
	f, q, err := listFilter(r.PostForm)
	if err == nil {
		// By name: the confirmation names the first ones.
		f.Sort, f.Order = store.SortName, ""
		sel.ids, err = s.store.TokenIDs(c.Request().Context(), u.AccountID, f)
	}
	if fields, ok := fieldMessages(err); ok {
		return sel, joinMessages(fields) + " Nothing was changed.", nil
	}
	if err != nil {
		return sel, "", err
	}
	if len(sel.ids) == 0 {
		return sel, "No API tokens match these filters any more. Nothing was changed.", nil
	}
	sel.fields = append(sel.fields, templates.HiddenField{Name: "all", Value: "1"},
		templates.HiddenField{Name: "count", Value: strconv.Itoa(len(sel.ids))},
		templates.HiddenField{Name: "selection", Value: selectionDigest(sel.ids)})
	for _, k := range templates.FilterParams {
		if val := q.Get(k); val != "" {
			sel.fields = append(sel.fields, templates.HiddenField{Name: k, Value: val})
		}
	}
	return sel, "", nil
}

// bulkConfirmed reports whether the person confirmed this very selection;
// when other tokens match "all" than those they agreed to act on, the note
// says why they are asked again.
func bulkConfirmed(c echo.Context, sel bulkSelection) (note string, confirmed bool) {
	if postValue(c, "confirm") != "1" {
		return "", false
	}
	if !sel.all || postValue(c, "selection") == selectionDigest(sel.ids) {
		return "", true
	}
	// As many, perhaps, but not the same ones.
	note = fmt.Sprintf("The API tokens that match these filters have changed since you were asked; %s match now. Nothing has been changed yet: check them and confirm again.",
		templates.CountTokens(len(sel.ids)))
	if was, err := strconv.Atoi(postValue(c, "count")); err == nil && was != len(sel.ids) {
		note = fmt.Sprintf("The filters now match %s, not %d as when you asked. Nothing has been changed yet: check the list and confirm again.",
			templates.CountTokens(len(sel.ids)), was)
	}
	return note, false
}

// applyBulk takes the confirmed action on the tokens and goes back to the
// list with one message saying what it did.
func (s *Server) applyBulk(c echo.Context, a templates.BulkAction, ids []string, back, reason string) error {
	u, by := actor(c)
	by = by.WithReason(reason)
	ctx := c.Request().Context()
	res, err := s.store.BulkChangeTokens(ctx, u.AccountID, ids, a.Action, by)
	if fields, ok := fieldMessages(err); ok {
		s.flash(c, flashError, joinMessages(fields)+" Nothing was changed.")
		return c.Redirect(http.StatusSeeOther, back)
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
		kind = flashWarning
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
	if v.Action.Action.Stops() {
		sum, err := s.store.SummarizeUsage(ctx, u.AccountID, ids)
		if err != nil {
			return err
		}
		v.Usage = templates.NoteUsage(sum, s.now(), len(ids))
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
	kind := flashSuccess
	switch n := len(res.Changed); {
	case n == 1:
		fmt.Fprintf(&b, "1 API token has been %s.", a.Past)
	case n > 1:
		fmt.Fprintf(&b, "%d API tokens have been %s.", n, a.Past)
	default:
		b.WriteString("No API tokens were changed.")
		kind = flashError
	}
	if len(res.Skipped) == 0 {
		return b.String(), kind
	}
	if kind == flashSuccess {
		kind = flashWarning
	}
	b.WriteString(" Not changed: ")
	named := 0
	for _, sk := range res.Skipped[:min(len(res.Skipped), skipsNamed)] {
		name := ""
		if sk.Reason != store.SkipNotFound && sk.Reason != store.SkipDeleted {
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

// joinMessages joins a validation error's messages, in the order of their
// fields.
func joinMessages(fields map[string]string) string {
	msgs := make([]string, 0, len(fields))
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		msgs = append(msgs, fields[k])
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
