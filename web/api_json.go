package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/labstack/echo/v4"

	"apitokens/store"
)

// jsonObject is a request body that is a JSON object, read member by member
// so that each bad member gets its own message.
type jsonObject struct {
	members map[string]json.RawMessage
	errs    []fieldError
}

// readJSONObject reads the request body, which must be a JSON object (the
// route's chain has checked that it was sent as JSON, and not too large).
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
	o := &jsonObject{}
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
	return o, nil
}

// fail records a message for a member, keeping the first.
func (o *jsonObject) fail(field, detail string) {
	for _, e := range o.errs {
		if e.Field == field {
			return
		}
	}
	o.errs = append(o.errs, fieldError{Field: field, Detail: detail})
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

// stringList reads a member that is a list of strings into dst.
func (o *jsonObject) stringList(name string, dst *[]string) {
	raw, ok := o.members[name]
	if !ok {
		return
	}
	var v []string
	if err := json.Unmarshal(raw, &v); err != nil || string(raw) == "null" {
		o.fail(name, name+" must be a list of module IDs, such as [\"MOD-1234-5678\"].")
		return
	}
	*dst = v
}

// refuseOthers reports every member not in allowed.
func (o *jsonObject) refuseOthers(allowed []string) {
	for _, name := range slices.Sorted(maps.Keys(o.members)) {
		switch {
		case slices.Contains(allowed, name):
		case slices.Contains(readOnlyMembers, name):
			o.fail(name, name+" cannot be set here.")
		default:
			o.fail(name, name+" is not a field of an API token.")
		}
	}
}

// err returns the problems found so far, with those validate finds in the
// values read, so that one answer lists everything to fix.
func (o *jsonObject) err(validate func() error) error {
	if len(o.errs) == 0 {
		return nil
	}
	if ve, ok := errors.AsType[*store.ValidationError](validate()); ok {
		for _, e := range fieldErrors(ve) {
			o.fail(e.Field, e.Detail)
		}
	}
	p := problemValidation.with("The API token was not saved; see errors.")
	p.Errors = o.errs
	return p
}
