package templates

import (
	"context"
	"strings"
	"testing"
)

// TestPageDialogs: the dialogs put together from pieces are the dialogs
// actionDialogs renders, with the page's own CSRF token in each form.
func TestPageDialogs(t *testing.T) {
	p := Page{CSRF: "masked-token_0123"}
	for _, origin := range []Origin{FromList, FromDetails} {
		var want, got strings.Builder
		if err := actionDialogs(p, origin).Render(context.Background(), &want); err != nil {
			t.Fatal(err)
		}
		if err := pageDialogs(p, origin).Render(context.Background(), &got); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%s: pieces give\n%s\nwant\n%s", origin, got.String(), want.String())
		}
		if n := strings.Count(got.String(), `name="_csrf" value="masked-token_0123"`); n != len(Confirmations) {
			t.Errorf("%s: %d forms carry the page's token, want %d", origin, n, len(Confirmations))
		}
	}
}
