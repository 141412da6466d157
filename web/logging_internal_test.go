package web

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"apitokens/store"
)

func TestRedactingHandler(t *testing.T) {
	const secret = "apitk_27229687_JrAqhW2epkROY8Asp8Kz2RH23zYIATFJ2hKjz6"
	var out bytes.Buffer
	log := slog.New(redactingHandler{slog.NewTextHandler(&out, nil)}).With("from", secret)
	log.Error("saw "+secret, "err", errors.New("bad "+secret), slog.Group("form", "q", secret), "count", 3)
	got := out.String()
	if strings.Contains(got, "JrAqhW2epkROY8") || strings.Count(got, store.Redacted) != 4 ||
		!strings.Contains(got, "count=3") || !strings.Contains(got, "form.q="+store.Redacted) {
		t.Fatalf("log line: %s", got)
	}
}
