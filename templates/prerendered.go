package templates

import (
	"context"
	"html"
	"io"
	"strings"
	"sync"

	"apitokens/store"

	"github.com/a-h/templ"
)

// Some markup is the same on every page but for one value: the action
// dialogs (but for the page's CSRF token) and a row's ••• menu (but for
// its token's ID, given the actions it offers). Such markup is rendered
// once, from its component, with a mark in place of the value, and split
// there; each page then writes the pieces with its own value between them.

// valueMark stands for the value in what is rendered once: no page carries
// it, and escaping leaves it as it is.
const valueMark = "\x00value\x00"

// renderPieces renders c, which has valueMark where the value goes, and
// splits it there.
func renderPieces(c templ.Component) []string {
	var b strings.Builder
	if err := c.Render(context.Background(), &b); err != nil {
		panic("templates: rendering once: " + err.Error())
	}
	return strings.Split(b.String(), valueMark)
}

// piecesWith writes pieces with value, escaped, between each two.
func piecesWith(pieces []string, value string) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		value := html.EscapeString(value)
		for i, piece := range pieces {
			if i > 0 {
				if _, err := io.WriteString(w, value); err != nil {
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

// dialogPieces are the action dialogs of each origin, split where the CSRF
// token goes.
var dialogPieces = sync.OnceValue(func() map[Origin][]string {
	return map[Origin][]string{
		FromList:    renderPieces(actionDialogs(Page{CSRF: valueMark}, FromList)),
		FromDetails: renderPieces(actionDialogs(Page{CSRF: valueMark}, FromDetails)),
	}
})

// pageDialogs is actionDialogs for the page p.
func pageDialogs(p Page, origin Origin) templ.Component {
	return piecesWith(dialogPieces()[origin], p.CSRF)
}

// rowMenuPieces are the row menus of each set of actions a token offers
// (store.Token.Actions: a handful), split where the token's ID goes.
var rowMenuPieces sync.Map // of []string, by the actions joined with ","

// pageRowMenu is rowMenu for the token with the ID.
func pageRowMenu(id string, actions []store.TokenAction) templ.Component {
	var key strings.Builder
	for _, a := range actions {
		key.WriteString(string(a))
		key.WriteByte(',')
	}
	pieces, ok := rowMenuPieces.Load(key.String())
	if !ok {
		pieces, _ = rowMenuPieces.LoadOrStore(key.String(), renderPieces(rowMenu(valueMark, actions)))
	}
	return piecesWith(pieces.([]string), id)
}
