package web_test

import (
	"encoding/json"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"apitokens/store"
	"apitokens/store/storetest"
	"apitokens/web"
)

// openAPI is the part of an OpenAPI 3.1 document the test reads.
type openAPI struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Responses map[string]openAPIResponse `json:"responses"`
	} `json:"components"`
}

type openAPIOperation struct {
	OperationID string                     `json:"operationId"`
	Responses   map[string]openAPIResponse `json:"responses"`
}

type openAPIResponse struct {
	Ref string `json:"$ref"`
}

// documented is one status an operation documents.
type documented struct {
	op, method, path string
	status           int
}

func loadOpenAPI(t *testing.T) (openAPI, []documented) {
	t.Helper()
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPI
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	var out []documented
	for path, item := range doc.Paths {
		for method, rawOp := range item {
			if method == "parameters" {
				continue
			}
			var op openAPIOperation
			if err := json.Unmarshal(rawOp, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			for code, res := range op.Responses {
				status, err := strconv.Atoi(code)
				if err != nil {
					t.Fatalf("%s documents response %q: only status codes are allowed", op.OperationID, code)
				}
				if res.Ref != "" {
					name := strings.TrimPrefix(res.Ref, "#/components/responses/")
					if _, ok := doc.Components.Responses[name]; !ok {
						t.Fatalf("%s %d refers to %s, which is not defined", op.OperationID, status, res.Ref)
					}
				}
				out = append(out, documented{op.OperationID, strings.ToUpper(method), path, status})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].op != out[j].op {
			return out[i].op < out[j].op
		}
		return out[i].status < out[j].status
	})
	return doc, out
}

// openAPIFixture is what the request builders work on.
type openAPIFixture struct {
	t              *testing.T
	app            *testApp
	manager        *apiClient // may use the API
	outOfScope     *apiClient // authenticates, without Access management
	anonymous      *apiClient
	broken         *apiClient // a manager of an app whose database is closed
	cutOff         *apiClient // a manager of an app whose link to PostgreSQL is cut
	withLogo, live string     // token IDs of the manager's account
}

// on returns the fixture with its clients reporting to t.
func (f openAPIFixture) on(t *testing.T) *openAPIFixture {
	f.t = t
	for _, c := range []**apiClient{&f.manager, &f.outOfScope, &f.anonymous, &f.broken, &f.cutOff} {
		d := **c
		d.t = t
		*c = &d
	}
	return &f
}

// pathFor fills in the path's {id} with a live token of the manager's
// account; a delete gets a token of its own.
func (f *openAPIFixture) pathFor(d documented) string {
	id := f.live
	switch {
	case d.op == "deleteToken":
		tok, _ := f.app.createToken("to delete")
		id = tok.ID
	case d.op == "rotateToken":
		// The caller gets the new secret: it may rotate a token that can
		// do no more than it can.
		tok, _ := f.app.createToken("to rotate")
		id = tok.ID
	case d.op == "getTokenIcon":
		id = f.withLogo
	}
	return strings.ReplaceAll(d.path, "{id}", id)
}

// limited is a client with a bad token whose address has failed to
// authenticate too often. (A valid token from there is let in.)
func (f *openAPIFixture) limited() *apiClient {
	wrong := f.manager.from(uniqueIP()).as(forgeSecret(f.live))
	for range 10 {
		wrong.get(apiTokens)
	}
	return wrong
}

// jsonBody is the body a write sends when the case is not about the body.
const jsonBody = `{"name": "From the OpenAPI test"}`

// build makes the request that should get d's status.
type build func(f *openAPIFixture, d documented) *apiResponse

// sendValid sends the request as a well-behaved client would.
func sendValid(c *apiClient, f *openAPIFixture, d documented) *apiResponse {
	path := f.pathFor(d)
	if strings.HasSuffix(path, "/rotate") {
		return c.send(d.method, path, "application/json", []byte(`{"gracePeriod": "PT1H"}`))
	}
	if d.method == http.MethodPost && !strings.HasSuffix(path, "able") || d.method == http.MethodPut {
		return c.send(d.method, path, "application/json", []byte(jsonBody))
	}
	return c.send(d.method, path, "", nil)
}

// byStatus builds the cases every authenticated operation shares.
var byStatus = map[int]build{
	http.StatusOK:        func(f *openAPIFixture, d documented) *apiResponse { return sendValid(f.manager, f, d) },
	http.StatusCreated:   func(f *openAPIFixture, d documented) *apiResponse { return sendValid(f.manager, f, d) },
	http.StatusNoContent: func(f *openAPIFixture, d documented) *apiResponse { return sendValid(f.manager, f, d) },
	http.StatusUnauthorized: func(f *openAPIFixture, d documented) *apiResponse {
		return sendValid(f.anonymous, f, d)
	},
	http.StatusForbidden: func(f *openAPIFixture, d documented) *apiResponse {
		return sendValid(f.outOfScope, f, d)
	},
	http.StatusTooManyRequests: func(f *openAPIFixture, d documented) *apiResponse {
		return sendValid(f.limited(), f, d)
	},
	http.StatusNotFound: func(f *openAPIFixture, d documented) *apiResponse {
		path := strings.ReplaceAll(d.path, "{id}", "TKN-0000-0000")
		if d.method == http.MethodPut {
			return f.manager.send(d.method, path, "application/json", []byte(jsonBody))
		}
		return f.manager.send(d.method, path, "", nil)
	},
	http.StatusConflict: func(f *openAPIFixture, d documented) *apiResponse {
		// A token past its expiry date is renewed, not enabled or disabled.
		tok, _, err := f.app.store.CreateToken(f.t.Context(), store.NewToken{AccountID: f.app.account.ID, Name: "Lapsed",
			ExpiresAt: f.app.clock.Now().Add(time.Minute)}, store.UserActor(f.app.admin.ID, ""))
		if err != nil {
			f.t.Fatal(err)
		}
		f.app.clock.Add(time.Minute)
		return f.manager.send(d.method, strings.ReplaceAll(d.path, "{id}", tok.ID), "", nil)
	},
	http.StatusRequestEntityTooLarge: func(f *openAPIFixture, d documented) *apiResponse {
		return f.manager.send(d.method, f.pathFor(d), "application/json", []byte(`{"name": "`+strings.Repeat("x", web.MaxAPITokenBody)+`"}`))
	},
	http.StatusUnsupportedMediaType: func(f *openAPIFixture, d documented) *apiResponse {
		return f.manager.send(d.method, f.pathFor(d), "text/plain", []byte(jsonBody))
	},
	http.StatusInternalServerError: func(f *openAPIFixture, d documented) *apiResponse {
		return sendValid(f.broken, f, d)
	},
	http.StatusServiceUnavailable: func(f *openAPIFixture, d documented) *apiResponse {
		return sendValid(f.cutOff, f, d)
	},
}

// byOperation builds the cases particular to one operation.
var byOperation = map[string]build{
	"getOpenAPI 200": func(f *openAPIFixture, d documented) *apiResponse { return f.anonymous.get(d.path) },
	"listTokens 400": func(f *openAPIFixture, d documented) *apiResponse { return f.manager.get(d.path + "?limit=-1") },
	"getToken 400": func(f *openAPIFixture, d documented) *apiResponse {
		return f.manager.get(d.path + "?select=-secret")
	},
	"createToken 400": func(f *openAPIFixture, d documented) *apiResponse {
		return f.manager.send(d.method, d.path, "application/json", []byte(`{"name": `))
	},
	"updateToken 400": func(f *openAPIFixture, d documented) *apiResponse {
		return f.manager.send(d.method, f.pathFor(d), "application/json", []byte(`["name"]`))
	},
	"rotateToken 400": func(f *openAPIFixture, d documented) *apiResponse {
		return f.manager.send(d.method, f.pathFor(d), "application/json", []byte(`{"gracePeriod": "P1Y"}`))
	},
}

// TestOpenAPI drives every status of every operation openapi.json
// documents against the real handlers. The API client holds each answer to
// the document (media type, body, headers); this checks that the status
// wanted was the one produced.
func TestOpenAPI(t *testing.T) {
	doc, cases := loadOpenAPI(t)
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	if _, err := openAPIContract(); err != nil {
		t.Fatal(err)
	}
	app := newAPIApp(t)
	_, manager := app.managerToken("OpenAPI manager")
	_, billing := app.createToken("Billing only", app.module("billing"))
	live, _ := app.createToken("Live", app.module("catalog"))
	withLogo, _, err := app.store.CreateToken(t.Context(), store.NewToken{AccountID: app.account.ID, Name: "With logo", Logo: pngLogo(t)},
		store.UserActor(app.admin.ID, ""))
	if err != nil {
		t.Fatal(err)
	}
	down := newAPIApp(t)
	_, downManager := down.managerToken("Manager of a closed database")
	down.store.Close()
	dsn, link := storetest.Via(t, storetest.PostgresDSN(t))
	cut := newTestAppOn(t, dsn, func(c *web.Config) { c.TrustedProxies = web.LoopbackProxies })
	_, cutManager := cut.managerToken("Manager of an unreachable database")
	link.Cut()
	f := &openAPIFixture{t: t, app: app, manager: app.api(t, manager), outOfScope: app.api(t, billing),
		anonymous: app.api(t, ""), broken: down.api(t, downManager), cutOff: cut.api(t, cutManager),
		live: live.ID, withLogo: withLogo.ID}

	t.Run("Served", func(t *testing.T) {
		res := f.anonymous.get("/public/v1/openapi.json")
		var served openAPI
		res.decode(t, http.StatusOK, &served)
		if served.OpenAPI != doc.OpenAPI || len(served.Paths) != len(doc.Paths) {
			t.Fatal("the served description is not openapi.json")
		}
	})
	used := map[string]bool{}
	for _, d := range cases {
		key := d.op + " " + strconv.Itoa(d.status)
		t.Run(strings.ReplaceAll(key, " ", "_"), func(t *testing.T) {
			b, ok := byOperation[key]
			used[key] = ok
			if !ok {
				b, ok = byStatus[d.status]
			}
			if !ok {
				t.Fatalf("no request is known to produce %s", key)
			}
			res := b(f.on(t), d)
			if res.status != d.status {
				t.Fatalf("%s %s = %d, documented %d; body:\n%s", d.method, d.path, res.status, d.status, res.body)
			}
		})
	}
	for key := range byOperation {
		if !used[key] {
			t.Errorf("a request builder for %q, which openapi.json does not document", key)
		}
	}
}
