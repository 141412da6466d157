package web_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// apiContract is openapi.json as every answer the API client receives is
// held to it: for the operation (method and path template) and status, the
// documented media type, the body's schema and the documented headers.
//
// The schemas are compiled straight out of the document by JSON pointer and
// validated as JSON Schema 2020-12, the dialect of OpenAPI 3.1.
type apiContract struct {
	paths []*contractPath
	// problem is what an answer outside every operation must be: the
	// description says an unknown path gets 404 and a method a path does
	// not accept 405, both as problem details (OPTIONS gets 204).
	problem *jsonschema.Schema
}

type contractPath struct {
	template string
	segments []string
	ops      map[string]*contractOperation // by method
}

type contractOperation struct {
	id        string
	responses map[int]*contractResponse
}

type contractResponse struct {
	content map[string]*jsonschema.Schema // by media type
	headers map[string]*contractHeader
}

type contractHeader struct {
	required bool
	numeric  bool // decoded as a number before validation
	schema   *jsonschema.Schema
}

// openAPIContract is loaded once: every test shares it, read only.
var openAPIContract = sync.OnceValues(func() (*apiContract, error) {
	return loadAPIContract("openapi.json")
})

const contractURL = "urn:apitokens:openapi.json"

// loadAPIContract reads an OpenAPI 3.1 document and compiles every response
// schema and header schema it documents.
func loadAPIContract(file string) (*apiContract, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Responses map[string]contractResponseJSON `json:"responses"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	tree, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	compiler := jsonschema.NewCompiler()
	compiler.DefaultDraft(jsonschema.Draft2020)
	compiler.AssertFormat()
	if err := compiler.AddResource(contractURL, tree); err != nil {
		return nil, err
	}
	compile := func(pointer ...string) (*jsonschema.Schema, error) {
		loc := contractURL + "#"
		for _, p := range pointer {
			loc += "/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(p)
		}
		return compiler.Compile(loc)
	}

	c := &apiContract{}
	if c.problem, err = compile("components", "schemas", "Problem"); err != nil {
		return nil, err
	}
	for template, item := range doc.Paths {
		p := &contractPath{template: template, segments: strings.Split(template, "/"), ops: map[string]*contractOperation{}}
		for method, rawOp := range item {
			// A path item also holds parameters, a summary and the like.
			if !slices.Contains([]string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}, method) {
				continue
			}
			var op struct {
				ID        string                          `json:"operationId"`
				Responses map[string]contractResponseJSON `json:"responses"`
			}
			if err := json.Unmarshal(rawOp, &op); err != nil {
				return nil, fmt.Errorf("%s %s: %w", method, template, err)
			}
			o := &contractOperation{id: op.ID, responses: map[int]*contractResponse{}}
			for code, res := range op.Responses {
				status, err := strconv.Atoi(code)
				if err != nil {
					return nil, fmt.Errorf("%s documents response %q: only status codes are supported", op.ID, code)
				}
				where := []string{"paths", template, method, "responses", code}
				if ref := res.Ref; ref != "" {
					name, ok := strings.CutPrefix(ref, "#/components/responses/")
					if !ok {
						return nil, fmt.Errorf("%s %d: unsupported $ref %s", op.ID, status, ref)
					}
					if res, ok = doc.Components.Responses[name]; !ok {
						return nil, fmt.Errorf("%s %d refers to %s, which is not defined", op.ID, status, ref)
					}
					where = []string{"components", "responses", name}
				}
				r := &contractResponse{content: map[string]*jsonschema.Schema{}, headers: map[string]*contractHeader{}}
				for media, m := range res.Content {
					if m.Schema == nil {
						r.content[media] = nil
						continue
					}
					if r.content[media], err = compile(slices.Concat(where, []string{"content", media, "schema"})...); err != nil {
						return nil, err
					}
				}
				for name, h := range res.Headers {
					if h.Ref != "" {
						return nil, fmt.Errorf("%s %d: header %s: $ref is not supported", op.ID, status, name)
					}
					ch := &contractHeader{required: h.Required, numeric: h.Schema.Type == "integer" || h.Schema.Type == "number"}
					if ch.schema, err = compile(slices.Concat(where, []string{"headers", name, "schema"})...); err != nil {
						return nil, err
					}
					r.headers[name] = ch
				}
				o.responses[status] = r
			}
			p.ops[strings.ToUpper(method)] = o
		}
		c.paths = append(c.paths, p)
	}
	// A path without parameters wins over a template that also matches it.
	sort.Slice(c.paths, func(i, j int) bool {
		return strings.Count(c.paths[i].template, "{") < strings.Count(c.paths[j].template, "{")
	})
	return c, nil
}

// contractResponseJSON is a Response Object, or a reference to one.
type contractResponseJSON struct {
	Ref     string `json:"$ref"`
	Content map[string]struct {
		Schema json.RawMessage `json:"schema"`
	} `json:"content"`
	Headers map[string]struct {
		Ref      string `json:"$ref"`
		Required bool   `json:"required"`
		Schema   struct {
			Type any `json:"type"`
		} `json:"schema"`
	} `json:"headers"`
}

// match finds the path template a request path falls under; as the
// description says, a trailing slash is ignored.
func (c *apiContract) match(path string) *contractPath {
	if len(path) > 1 {
		path = strings.TrimSuffix(path, "/")
	}
	segments := strings.Split(path, "/")
	for _, p := range c.paths {
		if len(p.segments) != len(segments) {
			continue
		}
		ok := true
		for i, s := range p.segments {
			if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
				ok = ok && segments[i] != ""
			} else {
				ok = ok && s == segments[i]
			}
		}
		if ok {
			return p
		}
	}
	return nil
}

// check reports how an answer to method and path (as sent, escaped, without
// the query) differs from what openapi.json allows, or nil when it does not.
func (c *apiContract) check(method, path string, status int, header http.Header, body []byte) error {
	head := method == http.MethodHead
	if head && len(body) != 0 {
		return fmt.Errorf("%d bytes of body in answer to HEAD", len(body))
	}
	p := c.match(path)
	if p == nil {
		if status != http.StatusNotFound {
			return fmt.Errorf("no operation has this path, so 404 is the answer documented, not %d", status)
		}
		return checkProblemBody(c.problem, status, header, body, head)
	}
	op, ok := p.ops[method]
	if get := p.ops[http.MethodGet]; head && !ok && get != nil {
		// The description says HEAD answers as GET does, without the body.
		op, ok = get, true
	}
	if !ok {
		want := http.StatusMethodNotAllowed
		if method == http.MethodOptions {
			want = http.StatusNoContent
		}
		if status != want {
			return fmt.Errorf("%s does not take %s, so %d is the answer documented, not %d", p.template, method, want, status)
		}
		if header.Get("Allow") == "" {
			return fmt.Errorf("%d without an Allow header", status)
		}
		if status == http.StatusNoContent {
			if len(body) != 0 {
				return fmt.Errorf("%d bytes of body in a 204", len(body))
			}
			return nil
		}
		return checkProblemBody(c.problem, status, header, body, head)
	}
	res, ok := op.responses[status]
	if !ok {
		return fmt.Errorf("%s answered %d, which it does not document (only %v)", op.id, status, slices.Sorted(maps.Keys(op.responses)))
	}
	if err := res.check(status, header, body, head); err != nil {
		return fmt.Errorf("%s %d: %w", op.id, status, err)
	}
	return nil
}

func (r *contractResponse) check(status int, header http.Header, body []byte, head bool) error {
	var errs []error
	for name, h := range r.headers {
		value := header.Get(name)
		if value == "" {
			if h.required {
				errs = append(errs, fmt.Errorf("header %s missing", name))
			}
			continue
		}
		var v any = value
		if h.numeric {
			n, err := jsonschema.UnmarshalJSON(strings.NewReader(value))
			if err != nil {
				errs = append(errs, fmt.Errorf("header %s: %q is not a number", name, value))
				continue
			}
			v = n
		}
		if err := h.schema.Validate(v); err != nil {
			errs = append(errs, fmt.Errorf("header %s: %w", name, err))
		}
	}
	if len(r.content) == 0 {
		if len(body) != 0 {
			errs = append(errs, fmt.Errorf("documented without a body, answered %d bytes", len(body)))
		}
		return errors.Join(errs...)
	}
	ct := header.Get("Content-Type")
	media, _, err := mime.ParseMediaType(ct)
	schema, ok := r.content[media]
	if err != nil || !ok {
		documented := slices.Sorted(maps.Keys(r.content))
		return errors.Join(append(errs, fmt.Errorf("Content-Type %q is not documented (%v)", ct, documented))...)
	}
	return errors.Join(append(errs, checkBody(schema, media, status, body, head))...)
}

// checkProblemBody checks an answer that must be problem details.
func checkProblemBody(schema *jsonschema.Schema, status int, header http.Header, body []byte, head bool) error {
	ct := header.Get("Content-Type")
	if media, _, err := mime.ParseMediaType(ct); err != nil || media != "application/problem+json" {
		return fmt.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	return checkBody(schema, "application/problem+json", status, body, head)
}

// checkBody checks a body of the media type against its schema. A JSON
// body is validated; for other media types the bytes must look like what
// the Content-Type says. An answer to HEAD has no body to check.
func checkBody(schema *jsonschema.Schema, media string, status int, body []byte, head bool) error {
	if head {
		return nil
	}
	if media != "application/json" && !strings.HasSuffix(media, "+json") {
		if sniffed, _, _ := mime.ParseMediaType(http.DetectContentType(body)); sniffed != media {
			return fmt.Errorf("a %s body that looks like %s", media, sniffed)
		}
		return nil
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("the body is not JSON: %w", err)
	}
	if schema != nil {
		if err := schema.Validate(v); err != nil {
			return err
		}
	}
	// RFC 9457: the status member, when there, is the answer's status.
	if media == "application/problem+json" {
		if p, ok := v.(map[string]any); ok {
			if n, ok := p["status"].(json.Number); ok && n.String() != strconv.Itoa(status) {
				return fmt.Errorf("problem status %s in a %d answer", n, status)
			}
		}
	}
	return nil
}

// TestOpenAPIContract feeds the check answers known to be right and
// answers known to be wrong: a check that lets everything through would
// make every API test pass for nothing.
func TestOpenAPIContract(t *testing.T) {
	contract, err := openAPIContract()
	if err != nil {
		t.Fatal(err)
	}
	const token = `{"id": "TKN-0123-4567", "name": "Nightly", "description": "", "icon": null, "status": "Active",
		"lastAccessAt": null, "expiresAt": "2027-01-31T00:00:00Z", "previousTokenExpiresAt": null, "allowedAddresses": [], "account": {"id": "ACC-0000-0001", "name": "Acme"},
		"modules": [{"id": "MOD-0000-0001", "name": "Billing"}],
		"audit": {"created": {"at": "2026-05-04T10:00:00Z", "by": {"id": "USR-0000-0001", "name": "Ada"}},
		          "updated": {"at": "2026-05-04T10:00:00.5Z", "by": {"id": "TKN-0123-4567", "name": "Nightly"}}}}`
	created := strings.Replace(token, `{"id"`, `{"token": "apitk_x", "id"`, 1)
	problem := func(slug string, status int) string {
		return fmt.Sprintf(`{"type": "urn:apitokens:problem:%s", "title": "T", "status": %d, "detail": "D.",
			"traceId": "00-0123456789abcdef0123456789abcdef-0123456789abcdef-00"}`, slug, status)
	}
	const (
		one  = apiTokens + "/TKN-0123-4567"
		js   = "application/json"
		prob = "application/problem+json"
	)
	location := []string{"Location", one}
	for _, tc := range []struct {
		name, method, path string
		status             int
		contentType, body  string
		headers            []string // pairs
		ok                 bool
	}{
		{"OK", "GET", one, 200, js, token, nil, true},
		{"OKListed", "GET", apiTokens, 200, js, `{"$meta": {"pagination": {"offset": 0, "limit": 50, "total": 1}}, "data": [` + token + `]}`, nil, true},
		{"OKCreated", "POST", apiTokens, 201, js, created, location, true},
		{"OKProblem", "GET", one, 404, prob, problem("not-found", 404), nil, true},
		{"OKNoContent", "DELETE", one, 204, "", "", nil, true},
		{"OKIcon", "GET", one + "/icon", 200, "image/png", string(pngLogo(t)), nil, true},
		{"OKProblemWithErrors", "POST", apiTokens, 400, prob, strings.Replace(problem("validation-failed", 400), `"detail"`,
			`"errors": {"account.id": ["Not yours."], "name": ["Required.", "Too long."]}, "detail"`, 1), nil, true},
		{"OKUnknownPath", "GET", "/public/v1/nothing", 404, prob, problem("not-found", 404), nil, true},
		{"OKMethodNotAllowed", "PATCH", one, 405, prob, problem("method-not-allowed", 405), []string{"Allow", "GET, PUT, DELETE"}, true},
		{"OKHead", "HEAD", one, 200, js, "", nil, true},
		{"OKHeadProblem", "HEAD", one, 404, prob, "", nil, true},
		{"OKHeadNotAllowed", "HEAD", one + "/enable", 405, prob, "", []string{"Allow", "POST"}, true},
		{"OKOptions", "OPTIONS", one, 204, "", "", []string{"Allow", "GET, PUT, DELETE"}, true},
		{"OKTrailingSlash", "GET", one + "/", 200, js, token, nil, true},

		{"ErrTokenWithoutID", "GET", one, 200, js, strings.Replace(token, `"id": "TKN-0123-4567", `, "", 1), nil, false},
		{"ErrStatusNotString", "GET", one, 200, js, strings.Replace(token, `"status": "Active"`, `"status": 1`, 1), nil, false},
		{"ErrStatusUnknown", "GET", one, 200, js, strings.Replace(token, `"status": "Active"`, `"status": "revoked"`, 1), nil, false},
		{"ErrIconNeitherStringNorNull", "GET", one, 200, js, strings.Replace(token, `"icon": null`, `"icon": 5`, 1), nil, false},
		{"ErrLastAccessNotADate", "GET", one, 200, js, strings.Replace(token, `"lastAccessAt": null`, `"lastAccessAt": "yesterday"`, 1), nil, false},
		{"ErrPreviousSecretDeadlineMissing", "POST", apiTokens, 201, js, strings.Replace(created, `"previousTokenExpiresAt": null, `, ``, 1), nil, false},
		{"OKRotated", "POST", one + "/rotate", 200, js, strings.Replace(created, `"previousTokenExpiresAt": null`, `"previousTokenExpiresAt": "2026-05-05T10:00:00Z"`, 1), nil, true},
		{"ErrRotatedWithoutSecret", "POST", one + "/rotate", 200, js, token, nil, false},
		{"ErrModuleWithoutName", "GET", one, 200, js, strings.Replace(token, `, "name": "Billing"`, "", 1), nil, false},
		{"ErrNullBody", "GET", one, 200, js, `null`, nil, false},
		{"ErrEmptyBody", "GET", one, 200, js, ``, nil, false},
		{"ErrTrailingData", "GET", one, 200, js, token + `{}`, nil, false},
		{"ErrListDataNull", "GET", apiTokens, 200, js, `{"$meta": {"pagination": {"offset": 0, "limit": 50, "total": 0}}, "data": null}`, nil, false},
		{"ErrCreatedWithoutSecret", "POST", apiTokens, 201, js, token, location, false},
		{"ErrCreatedWithoutLocation", "POST", apiTokens, 201, js, created, nil, false},
		{"ErrWrongContentType", "GET", one, 200, "text/plain", token, nil, false},
		{"ErrProblemAsJSON", "GET", one, 404, js, problem("not-found", 404), nil, false},
		{"ErrProblemStatusNotInteger", "GET", one, 404, prob, strings.Replace(problem("not-found", 404), "404", `"404"`, 1), nil, false},
		{"ErrProblemStatusDiffers", "GET", one, 404, prob, problem("not-found", 400), nil, false},
		{"ErrStatusInLowerCase", "GET", one, 200, js, strings.Replace(token, `"status": "Active"`, `"status": "active"`, 1), nil, false},
		{"ErrProblemWithoutTraceID", "GET", one, 404, prob, strings.Replace(problem("not-found", 404), `"traceId"`, `"trace"`, 1), nil, false},
		{"ErrProblemErrorsAsList", "POST", apiTokens, 400, prob, strings.Replace(problem("validation-failed", 400), `"detail"`,
			`"errors": [{"field": "name", "detail": "Required."}], "detail"`, 1), nil, false},
		{"ErrProblemTypeUnknown", "GET", one, 404, prob, problem("gone", 404), nil, false},
		{"ErrUndocumentedStatus", "GET", one, 418, prob, problem("not-found", 418), nil, false},
		{"ErrRetryAfterMissing", "GET", apiTokens, 429, prob, problem("too-many-failures", 429), nil, false},
		{"ErrRetryAfterNotANumber", "GET", apiTokens, 429, prob, problem("too-many-failures", 429), []string{"Retry-After", "soon"}, false},
		{"ErrBodyOnNoContent", "DELETE", one, 204, js, `{}`, nil, false},
		{"ErrIconNotPNG", "GET", one + "/icon", 200, "image/png", "GIF89a", nil, false},
		{"ErrUnknownPathAnswered", "GET", "/public/v1/nothing", 200, js, `{}`, nil, false},
		{"ErrMethodNotAllowedWithoutAllow", "PATCH", one, 405, prob, problem("method-not-allowed", 405), nil, false},
		{"ErrOptionsWithoutAllow", "OPTIONS", one, 204, "", "", nil, false},
		{"ErrHeadWithBody", "HEAD", one, 200, js, token, nil, false},
		{"ErrHeadUndocumentedStatus", "HEAD", one, 418, prob, "", nil, false},
		{"ErrHeadWithoutGet", "HEAD", one + "/enable", 200, js, "", nil, false},
		{"ErrOptionsWithBody", "OPTIONS", one, 204, js, `{}`, []string{"Allow", "GET, PUT, DELETE"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.contentType != "" {
				h.Set("Content-Type", tc.contentType)
			}
			for i := 0; i+1 < len(tc.headers); i += 2 {
				h.Set(tc.headers[i], tc.headers[i+1])
			}
			err := contract.check(tc.method, tc.path, tc.status, h, []byte(tc.body))
			if tc.ok && err != nil {
				t.Fatalf("a right answer is refused: %v", err)
			}
			if !tc.ok && err == nil {
				t.Fatal("a wrong answer passes")
			}
			t.Log(err)
		})
	}
}
