package templates

import (
	"strconv"

	"apitokens/store"
)

// UnusedPolicyView is the page of the account's policy on unused tokens:
// the policy as stored, the choice as sent, and what is wrong with it.
type UnusedPolicyView struct {
	Policy store.UnusedPolicy
	// Choice is the period chosen, as the form sends it: "off", "30", …;
	// the stored one when nothing was sent.
	Choice string
	Error  string // what is wrong with Choice; "" when nothing is
}

// UnusedChoiceOff is the form's value for the policy off.
const UnusedChoiceOff = "off"

// UnusedChoice is the form's value for a period (0: off).
func UnusedChoice(days int) string {
	if days == 0 {
		return UnusedChoiceOff
	}
	return strconv.Itoa(days)
}

// unusedChoice is an option of the policy's form.
type unusedChoice struct{ Value, Label string }

// unusedChoices are the options of the policy's form: off first, then
// the periods, shortest first.
func unusedChoices() []unusedChoice {
	out := []unusedChoice{{UnusedChoiceOff, "Off: never disable tokens for not being used"}}
	for _, d := range store.UnusedPolicyDays {
		out = append(out, unusedChoice{strconv.Itoa(d), plural(d, "day")})
	}
	return out
}

// UnusedPolicyMessage is what a person is told once the policy is saved.
func UnusedPolicyMessage(p store.UnusedPolicy) string {
	if !p.On() {
		return "The policy is off: no API token will be disabled for not being used."
	}
	return "The policy is on: active API tokens not used for " + plural(p.Days, "day") + " will be disabled."
}

// unusedNoticeText is the notice of what the policy disabled.
func unusedNoticeText(n store.UnusedNotice) string {
	verb := " were"
	if n.Disabled == 1 {
		verb = " was"
	}
	return CountTokens(n.Disabled) + verb + " disabled because " + pronoun(n.Disabled) + " had not been used for " + plural(n.Days, "day") + "."
}

func pronoun(n int) string {
	if n == 1 {
		return "it"
	}
	return "they"
}

// unusedNoticeLink is the list of the disabled tokens not used in the
// last days, the longest of the list's last-access filters that the
// notice's period covers: every token the policy disabled is among them,
// as a disabled token is not used.
func unusedNoticeLink(n store.UnusedNotice) (link string, days int) {
	idle, days := store.NotUsedIn30Days, 30
	if n.Days >= 90 {
		idle, days = store.NotUsedIn90Days, 90
	}
	return ListQuery{Status: "disabled", LastAccess: string(idle)}.ViewURL(), days
}

// describedBy are the IDs of what describes the policy's choices: the
// problem with them first, if any, then the hint.
func (v UnusedPolicyView) describedBy() string {
	if v.Error != "" {
		return "days-error days-hint"
	}
	return "days-hint"
}
