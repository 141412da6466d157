package web

import (
	"context"
	"fmt"
	"log/slog"

	"apitokens/store"
)

// redactingHandler passes every log record on with anything shaped like a
// token secret redacted, in the message and in every value: a secret pasted
// into a path, a query or a form field must not reach the log, whichever
// line logs it.
type redactingHandler struct{ next slog.Handler }

func (h redactingHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

func (h redactingHandler) Handle(ctx context.Context, r slog.Record) error {
	clean := !hasSecret(slog.StringValue(r.Message))
	r.Attrs(func(a slog.Attr) bool {
		clean = !hasSecret(a.Value)
		return clean
	})
	if clean {
		return h.next.Handle(ctx, r) // the usual case: passed on as it is
	}
	out := slog.NewRecord(r.Time, r.Level, store.RedactSecrets(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h redactingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	redacted := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		redacted[i] = redactAttr(a)
	}
	return redactingHandler{h.next.WithAttrs(redacted)}
}

func (h redactingHandler) WithGroup(name string) slog.Handler {
	return redactingHandler{h.next.WithGroup(name)}
}

// hasSecret reports whether redactAttr would change v.
func hasSecret(v slog.Value) bool {
	v = v.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return store.RedactSecrets(v.String()) != v.String()
	case slog.KindGroup:
		for _, a := range v.Group() {
			if hasSecret(a.Value) {
				return true
			}
		}
	case slog.KindAny:
		text := fmt.Sprint(v.Any())
		return store.RedactSecrets(text) != text
	}
	return false
}

// redactAttr redacts a value, and each value of a group. A value of any
// other kind that prints with a secret in it (an error, say) is logged as
// the redacted text.
func redactAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, store.RedactSecrets(v.String()))
	case slog.KindGroup:
		group := v.Group()
		redacted := make([]any, len(group))
		for i, g := range group {
			redacted[i] = redactAttr(g)
		}
		return slog.Group(a.Key, redacted...)
	case slog.KindAny:
		text := fmt.Sprint(v.Any())
		if redacted := store.RedactSecrets(text); redacted != text {
			return slog.String(a.Key, redacted)
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
