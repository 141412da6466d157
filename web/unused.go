package web

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"apitokens/store"
	"apitokens/templates"
	"apitokens/web/paths"
)

// handleUnusedPolicy is the page of the account's policy on unused tokens.
func (s *Server) handleUnusedPolicy(c echo.Context) error {
	u, _ := currentUser(c)
	p, err := s.store.UnusedPolicy(c.Request().Context(), u.AccountID)
	if err != nil {
		return err
	}
	return s.renderUnusedPolicy(c, http.StatusOK, templates.UnusedPolicyView{Policy: p, Choice: templates.UnusedChoice(p.Days)})
}

func (s *Server) renderUnusedPolicy(c echo.Context, status int, v templates.UnusedPolicyView) error {
	p, err := s.page(c, "Unused API tokens")
	if err != nil {
		return err
	}
	return render(c, status, templates.UnusedPolicyPage(p, v))
}

// unusedPolicyFields are what the policy's form posts.
var unusedPolicyFields = []string{csrfField, "days"}

// handleUnusedPolicySave sets the account's policy on unused tokens and
// goes back to the list, which says what it is now. A period the form does
// not offer is answered with the form again, what is wrong with it, and a
// 400; nothing changes.
func (s *Server) handleUnusedPolicySave(c echo.Context) error {
	r := c.Request()
	if k := unknownField(r, unusedPolicyFields); k != "" {
		return problemValidation.with(unexpectedField(k))
	}
	u, by := actor(c)
	choice := postValue(c, "days")
	policy, err := s.store.SetUnusedPolicy(r.Context(), u.AccountID, parseUnusedChoice(choice), by)
	if fields, invalid := fieldMessages(err); invalid {
		stored, err := s.store.UnusedPolicy(r.Context(), u.AccountID)
		if err != nil {
			return err
		}
		return s.renderUnusedPolicy(c, http.StatusBadRequest, templates.UnusedPolicyView{Policy: stored, Choice: choice, Error: fields["days"]})
	}
	if err != nil {
		return err
	}
	s.flash(c, flashSuccess, templates.UnusedPolicyMessage(policy))
	return c.Redirect(http.StatusSeeOther, paths.Tokens)
}

// parseUnusedChoice reads the form's choice of period: "off", or a number
// of days, which the store checks. What the form does not send ("0",
// "090", "soon") is -1, which the store refuses as every period it does
// not offer.
func parseUnusedChoice(v string) (days int) {
	if v == templates.UnusedChoiceOff {
		return 0
	}
	days, err := strconv.Atoi(v)
	if err != nil || days <= 0 || strconv.Itoa(days) != v {
		return -1
	}
	return days
}

// unusedNotice is what the account's policy disabled that the person has
// not been told of, taken now: only on a page the person will see, as a
// flash message is.
func (s *Server) unusedNotice(c echo.Context, u store.User) (store.UnusedNotice, error) {
	if c.Request().Method == http.MethodHead || fetchedByScript(c.Request()) {
		return store.UnusedNotice{}, nil
	}
	return s.store.TakeUnusedNotice(c.Request().Context(), u)
}

// unusedPolicyInterval is how often each instance runs the accounts'
// policies on unused tokens: a token is disabled within minutes of its
// period's end. Instances may run them at once; each token is disabled once.
const unusedPolicyInterval = 5 * time.Minute

// unusedPolicies runs the accounts' policies on unused tokens.
type unusedPolicies interface {
	DisableUnusedTokens(ctx context.Context) (int, error)
}

// unusedPolicyJob runs the accounts' policies on unused tokens in the
// background, until close.
type unusedPolicyJob struct {
	store unusedPolicies
	log   *slog.Logger
	every time.Duration
	// ctx ends with close, so that a run under way at shutdown stops
	// rather than holding the shutdown up: its transaction rolls back.
	ctx      context.Context
	cancel   context.CancelFunc
	start    sync.Once
	stopOnce sync.Once
	done     chan struct{}
}

func newUnusedPolicyJob(st unusedPolicies, log *slog.Logger, every time.Duration) *unusedPolicyJob {
	ctx, cancel := context.WithCancel(context.Background())
	return &unusedPolicyJob{store: st, log: log, every: every, ctx: ctx, cancel: cancel, done: make(chan struct{})}
}

// run starts the job; close stops it.
func (j *unusedPolicyJob) run() { j.start.Do(func() { go j.loop() }) }

func (j *unusedPolicyJob) loop() {
	defer close(j.done)
	tick := time.NewTicker(j.every)
	defer tick.Stop()
	for {
		select {
		case <-j.ctx.Done():
			return
		case <-tick.C:
			j.once()
		}
	}
}

// once runs the policies, on a deadline of its own, and logs what they
// did: how many tokens, never which secrets.
func (j *unusedPolicyJob) once() {
	ctx, cancel := context.WithTimeout(j.ctx, time.Minute)
	defer cancel()
	n, err := j.store.DisableUnusedTokens(ctx)
	switch {
	case err != nil && j.ctx.Err() != nil:
		// Stopped by close: the next start runs it again.
	case err != nil:
		j.log.Error("disable unused tokens", slog.Any("err", err))
	case n > 0:
		j.log.Info("disabled unused tokens", slog.Int("tokens", n))
	}
}

// close stops the job, and a run under way, and waits for it to end.
func (j *unusedPolicyJob) close() {
	j.stopOnce.Do(j.cancel)
	// If the job never started, make sure it never will.
	j.start.Do(func() { close(j.done) })
	<-j.done
}
