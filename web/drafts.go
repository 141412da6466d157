package web

import (
	"context"
	"encoding/base64"
	"sync"
	"time"
)

// wizardDraft is the draft a step of the Add wizard was sent with, or a
// fresh one when it is not one the wizard gives out (randomToken): a
// missing or made-up draft starts a new wizard, and never claims the token
// of another.
func wizardDraft(sent string) string {
	if b, err := base64.RawURLEncoding.DecodeString(sent); err == nil && len(b) == randomTokenBytes {
		return sent
	}
	return randomToken()
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
