package web

import "encoding/base64"

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
