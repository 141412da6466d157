package web_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"apitokens/store"
)

// platformClient sends requests byte for byte as the marketplace
// platform's official Python client does (httpx underneath): its headers,
// its compact JSON bodies, no body at all on enable and disable.
type platformClient struct{ c *apiClient }

// platformHeaders are the headers the official client sends besides
// Authorization and Content-Type.
var platformHeaders = []string{"User-Agent", "swo-marketplace-client/1.0", "Accept", "*/*", "Accept-Encoding", "gzip, deflate"}

// do sends a request; body, when not "", is sent as application/json.
func (p platformClient) do(method, path, body string) *apiResponse {
	p.c.t.Helper()
	if body == "" {
		return p.c.send(method, path, "", nil, platformHeaders...)
	}
	return p.c.send(method, path, "application/json", []byte(body), platformHeaders...)
}

// platformError is what the official client makes of an error answer:
// MPTAPIError's "status title - detail (traceId)", or "" when the answer
// is no error or its body is not JSON (then the client raises a bare HTTP
// error that no test can match on).
func platformError(res *apiResponse) string {
	if res.status < 400 {
		return ""
	}
	var payload map[string]any
	if json.Unmarshal(res.body, &payload) != nil {
		return ""
	}
	text := func(key string) string {
		if v, ok := payload[key]; ok && v != nil {
			return fmt.Sprint(v)
		}
		return "None"
	}
	trace := text("traceId")
	if trace == "None" {
		trace = "no-trace-id"
	}
	return fmt.Sprintf("%s %s - %s (%s)", text("status"), text("title"), text("detail"), trace)
}

// platformTokenBody is the body of the client's end-to-end tests' create
// and update, as its factory builds it and httpx encodes it.
func platformTokenBody(accountID, moduleID, name string) string {
	return `{"account":{"id":"` + accountID + `"},"name":"` + name + `","description":"E2E API Token created during E2E tests",` +
		`"icon":"","modules":[{"id":"` + moduleID + `"}]}`
}

// TestPlatformClient runs, request for request, what the official
// client's end-to-end API-token tests do, and checks what each needs of
// the answer: the object, or an error the client shows as "404 Not Found
// - … (traceId)".
func TestPlatformClient(t *testing.T) {
	app := newAPIApp(t)
	_, secret := app.managerToken("E2E vendor")
	seeded, _ := app.createToken("E2E Seeded Token", app.module(store.ModuleAccessManagement))
	client := platformClient{app.api(t, secret)}
	accountID, moduleID := app.account.ID, app.module(store.ModuleAccessManagement).ID
	const unknown = apiTokens + "/TKN-0000-0000"
	notFound := regexp.MustCompile(`^404 Not Found - .+ \((00-[0-9a-f]{32}-[0-9a-f]{16}-00)\)$`)

	expectNotFound := func(t *testing.T, res *apiResponse) {
		t.Helper()
		got := platformError(res)
		m := notFound.FindStringSubmatch(got)
		if m == nil {
			t.Fatalf("the client shows %q; its test matches 404 Not Found:\n%s", got, res.body)
		}
		if m[1] != res.header.Get("X-Trace-Id") || !strings.Contains(app.logs.String(), "traceId="+m[1]) {
			t.Fatalf("traceId %s is not the answer's X-Trace-Id %q, or not in the log", m[1], res.header.Get("X-Trace-Id"))
		}
	}
	created := func(t *testing.T) apiTokenJSON {
		t.Helper()
		var tok apiTokenJSON
		client.do(http.MethodPost, apiTokens, platformTokenBody(accountID, moduleID, "E2E Test API Token")).decode(t, http.StatusCreated, &tok)
		if tok.ID == "" || tok.Token == "" || tok.Status != "Active" || tok.Account.ID != accountID ||
			len(tok.Modules) != 1 || tok.Modules[0].ID != moduleID || tok.Icon != nil {
			t.Fatalf("created %+v", tok)
		}
		return tok
	}

	t.Run("GetByID", func(t *testing.T) {
		var got apiTokenJSON
		client.do(http.MethodGet, apiTokens+"/"+seeded.ID, "").decode(t, http.StatusOK, &got)
		if got.ID != seeded.ID || got.Name != "E2E Seeded Token" || got.Status != "Active" {
			t.Fatalf("got %+v", got)
		}
	})
	t.Run("FetchPage", func(t *testing.T) {
		res := client.do(http.MethodGet, apiTokens+"?limit=10&offset=0", "")
		var page struct {
			Meta struct {
				Pagination map[string]int `json:"pagination"`
			} `json:"$meta"`
			Data []apiTokenJSON `json:"data"`
		}
		res.decode(t, http.StatusOK, &page)
		// The client builds its Pagination of exactly these members: one
		// more would make it fail.
		if keys := fmt.Sprint(page.Meta.Pagination); keys != "map[limit:10 offset:0 total:2]" || len(page.Data) != 2 {
			t.Fatalf("pagination %s with %d tokens", keys, len(page.Data))
		}
	})
	t.Run("GetNotFound", func(t *testing.T) { expectNotFound(t, client.do(http.MethodGet, unknown, "")) })
	t.Run("DeleteNotFound", func(t *testing.T) { expectNotFound(t, client.do(http.MethodDelete, unknown, "")) })
	t.Run("UpdateNotFound", func(t *testing.T) {
		expectNotFound(t, client.do(http.MethodPut, unknown, platformTokenBody(accountID, moduleID, "Nonexistent API Token")))
	})
	t.Run("DisableNotFound", func(t *testing.T) { expectNotFound(t, client.do(http.MethodPost, unknown+"/disable", "")) })
	t.Run("EnableNotFound", func(t *testing.T) { expectNotFound(t, client.do(http.MethodPost, unknown+"/enable", "")) })
	t.Run("CreateAndDelete", func(t *testing.T) {
		tok := created(t)
		res := client.do(http.MethodDelete, apiTokens+"/"+tok.ID, "")
		if res.status != http.StatusNoContent || platformError(res) != "" {
			t.Fatalf("delete = %d %s", res.status, res.body)
		}
		expectNotFound(t, client.do(http.MethodGet, apiTokens+"/"+tok.ID, ""))
	})
	t.Run("Update", func(t *testing.T) {
		tok := created(t)
		var got apiTokenJSON
		client.do(http.MethodPut, apiTokens+"/"+tok.ID, platformTokenBody(accountID, moduleID, "E2E Updated API Token")).decode(t, http.StatusOK, &got)
		if got.ID != tok.ID || got.Name != "E2E Updated API Token" || got.Token != "" {
			t.Fatalf("updated %+v", got)
		}
	})
	t.Run("DisableThenEnable", func(t *testing.T) {
		tok := created(t)
		var got apiTokenJSON
		client.do(http.MethodPost, apiTokens+"/"+tok.ID+"/disable", "").decode(t, http.StatusOK, &got)
		if got.Status != "Disabled" {
			t.Fatalf("after disable %q", got.Status)
		}
		client.do(http.MethodPost, apiTokens+"/"+tok.ID+"/enable", "").decode(t, http.StatusOK, &got)
		if got.Status != "Active" {
			t.Fatalf("after enable %q", got.Status)
		}
	})
	t.Run("ValidationErrorsByField", func(t *testing.T) {
		res := client.do(http.MethodPost, apiTokens, platformTokenBody(app.otherAdmin.AccountID, moduleID, ""))
		p := res.problem(t, http.StatusBadRequest, "validation-failed")
		if got := platformError(res); !strings.HasPrefix(got, "400 Bad Request - ") {
			t.Fatalf("the client shows %q", got)
		}
		if !slices.Equal(p.fields(), []string{"account.id", "name"}) || len(p.Errors["account.id"]) != 1 {
			t.Fatalf("errors %v", p.Errors)
		}
	})
	t.Run("Unauthorized", func(t *testing.T) {
		res := platformClient{app.api(t, forgeSecret(seeded.ID))}.do(http.MethodGet, apiTokens, "")
		if got := platformError(res); !strings.HasPrefix(got, "401 Unauthorized - ") {
			t.Fatalf("the client shows %q", got)
		}
	})
}

// TestAPIIcon: a create or update sends the icon as a data URL, "" or
// null for none; a read shows the icon's address, which an update may send
// back unchanged.
func TestAPIIcon(t *testing.T) {
	app := newAPIApp(t)
	_, secret := app.managerToken("Automation")
	c := app.api(t, secret)
	dataURL := "data:image/png;base64," + base64.StdEncoding.EncodeToString(pngLogo(t))
	var tok apiTokenJSON
	c.call(http.MethodPost, apiTokens, map[string]any{"name": "With icon", "icon": dataURL}).decode(t, http.StatusCreated, &tok)
	if tok.Icon == nil || *tok.Icon != apiTokens+"/"+tok.ID+"/icon" {
		t.Fatalf("icon %v", tok.Icon)
	}
	if res := c.get(*tok.Icon); res.status != http.StatusOK || res.header.Get("Content-Type") != "image/png" || len(res.body) == 0 {
		t.Fatalf("GET icon = %d", res.status)
	}
	var got apiTokenJSON
	c.call(http.MethodPut, apiTokens+"/"+tok.ID, map[string]any{"name": "Renamed", "icon": *tok.Icon}).decode(t, http.StatusOK, &got)
	if got.Icon == nil || got.Name != "Renamed" {
		t.Fatalf("sending the icon's address back lost it: %+v", got)
	}
	for _, none := range []any{"", nil} {
		c.call(http.MethodPut, apiTokens+"/"+tok.ID, map[string]any{"icon": dataURL}).decode(t, http.StatusOK, &got)
		c.call(http.MethodPut, apiTokens+"/"+tok.ID, map[string]any{"icon": none}).decode(t, http.StatusOK, &got)
		if got.Icon != nil {
			t.Fatalf("icon %v after sending %#v", *got.Icon, none)
		}
		c.get(apiTokens+"/"+tok.ID+"/icon").problem(t, http.StatusNotFound, "not-found")
	}
}

// TestAPIGrantsOnlyModulesItHas: a token may not hand out, to a new token
// or to itself, a module it does not have; it may keep or take away what a
// token has already.
func TestAPIGrantsOnlyModulesItHas(t *testing.T) {
	app := newAPIApp(t)
	self, secret := app.managerToken("Access only")
	c := app.api(t, secret)
	access, billing := app.module(store.ModuleAccessManagement), app.module("billing")
	t.Run("WidenItself", func(t *testing.T) {
		p := c.call(http.MethodPut, apiTokens+"/"+self.ID, map[string]any{"modules": moduleRefs(access, billing)}).
			problem(t, http.StatusBadRequest, "validation-failed")
		if !slices.Equal(p.fields(), []string{"modules"}) || !strings.Contains(p.Errors["modules"][0], billing.ID) {
			t.Fatalf("errors %v", p.Errors)
		}
		if got, _ := app.store.TokenByID(t.Context(), app.account.ID, self.ID); len(got.Modules) != 1 {
			t.Fatalf("modules now %+v", got.Modules)
		}
	})
	t.Run("CreateWithMore", func(t *testing.T) {
		c.call(http.MethodPost, apiTokens, map[string]any{"name": "Billing", "modules": moduleRefs(billing)}).
			problem(t, http.StatusBadRequest, "validation-failed")
	})
	t.Run("KeepWhatItHas", func(t *testing.T) {
		wide, _ := app.createToken("Wide", access, billing)
		var got apiTokenJSON
		c.call(http.MethodPut, apiTokens+"/"+wide.ID, map[string]any{"name": "Wide, renamed", "modules": moduleRefs(access, billing)}).
			decode(t, http.StatusOK, &got)
		// Modules as a read shows them, with their names, are taken too.
		c.call(http.MethodPut, apiTokens+"/"+wide.ID, map[string]any{"modules": []ref{{billing.ID, billing.Name}}}).decode(t, http.StatusOK, &got)
		if len(got.Modules) != 1 || got.Modules[0].ID != billing.ID {
			t.Fatalf("modules %+v", got.Modules)
		}
		c.call(http.MethodPut, apiTokens+"/"+wide.ID, map[string]any{"modules": moduleRefs()}).decode(t, http.StatusOK, &got)
		// Billing, once taken away, is not this token's to give back.
		c.call(http.MethodPut, apiTokens+"/"+wide.ID, map[string]any{"modules": moduleRefs(billing)}).
			problem(t, http.StatusBadRequest, "validation-failed")
	})
}

// TestOpenAPIRequestSchemas holds the bodies the official client sends to
// openapi.json's request schemas, so that what the document promises to
// take is what the client sends, and not more.
func TestOpenAPIRequestSchemas(t *testing.T) {
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	tree, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	compiler := jsonschema.NewCompiler()
	compiler.DefaultDraft(jsonschema.Draft2020)
	if err := compiler.AddResource(contractURL, tree); err != nil {
		t.Fatal(err)
	}
	body := platformTokenBody("ACC-0000-0001", "MOD-0000-0001", "E2E Test API Token")
	for _, tc := range []struct {
		name, schema, body string
		ok                 bool
	}{
		{"CreateAsTheClientSends", "TokenCreate", body, true},
		{"UpdateAsTheClientSends", "TokenUpdate", body, true},
		{"CreateWithIconAndExpiry", "TokenCreate", `{"name":"x","icon":"data:image/png;base64,iVBO","expiresAt":"2027-01-31T00:00:00Z"}`, true},
		{"ErrModulesAsIDs", "TokenCreate", `{"name":"x","modules":["MOD-0000-0001"]}`, false},
		{"ErrAccountAsID", "TokenUpdate", `{"account":"ACC-0000-0001"}`, false},
		{"UpdateWithReadOnlyMembersBack", "TokenUpdate", `{"id":"TKN-0000-0001","name":"x","status":"Active","lastAccessAt":null}`, true},
		{"ErrStatusNotAState", "TokenUpdate", `{"status":"paused"}`, false},
		{"ErrCreateWithoutName", "TokenCreate", `{"description":"x"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			schema, err := compiler.Compile(contractURL + "#/components/schemas/" + tc.schema)
			if err != nil {
				t.Fatal(err)
			}
			v, err := jsonschema.UnmarshalJSON(strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(v); (err == nil) != tc.ok {
				t.Fatalf("%s against %s: %v, want valid %v", tc.body, tc.schema, err, tc.ok)
			}
		})
	}
}
