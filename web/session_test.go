package web_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"apitokens/web"
)

func TestSessionIdleTimeout(t *testing.T) {
	app := newTestApp(t)
	c := app.signedIn(t, app.admin)
	app.clock.Add(59 * time.Minute)
	if res := c.get(tokensPath); res.status != 200 {
		t.Fatalf("after 59 idle minutes = %d, want the list", res.status)
	}
	app.clock.Add(61 * time.Minute)
	res := c.get(tokensPath)
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location(), "/login") {
		t.Fatalf("after an idle hour = %d → %q, want the sign-in page", res.status, res.location())
	}
}

func TestSignInThrottle(t *testing.T) {
	app := newTestApp(t)
	// The owner has signed in with this browser before.
	owner := app.signedIn(t, app.admin)
	if res := owner.submit(tokensPath, "/logout", nil); res.status != http.StatusSeeOther {
		t.Fatalf("sign-out = %d", res.status)
	}
	c := app.client(t)
	wrong := url.Values{"email": {app.admin.Email}, "password": {"guess"}}
	for i := range 10 {
		if res := c.submit("/login", "/login", wrong); res.status != http.StatusUnprocessableEntity {
			t.Fatalf("wrong password %d = %d, want 422", i+1, res.status)
		}
	}
	right := url.Values{"email": {app.admin.Email}, "password": {password}}
	t.Run("Refused", func(t *testing.T) {
		// The eleventh try from a browser new to the account is refused
		// before the password is even checked, the right password included.
		res := c.submit("/login", "/login", right)
		if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") == "" ||
			!strings.Contains(res.text(), "Too many failed sign-ins from your network.") {
			t.Fatalf("after 10 failures = %d, Retry-After %q:\n%s", res.status, res.header.Get("Retry-After"), res.text())
		}
		if !strings.Contains(res.body, `value="`+app.admin.Email+`"`) {
			t.Error("the email was not kept")
		}
	})
	t.Run("OwnerStillSignsIn", func(t *testing.T) {
		// Same address, the browser the owner signed in with before: the
		// guesses of someone else hold it back in nothing.
		if res := owner.submit("/login", "/login", wrong); res.status != http.StatusUnprocessableEntity {
			t.Fatalf("the owner's typo = %d, want 422", res.status)
		}
		if res := owner.submit("/login", "/login", right); res.status != http.StatusSeeOther {
			t.Fatalf("the owner's right password = %d, want 303:\n%s", res.status, res.text())
		}
	})
	t.Run("AfterTheWait", func(t *testing.T) {
		app.clock.Add(time.Minute)
		if res := c.submit("/login", "/login", right); res.status != http.StatusSeeOther {
			t.Fatalf("after waiting = %d, want 303", res.status)
		}
	})
}

// TestSignInThrottlePerAccount: guesses at one account spread over many
// addresses are limited as if they came from one, and the owner's browser
// signs in all the same.
func TestSignInThrottlePerAccount(t *testing.T) {
	app := newTestApp(t, func(c *web.Config) { c.TrustedProxies = web.LoopbackProxies })
	from := func(c *client, ip string, form url.Values) *response {
		form.Set("_csrf", c.get("/login").csrf(t))
		return c.post("/login", form, "X-Forwarded-For", ip)
	}
	owner := app.client(t)
	right := func() url.Values { return url.Values{"email": {app.admin.Email}, "password": {password}} }
	if res := from(owner, "198.51.100.1", right()); res.status != http.StatusSeeOther {
		t.Fatalf("owner's sign-in = %d", res.status)
	}
	if res := owner.submit(tokensPath, "/logout", nil); res.status != http.StatusSeeOther {
		t.Fatalf("sign-out = %d", res.status)
	}
	// Email in another case, as the store finds it.
	wrong := func() url.Values {
		return url.Values{"email": {strings.ToUpper(app.admin.Email)}, "password": {"guess"}}
	}
	attacker := app.client(t)
	for i := range 10 {
		if res := from(attacker, uniqueIP(), wrong()); res.status != http.StatusUnprocessableEntity {
			t.Fatalf("wrong password %d = %d, want 422", i+1, res.status)
		}
	}
	res := from(attacker, uniqueIP(), wrong())
	if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") != "60" ||
		!strings.Contains(res.text(), "Too many failed sign-ins to this account.") {
		t.Fatalf("11th guess from an 11th address = %d, Retry-After %q:\n%s", res.status, res.header.Get("Retry-After"), res.text())
	}
	if res := from(app.client(t), uniqueIP(), right()); res.status != http.StatusTooManyRequests {
		t.Fatalf("a new browser with the right password = %d, want 429 until the wait is over", res.status)
	}
	if res := from(owner, "198.51.100.1", right()); res.status != http.StatusSeeOther {
		t.Fatalf("the owner's browser = %d, want 303:\n%s", res.status, res.text())
	}
	other := url.Values{"email": {app.member.Email}, "password": {password}}
	if res := from(attacker, uniqueIP(), other); res.status != http.StatusSeeOther {
		t.Fatalf("another account = %d, want 303", res.status)
	}
}

func TestFormsOnly(t *testing.T) {
	app := newTestApp(t)
	tok, _ := app.createToken("Kept")
	c := app.signedIn(t, app.admin)
	csrf := c.get(tokensPath).csrf(t)
	for _, ct := range []string{"application/json", "text/xml", "text/plain"} {
		res := c.post(tokensPath+"/"+tok.ID+"/delete", url.Values{"_csrf": {csrf}}, "Content-Type", ct)
		if res.status != http.StatusUnsupportedMediaType || !strings.Contains(res.text(), "This address accepts forms only.") {
			t.Fatalf("%s = %d:\n%s", ct, res.status, res.text())
		}
	}
	if !app.tokenExists(app.account.ID, tok.ID) {
		t.Fatal("a refused request deleted the token")
	}
	t.Run("CrossSiteIsRefusedAsSuch", func(t *testing.T) {
		res := c.post(tokensPath+"/"+tok.ID+"/delete", url.Values{"_csrf": {csrf}}, "Content-Type", "application/json",
			"Sec-Fetch-Site", "cross-site")
		if res.status != http.StatusForbidden || !app.tokenExists(app.account.ID, tok.ID) {
			t.Fatalf("cross-site JSON post = %d, want 403", res.status)
		}
	})
	t.Run("AnyCharsetOfAForm", func(t *testing.T) {
		res := c.post(tokensPath+"/"+tok.ID+"/disable", url.Values{"_csrf": {csrf}},
			"Content-Type", "application/x-www-form-urlencoded; charset=iso-8859-1")
		if res.status != http.StatusSeeOther {
			t.Fatalf("a form sent with charset=iso-8859-1 = %d, want 303", res.status)
		}
	})
}

func TestSignInThrottleConcurrent(t *testing.T) {
	app := newTestApp(t)
	c := app.client(t)
	csrf := c.get("/login").csrf(t)
	var wg sync.WaitGroup
	var tried, refused atomic.Int32
	for range 40 {
		wg.Go(func() {
			res := c.post("/login", url.Values{"_csrf": {csrf}, "email": {app.admin.Email}, "password": {"guess"}})
			switch res.status {
			case http.StatusUnprocessableEntity:
				tried.Add(1)
			case http.StatusTooManyRequests:
				refused.Add(1)
			default:
				t.Errorf("status %d", res.status)
			}
		})
	}
	wg.Wait()
	if tried.Load() > 10 || tried.Load()+refused.Load() != 40 {
		t.Fatalf("%d passwords were checked and %d refused, of 40 sent at once; want at most 10 checked", tried.Load(), refused.Load())
	}
}

// TestSessionFixation: the cookie a browser held before signing in opens
// nothing afterwards; signing in issues a new session.
func TestSessionFixation(t *testing.T) {
	app := newTestApp(t)
	c := app.client(t)
	c.get("/login")
	u, _ := url.Parse(app.url)
	before := c.http.Jar.Cookies(u)
	if len(before) == 0 {
		t.Fatal("no cookie before sign-in")
	}
	c.signIn(app.admin)
	after := c.http.Jar.Cookies(u)
	if len(after) == 0 || after[0].Value == before[0].Value {
		t.Fatal("the session cookie did not change at sign-in")
	}
	// Someone who planted or copied the earlier cookie is still signed out.
	planted := app.client(t)
	planted.http.Jar.SetCookies(u, before)
	if res := planted.get(tokensPath); res.status != http.StatusSeeOther || !strings.HasPrefix(res.location(), "/login") {
		t.Fatalf("the pre-sign-in cookie gives %d → %q, want the sign-in page", res.status, res.location())
	}
}

// TestSessionCookieHostPrefix: served at an https:// address, the session
// cookie bears the __Host- prefix, so no sibling host can set one in its
// place, and is Secure even when TLS ends at a proxy in front.
func TestSessionCookieHostPrefix(t *testing.T) {
	public, err := web.ParsePublicURL("https://tokens.example.com")
	if err != nil {
		t.Fatal(err)
	}
	app := newTestApp(t, func(cfg *web.Config) { cfg.PublicURL = public })
	raw := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := raw.Get(app.url + "/login")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	cookies := res.Cookies()
	if len(cookies) != 1 || cookies[0].Name != "__Host-apitokens_session" || !cookies[0].Secure ||
		cookies[0].Path != "/" || cookies[0].Domain != "" {
		t.Fatalf("session cookie %v", res.Header.Values("Set-Cookie"))
	}
	// The cookie works: signing in with it lands on the list.
	c := app.client(t)
	req, _ := http.NewRequest(http.MethodGet, app.url+"/login", nil)
	req.AddCookie(cookies[0])
	page := c.do(req)
	form := url.Values{"_csrf": {page.csrf(t)}, "email": {app.admin.Email}, "password": {password}}
	req, _ = http.NewRequest(http.MethodPost, app.url+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(cookies[0])
	signIn := c.do(req)
	if signIn.status != http.StatusSeeOther || !slices.ContainsFunc(signIn.header.Values("Set-Cookie"), func(v string) bool {
		return strings.HasPrefix(v, "__Host-apitokens_session=") && strings.Contains(v, "; Secure")
	}) {
		t.Fatalf("sign-in = %d, Set-Cookie %q", signIn.status, signIn.header.Values("Set-Cookie"))
	}
}

// TestDuplicateSessionCookies: with two cookies of the session's name, the
// one that is valid counts, whichever comes first.
func TestDuplicateSessionCookies(t *testing.T) {
	app := newTestApp(t)
	c := app.signedIn(t, app.admin)
	u, _ := url.Parse(app.url)
	var valid string
	for _, k := range c.http.Jar.Cookies(u) {
		if k.Name == "apitokens_session" {
			valid = k.Value
		}
	}
	if valid == "" {
		t.Fatal("no session cookie after sign-in")
	}
	for name, header := range map[string]string{
		"InvalidFirst": "apitokens_session=forged; apitokens_session=" + valid,
		"InvalidLast":  "apitokens_session=" + valid + "; apitokens_session=forged",
	} {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, app.url+tokensPath, nil)
			req.Header.Set("Cookie", header)
			res, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("list with cookies %q = %d %s, want the list", name, res.StatusCode, res.Header.Get("Location"))
			}
		})
	}
}
