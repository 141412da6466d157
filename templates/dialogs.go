package templates

import (
	"context"
	"html"
	"io"
	"strings"
	"sync"

	"github.com/a-h/templ"
)

// The action dialogs are the same on every page of an origin but for the
// CSRF token their forms carry, and every list and details page has them:
// they are rendered once, from actionDialogs, in pieces around the token,
// and each page puts its own token between the pieces.

// csrfMark stands for the CSRF token in the dialogs rendered once: no page
// carries it, and escaping leaves it as it is.
const csrfMark = "\x00csrf\x00"

// dialogPieces are the action dialogs of each origin, split where the CSRF
// token goes.
var dialogPieces = sync.OnceValue(func() map[Origin][]string {
	pieces := make(map[Origin][]string)
	for _, origin := range []Origin{FromList, FromDetails} {
		var b strings.Builder
		if err := actionDialogs(Page{CSRF: csrfMark}, origin).Render(context.Background(), &b); err != nil {
			panic("templates: action dialogs: " + err.Error())
		}
		pieces[origin] = strings.Split(b.String(), csrfMark)
	}
	return pieces
})

// pageDialogs is actionDialogs for the page p, from the pieces rendered once.
func pageDialogs(p Page, origin Origin) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		csrf := html.EscapeString(p.CSRF)
		for i, piece := range dialogPieces()[origin] {
			if i > 0 {
				if _, err := io.WriteString(w, csrf); err != nil {
					return err
				}
			}
			if _, err := io.WriteString(w, piece); err != nil {
				return err
			}
		}
		return nil
	})
}
