package templates

import (
	"time"

	"apitokens/store"
)

// RotateView is what the Rotate secret form shows besides the token: the
// grace period chosen, the reason given, and what was wrong with them.
type RotateView struct {
	Grace  string // as sent, written as store.FormatGracePeriod writes it; "": the default
	Reason string
	Errors map[string]string // "gracePeriod", "reason"
}

// chosen is the grace period to show chosen: the one sent, or the default
// when what was sent is none the form offers.
func (v RotateView) chosen() string {
	for _, d := range store.GracePeriods {
		if store.FormatGracePeriod(d) == v.Grace {
			return v.Grace
		}
	}
	return store.FormatGracePeriod(store.DefaultGracePeriod)
}

// graceChoice is a grace period the form offers.
type graceChoice struct {
	Value, Label, Hint string
}

// graceChoices are the grace periods the form offers, in the words of the
// question "The current secret keeps working for…".
func graceChoices() []graceChoice {
	out := make([]graceChoice, 0, len(store.GracePeriods))
	for _, d := range store.GracePeriods {
		c := graceChoice{Value: store.FormatGracePeriod(d), Label: store.DescribeGracePeriod(d)}
		switch d {
		case 0:
			c.Label, c.Hint = "It stops now", "For a secret that has leaked: every application still using it fails at once."
		case store.DefaultGracePeriod:
			c.Hint = "Time to deploy the new secret everywhere the current one is used."
		}
		out = append(out, c)
	}
	return out
}

// previousUse says what the previous secret has been used for since the
// rotation.
func previousUse(u store.PreviousSecretUsage, now time.Time) string {
	if u.Calls == 0 && u.LastAt.IsZero() {
		return "Not used since the rotation."
	}
	return "Used " + Times(u.Calls) + " since the rotation, last " + Ago(now, u.LastAt) + "."
}
