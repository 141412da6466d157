package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"apitokens/store"
)

// jsonObject is a request body that is a JSON object, read member by member
// so that each bad member gets its own message.
type jsonObject struct {
	ctx     context.Context // the request's, for the icon's decode
	members map[string]json.RawMessage
	errs    fieldErrors
}

// readJSONObject reads the request body, which must be a JSON object (the
// route's chain has checked that it was sent as JSON, and not too large).
// A member sent twice, at any depth, is refused: which of the two counts
// differs from one JSON reader to the next, so a check made by one could
// be passed by a value that another acts on.
func readJSONObject(c echo.Context) (*jsonObject, error) {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		if _, ok := errors.AsType[*echo.HTTPError](err); ok {
			return nil, err // over the size limit
		}
		return nil, problemMalformedBody.with("The request body could not be read.")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, problemMalformedBody.with("The request body is empty; send a JSON object.")
	}
	o := &jsonObject{ctx: c.Request().Context()}
	if err := json.Unmarshal(body, &o.members); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return nil, problemMalformedBody.with(fmt.Sprintf("The request body is not valid JSON (at byte %d).", syntax.Offset))
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, problemMalformedBody.with("The request body ends in the middle of its JSON.")
		}
		return nil, problemMalformedBody.with("The request body must be a JSON object.")
	}
	if o.members == nil {
		return nil, problemMalformedBody.with("The request body must be a JSON object, not null.")
	}
	if name, ok := duplicateMember(body); ok {
		p := problemMalformedBody.with(fmt.Sprintf("The member %s is sent more than once; send each member once.", name))
		p.Errors.add(name, "Sent more than once.")
		return nil, p
	}
	return o, nil
}

// duplicateMember returns the path ("account.id", "modules[1].id") of the
// first member of an object that has a member of the same name before it.
// body is valid JSON.
func duplicateMember(body []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	name, ok, _ := duplicateIn(dec, "")
	return name, ok
}

// duplicateIn reads the value that starts at dec's next token, and reports
// the first duplicate member in it; path names the value.
func duplicateIn(dec *json.Decoder, path string) (string, bool, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", false, err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			key, err := dec.Token()
			if err != nil {
				return "", false, err
			}
			name := key.(string)
			member := name
			if path != "" {
				member = path + "." + name
			}
			if seen[name] {
				return member, true, nil
			}
			seen[name] = true
			if dup, ok, err := duplicateIn(dec, member); ok || err != nil {
				return dup, ok, err
			}
		}
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			if dup, ok, err := duplicateIn(dec, fmt.Sprintf("%s[%d]", path, i)); ok || err != nil {
				return dup, ok, err
			}
		}
	default:
		return "", false, nil
	}
	_, err = dec.Token() // the closing delimiter
	return "", false, err
}

// fail records a message for a member, keeping the first.
func (o *jsonObject) fail(field, detail string) {
	if _, ok := o.errs[field]; !ok {
		o.errs.add(field, detail)
	}
}

// null reports whether the member is there with the value null.
func (o *jsonObject) null(name string) bool {
	raw, ok := o.members[name]
	return ok && string(raw) == "null"
}

// is reports whether the member is the string v.
func (o *jsonObject) is(name, v string) bool {
	var got string
	raw, ok := o.members[name]
	return ok && json.Unmarshal(raw, &got) == nil && got == v
}

// string reads a string member into dst, reporting whether it was there and
// a string.
func (o *jsonObject) string(name string, dst *string) bool {
	raw, ok := o.members[name]
	if !ok {
		return false
	}
	if err := json.Unmarshal(raw, dst); err != nil || string(raw) == "null" {
		o.fail(name, name+" must be a string.")
		return false
	}
	return true
}

// refID reads the id of an object that names another, {"id": "…"}. Only
// the member spelled "id" counts: Go would also take "ID" or "Id", which
// other readers of the same body would not. Other members, such as the
// name a read of the object shows, are let through.
func refID(raw json.RawMessage) (string, bool) {
	var members map[string]json.RawMessage
	var id string
	if json.Unmarshal(raw, &members) != nil || members == nil || json.Unmarshal(members["id"], &id) != nil || string(members["id"]) == "null" {
		return "", false
	}
	return id, true
}

// ref reads a member that names an object, {"id": "…"}, reporting whether
// it was there and well formed.
func (o *jsonObject) ref(name string, dst *string) bool {
	raw, ok := o.members[name]
	if !ok {
		return false
	}
	id, ok := refID(raw)
	if !ok {
		o.fail(name+".id", name+` must be an object with an id, such as {"id": "ACC-1234-5678"}.`)
		return false
	}
	*dst = id
	return true
}

// refList reads a member that is a list of objects named by their IDs,
// [{"id": "…"}], into dst, reporting whether it was there and well formed.
func (o *jsonObject) refList(name string, dst *[]string) bool {
	raw, ok := o.members[name]
	if !ok {
		return false
	}
	var refs []json.RawMessage
	err := json.Unmarshal(raw, &refs)
	ids := make([]string, len(refs))
	for i, r := range refs {
		if id, ok := refID(r); ok {
			ids[i] = id
		} else {
			err = errors.New("not an object with an id")
		}
	}
	if err != nil || string(raw) == "null" {
		o.fail(name, name+` must be a list of objects with an id, such as [{"id": "MOD-1234-5678"}].`)
		return false
	}
	*dst = ids
	return true
}

// stringList reads a member that is a list of strings into dst, reporting
// whether it was there and well formed.
func (o *jsonObject) stringList(name string, dst *[]string) bool {
	raw, ok := o.members[name]
	if !ok {
		return false
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil || list == nil {
		o.fail(name, name+` must be a list of strings, such as ["203.0.113.7", "2001:db8::/32"].`)
		return false
	}
	*dst = list
	return true
}

// icon reads the icon member: "" or null for none, or a PNG or JPEG image
// as a data URL, which becomes the logo to store by the same rules as an
// upload on the pages. It reports whether the member was there.
func (o *jsonObject) icon(dst *[]byte) bool {
	if o.null("icon") {
		*dst = nil
		return true
	}
	var v string
	if !o.string("icon", &v) {
		return false
	}
	if v == "" {
		*dst = nil
		return true
	}
	image, ok := decodeDataURL(v)
	if !ok {
		o.fail("icon", `icon must be "" for none, or an image as a data URL, such as data:image/png;base64,iVBORw0KGgo….`)
		return false
	}
	logo, err := store.NormalizeLogo(o.ctx, image)
	if ve, ok := errors.AsType[*store.ValidationError](err); ok {
		for _, message := range ve.Fields {
			o.fail("icon", message)
		}
		return false
	}
	if err != nil {
		o.fail("icon", "The icon could not be read as an image.")
		return false
	}
	*dst = logo
	return true
}

// decodeDataURL returns the bytes of a base64 data URL of an image (RFC
// 2397).
func decodeDataURL(v string) ([]byte, bool) {
	rest, ok := strings.CutPrefix(v, "data:")
	if !ok {
		return nil, false
	}
	header, data, ok := strings.Cut(rest, ",")
	if !ok {
		return nil, false
	}
	header, ok = strings.CutSuffix(header, ";base64")
	if !ok {
		return nil, false
	}
	if media, _, err := mime.ParseMediaType(header); err != nil || !strings.HasPrefix(media, "image/") {
		return nil, false
	}
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, false
	}
	return b, true
}

// refuseOthers reports every member not in allowed.
func (o *jsonObject) refuseOthers(allowed []string) {
	for _, name := range slices.Sorted(maps.Keys(o.members)) {
		switch {
		case slices.Contains(allowed, name):
		case name == "status":
			o.fail(name, "status is read-only here: leave it out, or send it as the token has it; "+
				"POST …/enable and …/disable change it.")
		case slices.Contains(readOnlyMembers, name):
			o.fail(name, name+" is read-only: leave it out, or send it as the token has it.")
		default:
			o.fail(name, name+" is not a field of an API token.")
		}
	}
}

// dropUnchanged drops the read-only members a read of the token could have
// shown, so that a client that reads a token, changes a member and sends
// the whole object back has it saved: id, status and expiresAt as the token
// has them now, and lastAccessAt, previousTokenExpiresAt and audit in their
// shape whatever their values, since the server moves those on its own
// between the read and the update. A read-only member that is not so stays, for refuseOthers to
// refuse.
func (o *jsonObject) dropUnchanged(shown apiToken) {
	raw, err := json.Marshal(shown)
	if err != nil {
		return
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(raw, &members) != nil {
		return
	}
	for _, name := range readOnlyMembers {
		sent, ok := o.members[name]
		var a, b any
		if !ok || json.Unmarshal(sent, &a) != nil || json.Unmarshal(members[name], &b) != nil {
			continue
		}
		kept := sameValue(a, b)
		switch name {
		case "lastAccessAt", "previousTokenExpiresAt":
			kept = a == nil || isTime(a)
		case "audit":
			kept = sameShape(a, b)
		}
		if kept {
			delete(o.members, name)
		}
	}
}

// isTime reports whether a decoded JSON value is a time in RFC 3339 form.
func isTime(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}

// sameShape reports whether a decoded JSON value has the members of want,
// and no others, with times where want has times: the same object, whatever
// its values.
func sameShape(v, want any) bool {
	return sameJSON(v, want, func(v, want any) bool {
		switch want := want.(type) {
		case string:
			_, ok := v.(string)
			return ok && (!isTime(want) || isTime(v))
		case map[string]any, []any:
			return false
		}
		return true
	})
}

// sameValue reports whether two decoded JSON values are the same; times
// are the same when they are the same instant, however they are written.
func sameValue(a, b any) bool {
	return sameJSON(a, b, func(a, b any) bool {
		x, okA := a.(string)
		y, okB := b.(string)
		if !okA || !okB {
			return a == b
		}
		tx, errX := time.Parse(time.RFC3339Nano, x)
		ty, errY := time.Parse(time.RFC3339Nano, y)
		return x == y || errX == nil && errY == nil && tx.Equal(ty)
	})
}

// sameJSON walks two decoded JSON values side by side: objects must have
// the same members and arrays the same length, and leaf judges the rest.
func sameJSON(a, b any, leaf func(a, b any) bool) bool {
	switch a := a.(type) {
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			if w, ok := b[k]; !ok || !sameJSON(v, w, leaf) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		return ok && slices.EqualFunc(a, b, func(x, y any) bool { return sameJSON(x, y, leaf) })
	}
	return leaf(a, b)
}

// err returns the problems found so far, with those validate finds in the
// values read, so that one answer lists everything to fix.
func (o *jsonObject) err(validate func() error) error {
	if len(o.errs) == 0 {
		return nil
	}
	if ve, ok := errors.AsType[*store.ValidationError](validate()); ok {
		for field, messages := range apiFieldErrors(ve) {
			for _, m := range messages {
				o.fail(field, m)
			}
		}
	}
	p := problemValidation.with("The API token was not saved; see errors.")
	p.Errors = o.errs
	return p
}
