package web_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"apitokens/store"
	"apitokens/store/storetest"
	"apitokens/web"
)

func TestMain(m *testing.M) {
	store.PasswordCost = bcrypt.MinCost
	// The HTTP tests run on both engines; the browser's see the same
	// pages on either, and run on SQLite alone. Tests named for
	// PostgreSQL choose it themselves, in the first run.
	code := storetest.RunBothEngines(m, "^(TestBrowser|TestPostgres)")
	stopBrowser()
	os.Exit(code)
}

const password = "correct horse battery"

// clock is the one fake in these tests: a settable time for the store and
// the pages.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer collects the server log; requests log from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testApp is the real server on the real store, over loopback.
type testApp struct {
	t     testing.TB
	store *store.Store
	srv   *web.Server
	url   string
	clock *clock
	logs  *syncBuffer
	// The database and the keys, which another instance shares.
	dsn     string
	keys    store.Keys
	cfg     web.Config
	options []func(*web.Config)
	account store.Account
	admin   store.User
	member  store.User
	// otherAdmin administers another account.
	otherAdmin store.User
	modules    []store.Module
}

// newTestApp starts the app on a new database of the engine under test;
// options adjust its configuration.
func newTestApp(t testing.TB, options ...func(*web.Config)) *testApp {
	t.Helper()
	return newTestAppOn(t, storetest.DSN(t), options...)
}

// newTestAppOn starts the app on the empty database dsn, with an account,
// its administrator and member, and another account's administrator.
func newTestAppOn(t testing.TB, dsn string, options ...func(*web.Config)) *testApp {
	t.Helper()
	a := &testApp{t: t, dsn: dsn, options: options,
		keys:  store.Keys{Digest: randomBytes(32), Encryption: randomBytes(32)},
		clock: &clock{t: time.Date(2026, 5, 4, 10, 30, 0, 0, time.UTC)},
		cfg:   web.Config{SessionAuthKey: randomBytes(32), SessionEncryptionKey: randomBytes(32)},
	}
	a.start()
	st := a.store
	var err error
	ctx := context.Background()
	a.account = a.mustAccount("Acme")
	a.admin = a.mustUser(a.account, "admin@acme.test", "Ada Admin", store.RoleAdmin)
	a.member = a.mustUser(a.account, "member@acme.test", "Max Member", store.RoleMember)
	other := a.mustAccount("Globex")
	a.otherAdmin = a.mustUser(other, "admin@globex.test", "Olga Other", store.RoleAdmin)
	if a.modules, err = st.Modules(ctx, a.account.ID); err != nil {
		t.Fatal(err)
	}
	return a
}

// start opens the store and serves the app, with a's database, keys and
// clock, and a log of its own.
func (a *testApp) start() {
	t := a.t
	t.Helper()
	st, err := store.Open(a.dsn, a.keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	st.Now = a.clock.Now
	a.logs = &syncBuffer{}
	cfg := a.cfg
	cfg.Logger = slog.New(slog.NewTextHandler(a.logs, nil))
	cfg.Now = a.clock.Now
	ts := httptest.NewUnstartedServer(nil)
	t.Cleanup(ts.Close)
	cfg.PublicURL = &url.URL{Scheme: "http", Host: ts.Listener.Addr().String()}
	for _, o := range a.options {
		o(&cfg)
	}
	srv, err := web.New(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ts.Config.Handler = srv
	ts.Start()
	a.store, a.srv, a.url = st, srv, ts.URL
}

// another is a second instance of the app, as a load balancer would have
// beside a: its own process state (store handle, server, limiters, caches)
// on the same database, with the same keys, clock and people.
func (a *testApp) another() *testApp {
	a.t.Helper()
	b := *a
	b.start()
	return &b
}

// auditCount is how many events of the action the token's audit trail
// holds.
func (a *testApp) auditCount(t testing.TB, tokenID, action string) int {
	t.Helper()
	events, err := a.store.AuditEvents(context.Background(), a.account.ID, tokenID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Action == action {
			n++
		}
	}
	return n
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func (a *testApp) mustAccount(name string) store.Account {
	acc, err := a.store.CreateAccount(context.Background(), name)
	if err != nil {
		a.t.Fatal(err)
	}
	return acc
}

func (a *testApp) mustUser(acc store.Account, email, name string, role store.Role) store.User {
	u, err := a.store.CreateUser(context.Background(), store.NewUser{AccountID: acc.ID, Email: email, Name: name, Role: role, Password: password})
	if err != nil {
		a.t.Fatal(err)
	}
	return u
}

// createToken makes a token in the admin's account, as an administrator
// would, and returns it with its secret.
func (a *testApp) createToken(name string, modules ...store.Module) (store.Token, string) {
	return a.createTokenIn(a.admin, name, modules...)
}

func (a *testApp) createTokenIn(by store.User, name string, modules ...store.Module) (store.Token, string) {
	a.t.Helper()
	n := store.NewToken{AccountID: by.AccountID, Name: name}
	for _, m := range modules {
		n.ModuleIDs = append(n.ModuleIDs, m.ID)
	}
	t, secret, err := a.store.CreateToken(context.Background(), n, store.UserActor(by.ID, "127.0.0.1"))
	if err != nil {
		a.t.Fatal(err)
	}
	return t, secret
}

// tokenExists reports whether the token is still there, as its account sees it.
func (a *testApp) tokenExists(accountID, id string) bool {
	_, err := a.store.TokenByID(context.Background(), accountID, id)
	return err == nil
}

// client is a browser without JavaScript: it keeps cookies and does not
// follow redirects, so each step of post/redirect/get can be checked.
type client struct {
	t    testing.TB
	app  *testApp
	http *http.Client
}

func (a *testApp) client(t testing.TB) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, app: a, http: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}}
}

// response is what came back, with the body read.
type response struct {
	status int
	header http.Header
	body   string
}

func (r *response) location() string { return r.header.Get("Location") }

// text is the body with tags removed and entities decoded, close to what a
// person reads.
func (r *response) text() string {
	noTags := regexp.MustCompile(`(?s)<[^>]*>`).ReplaceAllString(r.body, " ")
	return strings.Join(strings.Fields(html.UnescapeString(noTags)), " ")
}

var csrfPattern = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// csrf is the CSRF token of the page's forms, read like a browser would.
func (r *response) csrf(t testing.TB) string {
	t.Helper()
	m := csrfPattern.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no _csrf field on the page:\n%s", r.body)
	}
	return m[1]
}

func (c *client) do(req *http.Request) *response {
	c.t.Helper()
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return &response{status: res.StatusCode, header: res.Header, body: string(body)}
}

func (c *client) get(path string) *response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.app.url+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(req)
}

// post sends a form as is; header adds request headers.
func (c *client) post(path string, form url.Values, header ...string) *response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.app.url+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.do(req)
}

// submit posts a form the way a browser submits one found on the page at
// pagePath: with that page's CSRF token.
func (c *client) submit(pagePath, action string, form url.Values) *response {
	c.t.Helper()
	page := c.get(pagePath)
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", page.csrf(c.t))
	return c.post(action, form)
}

// follow gets where a redirect points.
func (c *client) follow(r *response) *response {
	c.t.Helper()
	if r.status != http.StatusSeeOther {
		c.t.Fatalf("status %d, want 303 See Other; body:\n%s", r.status, r.text())
	}
	return c.get(r.location())
}

// signIn signs in through the sign-in form.
func (c *client) signIn(u store.User) {
	c.t.Helper()
	res := c.submit("/login", "/login", url.Values{"email": {u.Email}, "password": {password}})
	if res.status != http.StatusSeeOther {
		c.t.Fatalf("sign-in as %s = %d, want 303:\n%s", u.Email, res.status, res.text())
	}
}

func (a *testApp) signedIn(t testing.TB, u store.User) *client {
	c := a.client(t)
	c.signIn(u)
	return c
}
