package web_test

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"apitokens/store"
	"apitokens/web"
)

func TestAPIBadInput(t *testing.T) {
	app := newAPIApp(t)
	_, secret := app.managerToken("Automation")
	target, _ := app.createToken("Target", app.module("billing"))
	theirs, _ := app.createTokenIn(app.otherAdmin, "Theirs")
	c := app.api(t, secret)
	ctJSON := "application/json"
	cases := []struct {
		name, method, path, contentType, body string
		status                                int
		typ                                   string
		fields                                []string
	}{
		{"NoContentType", "POST", apiTokens, "", `{"name":"x"}`, 415, "unsupported-media-type", nil},
		{"TextPlain", "POST", apiTokens, "text/plain", `{"name":"x"}`, 415, "unsupported-media-type", nil},
		{"FormEncoded", "PUT", apiTokens + "/" + target.ID, "application/x-www-form-urlencoded", "name=x", 415, "unsupported-media-type", nil},
		{"OtherCharset", "POST", apiTokens, "application/json; charset=latin1", `{"name":"x"}`, 415, "unsupported-media-type", nil},
		{"EmptyBody", "POST", apiTokens, ctJSON, "", 400, "malformed-body", nil},
		{"BrokenJSON", "POST", apiTokens, ctJSON, `{"name": "x"`, 400, "malformed-body", nil},
		{"SyntaxError", "POST", apiTokens, ctJSON, `{"name": x}`, 400, "malformed-body", nil},
		{"TrailingData", "POST", apiTokens, ctJSON, `{"name": "x"} {}`, 400, "malformed-body", nil},
		{"Array", "POST", apiTokens, ctJSON, `[{"name": "x"}]`, 400, "malformed-body", nil},
		{"Null", "PUT", apiTokens + "/" + target.ID, ctJSON, `null`, 400, "malformed-body", nil},
		{"NameMissing", "POST", apiTokens, ctJSON, `{}`, 400, "validation-failed", []string{"name"}},
		{"NameBlank", "POST", apiTokens, ctJSON, `{"name": "   "}`, 400, "validation-failed", []string{"name"}},
		{"NameTooLong", "POST", apiTokens, ctJSON, `{"name": "` + strings.Repeat("é", store.MaxTokenName+1) + `"}`, 400, "validation-failed", []string{"name"}},
		{"NameNotString", "POST", apiTokens, ctJSON, `{"name": 5}`, 400, "validation-failed", []string{"name"}},
		{"NameNull", "POST", apiTokens, ctJSON, `{"name": null}`, 400, "validation-failed", []string{"name"}},
		{"DescriptionTooLong", "POST", apiTokens, ctJSON, `{"name": "x", "description": "` + strings.Repeat("d", store.MaxTokenDescription+1) + `"}`, 400, "validation-failed", []string{"description"}},
		{"NameBidiMark", "POST", apiTokens, ctJSON, `{"name": "pay\u200froll"}`, 400, "validation-failed", []string{"name"}},
		{"DescriptionControl", "POST", apiTokens, ctJSON, `{"name": "x", "description": "red \u001b[31malert"}`, 400, "validation-failed", []string{"description"}},
		{"DescriptionControlOnUpdate", "PUT", apiTokens + "/" + target.ID, ctJSON, `{"description": "bell\u0007"}`, 400, "validation-failed", []string{"description"}},
		{"ModulesNotList", "POST", apiTokens, ctJSON, `{"name": "x", "modules": "MOD-1"}`, 400, "validation-failed", []string{"modules"}},
		{"ModulesOfAnotherAccount", "POST", apiTokens, ctJSON, `{"name": "x", "modules": [{"id": "` + app.otherModule(t).ID + `"}]}`, 400, "validation-failed", []string{"modules"}},
		{"ExpiryNotADate", "POST", apiTokens, ctJSON, `{"name": "x", "expiresAt": "next week"}`, 400, "validation-failed", []string{"expiresAt"}},
		{"ExpiryPast", "POST", apiTokens, ctJSON, `{"name": "x", "expiresAt": "2020-01-01T00:00:00Z"}`, 400, "validation-failed", []string{"expiresAt"}},
		{"EverythingWrongAtOnce", "POST", apiTokens, ctJSON, `{"name": "", "modules": 3, "colour": "red"}`, 400, "validation-failed", []string{"colour", "modules", "name"}},
		{"MassAssignmentOnCreate", "POST", apiTokens, ctJSON,
			`{"name": "sneaky", "status": "disabled", "accountId": "` + app.otherAdmin.AccountID + `", "account": {"id": "` + app.otherAdmin.AccountID + `"}, "digest": "00", "id": "TKN-1111-1111", "token": "apitk_x"}`,
			400, "validation-failed", []string{"account.id", "accountId", "digest", "id", "status", "token"}},
		{"MassAssignmentOnUpdate", "PUT", apiTokens + "/" + target.ID, ctJSON,
			`{"name": "renamed", "status": "disabled", "accountId": "` + app.otherAdmin.AccountID + `", "expiresAt": "2027-01-01T00:00:00Z", "lastAccessAt": "yesterday"}`,
			400, "validation-failed", []string{"accountId", "expiresAt", "lastAccessAt", "status"}},
		{"ModulesAsIDs", "POST", apiTokens, ctJSON, `{"name": "x", "modules": ["` + app.module(store.ModuleAccessManagement).ID + `"]}`, 400, "validation-failed", []string{"modules"}},
		{"ModuleIDInCapitals", "POST", apiTokens, ctJSON, `{"name": "x", "modules": [{"ID": "` + app.module(store.ModuleAccessManagement).ID + `"}]}`, 400, "validation-failed", []string{"modules"}},
		{"ModuleIDNull", "POST", apiTokens, ctJSON, `{"name": "x", "modules": [{"id": null}]}`, 400, "validation-failed", []string{"modules"}},
		{"AccountIDNotString", "POST", apiTokens, ctJSON, `{"name": "x", "account": {"id": 5}}`, 400, "validation-failed", []string{"account.id"}},
		{"ModuleWithoutID", "POST", apiTokens, ctJSON, `{"name": "x", "modules": [{"name": "Billing"}]}`, 400, "validation-failed", []string{"modules"}},
		{"ModuleTheCallerLacks", "POST", apiTokens, ctJSON, `{"name": "x", "modules": [{"id": "` + app.module("billing").ID + `"}]}`, 400, "validation-failed", []string{"modules"}},
		{"WidenAnotherToken", "PUT", apiTokens + "/" + target.ID, ctJSON, `{"modules": [{"id": "` + app.module("billing").ID + `"}, {"id": "` + app.module("catalog").ID + `"}]}`, 400, "validation-failed", []string{"modules"}},
		{"AccountOfAnother", "POST", apiTokens, ctJSON, `{"account": {"id": "` + app.otherAdmin.AccountID + `"}, "name": "x"}`, 400, "validation-failed", []string{"account.id"}},
		{"AccountAsString", "POST", apiTokens, ctJSON, `{"account": "` + app.account.ID + `", "name": "x"}`, 400, "validation-failed", []string{"account.id"}},
		{"AccountOfAnotherOnUpdate", "PUT", apiTokens + "/" + target.ID, ctJSON, `{"account": {"id": "` + app.otherAdmin.AccountID + `"}, "name": "x"}`, 400, "validation-failed", []string{"account.id"}},
		{"IconNotDataURL", "POST", apiTokens, ctJSON, `{"name": "x", "icon": "https://example.com/logo.png"}`, 400, "validation-failed", []string{"icon"}},
		{"IconNotBase64", "POST", apiTokens, ctJSON, `{"name": "x", "icon": "data:image/png;base64,%%%"}`, 400, "validation-failed", []string{"icon"}},
		{"IconSVG", "POST", apiTokens, ctJSON, `{"name": "x", "icon": "data:image/svg+xml;base64,PHN2Zy8+"}`, 400, "validation-failed", []string{"icon"}},
		{"IconNotAnImage", "PUT", apiTokens + "/" + target.ID, ctJSON, `{"icon": "data:image/png;base64,aGVsbG8="}`, 400, "validation-failed", []string{"icon"}},
		{"DuplicateMember", "POST", apiTokens, ctJSON, `{"name": "a", "name": "b"}`, 400, "malformed-body", []string{"name"}},
		{"DuplicateNestedMember", "POST", apiTokens, ctJSON, `{"name": "a", "account": {"id": "` + app.account.ID + `", "id": "` + app.otherAdmin.AccountID + `"}}`, 400, "malformed-body", []string{"account.id"}},
		{"DuplicateInList", "PUT", apiTokens + "/" + target.ID, ctJSON, `{"modules": [{"id": "a"}, {"id": "b", "id": "c"}]}`, 400, "malformed-body", []string{"modules[1].id"}},
		{"DuplicateOnUpdate", "PUT", apiTokens + "/" + target.ID, ctJSON, `{"description": "", "description": "x"}`, 400, "malformed-body", []string{"description"}},
		{"UpdateUnknownIDWithBadBody", "PUT", apiTokens + "/TKN-0000-0000", ctJSON, `{"name": 5, "colour": "red"}`, 404, "not-found", nil},
		{"UpdateUnknownIDWithBrokenJSON", "PUT", apiTokens + "/TKN-0000-0000", ctJSON, `{"name": `, 404, "not-found", nil},
		{"UpdateOtherAccountsToken", "PUT", apiTokens + "/" + theirs.ID, ctJSON, `{"name": "mine now"}`, 404, "not-found", nil},
		{"TooLarge", "POST", apiTokens, ctJSON, `{"name": "` + strings.Repeat("x", web.MaxAPITokenBody) + `"}`, 413, "body-too-large", nil},
		{"LimitNegative", "GET", apiTokens + "?limit=-1", "", "", 400, "invalid-parameters", []string{"limit"}},
		{"LimitNotANumber", "GET", apiTokens + "?limit=ten", "", "", 400, "invalid-parameters", []string{"limit"}},
		{"OffsetNegativeAndLimitWord", "GET", apiTokens + "?offset=-1&limit=ten", "", "", 400, "invalid-parameters", []string{"limit", "offset"}},
		{"UnknownPath", "GET", "/public/v1/nothing-here", "", "", 404, "not-found", nil},
		{"UnknownSubPath", "GET", apiTokens + "/" + target.ID + "/secret", "", "", 404, "not-found", nil},
		{"WrongMethod", "PATCH", apiTokens + "/" + target.ID, ctJSON, `{"name": "x"}`, 405, "method-not-allowed", nil},
		{"GetEnable", "GET", apiTokens + "/" + target.ID + "/enable", "", "", 405, "method-not-allowed", nil},
	}
	before, _ := app.store.ListTokens(context.Background(), app.account.ID, store.TokenFilter{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body []byte
			if tc.body != "" {
				body = []byte(tc.body)
			}
			res := c.send(tc.method, tc.path, tc.contentType, body)
			p := res.problem(t, tc.status, tc.typ)
			got := p.fields()
			if !slices.Equal(got, tc.fields) {
				t.Fatalf("fields %v, want %v: %+v", got, tc.fields, p)
			}
			for field, messages := range p.Errors {
				if len(messages) == 0 || slices.Contains(messages, "") {
					t.Errorf("field %s has no message: %q", field, messages)
				}
			}
			if res.header.Get("Cache-Control") != "no-store" || res.header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("headers %v", res.header)
			}
			if tc.status == 405 && res.header.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
		})
	}
	t.Run("CallsWithoutABodyIgnoreOne", func(t *testing.T) {
		// Only create and update read a body; what a client sends along
		// with another call (curl -d '{}' sends it as a form) is no reason
		// to refuse the call.
		if res := c.send("POST", apiTokens+"/"+target.ID+"/disable", "application/x-www-form-urlencoded", []byte("{}")); res.status != http.StatusOK {
			t.Fatalf("disable with a form body = %d: %s", res.status, res.body)
		}
		if res := c.send("POST", apiTokens+"/"+target.ID+"/enable", "text/plain", []byte("please")); res.status != http.StatusOK {
			t.Fatalf("enable with a text body = %d: %s", res.status, res.body)
		}
		if res := c.send("GET", apiTokens+"/"+target.ID, "text/plain", []byte("hello")); res.status != http.StatusOK {
			t.Fatalf("GET with a text body = %d: %s", res.status, res.body)
		}
	})
	t.Run("NothingChanged", func(t *testing.T) {
		after, _ := app.store.ListTokens(context.Background(), app.account.ID, store.TokenFilter{})
		if after.Total != before.Total {
			t.Fatalf("%d tokens, was %d", after.Total, before.Total)
		}
		got, _ := app.store.TokenByID(context.Background(), app.account.ID, target.ID)
		if got.Name != "Target" || got.Status != store.StatusActive || !got.ExpiresAt.IsZero() || len(got.Modules) != 1 {
			t.Fatalf("target changed: %+v", got)
		}
		other, _ := app.store.TokenByID(context.Background(), theirs.AccountID, theirs.ID)
		if other.Name != "Theirs" {
			t.Fatalf("another account's token changed: %+v", other)
		}
	})
	t.Run("TooLargeWithoutLength", func(t *testing.T) {
		body := io.MultiReader(strings.NewReader(`{"name": "`), strings.NewReader(strings.Repeat("x", web.MaxAPITokenBody)), strings.NewReader(`"}`))
		req := c.request(http.MethodPost, apiTokens, "application/json", body)
		if req.ContentLength > 0 {
			t.Fatal("the request announces its length")
		}
		res, err := c.do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.problem(t, http.StatusRequestEntityTooLarge, "body-too-large")
	})
	t.Run("SessionCookieDoesNotAuthenticate", func(t *testing.T) {
		browser := app.signedIn(t, app.admin)
		req, _ := http.NewRequest(http.MethodGet, app.url+apiTokens, nil)
		if res := browser.do(req); res.status != http.StatusUnauthorized {
			t.Fatalf("a signed-in browser without a token = %d, want 401", res.status)
		}
	})
}

// otherModule is a module of the other account.
func (a *testApp) otherModule(t *testing.T) store.Module {
	mods, err := a.store.Modules(context.Background(), a.otherAdmin.AccountID)
	if err != nil || len(mods) == 0 {
		t.Fatal(err)
	}
	return mods[0]
}

// TestAPIPathsAndMethods checks what the description says of paths and
// methods beyond the operations: OPTIONS lists the methods, and a trailing
// slash is ignored.
func TestAPIPathsAndMethods(t *testing.T) {
	app := newAPIApp(t)
	tok, secret := app.managerToken("Automation")
	c := app.api(t, secret)
	t.Run("Options", func(t *testing.T) {
		for path, want := range map[string][]string{apiTokens: {"GET", "POST"}, apiTokens + "/" + tok.ID + "/enable": {"POST"}} {
			res := app.api(t, "").send(http.MethodOptions, path, "", nil)
			allowed := strings.Split(res.header.Get("Allow"), ", ")
			for _, m := range want {
				if res.status != http.StatusNoContent || !slices.Contains(allowed, m) {
					t.Errorf("OPTIONS %s = %d, Allow %q; want 204 allowing %s", path, res.status, res.header.Get("Allow"), m)
				}
			}
		}
	})
	t.Run("TrailingSlash", func(t *testing.T) {
		var page apiPage
		c.get(apiTokens+"/").decode(t, http.StatusOK, &page)
		var got apiTokenJSON
		c.get(apiTokens+"/"+tok.ID+"/").decode(t, http.StatusOK, &got)
		if page.Meta.Pagination.Total != 1 || got.ID != tok.ID {
			t.Fatalf("list %+v, token %+v", page.Meta, got)
		}
	})
}
