package web_test

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"apitokens/store"
)

// apiUsageJSON is GET …/{id}/usage as a client reads it.
type apiUsageJSON struct {
	Calls24h   int64 `json:"calls24h"`
	Calls7d    int64 `json:"calls7d"`
	Calls30d   int64 `json:"calls30d"`
	Refused30d int64 `json:"refused30d"`
	Days       []struct {
		Date    string `json:"date"`
		Calls   int64  `json:"calls"`
		Refused int64  `json:"refused"`
	} `json:"days"`
	LastCaller *struct {
		At        time.Time `json:"at"`
		Address   string    `json:"address"`
		UserAgent string    `json:"userAgent"`
	} `json:"lastCaller"`
}

// usageOf reads a token's usage through the API, after the server has
// written what it counted.
func (a *testApp) usageOf(t *testing.T, c *apiClient, id string) apiUsageJSON {
	t.Helper()
	if err := a.srv.FlushUsage(t.Context()); err != nil {
		t.Fatal(err)
	}
	var u apiUsageJSON
	c.get(apiTokens+"/"+id+"/usage").decode(t, http.StatusOK, &u)
	return u
}

// callAPI makes n API calls with the token's secret from 203.0.113.7, the
// client named userAgent, and has the server write what it counted.
func (a *testApp) callAPI(t *testing.T, secret string, n int, userAgent string) {
	t.Helper()
	c := a.api(t, secret).from("203.0.113.7")
	for range n {
		c.send(http.MethodGet, apiTokens, "", nil, "User-Agent", userAgent)
	}
	if err := a.srv.FlushUsage(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestUsageCounting makes 1,000 API calls with a token from 20 goroutines
// at once: each is counted once, and the last caller is known.
func TestUsageCounting(t *testing.T) {
	app := newAPIApp(t)
	tok, secret := app.managerToken("Integration")
	reader, readerSecret := app.managerToken("Reader")
	c := app.api(t, secret).from("203.0.113.7")
	const workers, each = 20, 50
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				req := c.request(http.MethodGet, apiTokens+"/"+reader.ID, "", nil, "User-Agent", "python-httpx/0.28")
				res, err := c.do(req)
				if err != nil || res.status != http.StatusOK {
					t.Errorf("call: %v %v", err, res)
					return
				}
			}
		})
	}
	wg.Wait()
	read := app.api(t, readerSecret)
	u := app.usageOf(t, read, tok.ID)
	if u.Calls24h != workers*each || u.Calls7d != workers*each || u.Calls30d != workers*each {
		t.Fatalf("%d calls counted %d, %d, %d", workers*each, u.Calls24h, u.Calls7d, u.Calls30d)
	}
	if len(u.Days) != store.UsageDays || u.Days[len(u.Days)-1].Date != app.clock.Now().Format(time.DateOnly) ||
		u.Days[len(u.Days)-1].Calls != workers*each {
		t.Fatalf("days: %d, the last %+v", len(u.Days), u.Days[len(u.Days)-1])
	}
	if u.LastCaller == nil || u.LastCaller.Address != "203.0.113.7" || u.LastCaller.UserAgent != "python-httpx/0.28" ||
		!u.LastCaller.At.Equal(app.clock.Now()) {
		t.Fatalf("last caller %+v", u.LastCaller)
	}
	if got := app.signedIn(t, app.admin).get(tokensPath + "?sort=calls").text(); !strings.Contains(got, tok.ID+" Access management") ||
		!strings.Contains(got, "Just now 1,000 Active") {
		t.Fatalf("the list does not show 1,000 calls in 7 days:\n%s", got)
	}

	t.Run("Refused", func(t *testing.T) {
		if _, _, err := app.store.SetTokenStatus(t.Context(), app.account.ID, tok.ID, store.StatusDisabled, store.UserActor(app.admin.ID, "")); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			c.get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
		}
		// A secret that names the token but is not its own is no sign
		// of use: anyone can write one.
		app.api(t, forgeSecret(tok.ID)).get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
		u := app.usageOf(t, read, tok.ID)
		if u.Refused30d != 3 || u.Calls30d != workers*each {
			t.Fatalf("refused %d, calls %d; want 3 refused and the calls as before", u.Refused30d, u.Calls30d)
		}
	})

	t.Run("NeverUsed", func(t *testing.T) {
		fresh, _ := app.managerToken("Fresh")
		u := app.usageOf(t, read, fresh.ID)
		if u.LastCaller != nil || u.Calls30d != 0 || len(u.Days) != store.UsageDays {
			t.Fatalf("usage of a token never used: %+v", u)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		theirs, _ := app.createTokenIn(app.otherAdmin, "Theirs")
		read.get(apiTokens+"/"+theirs.ID+"/usage").problem(t, http.StatusNotFound, "not-found")
		read.get(apiTokens+"/TKN-0000-0000/usage").problem(t, http.StatusNotFound, "not-found")
	})
}

// TestUsageInConfirmations reads what the Disable and Delete confirmations
// say of a token used a minute ago, used long ago, and never used.
func TestUsageInConfirmations(t *testing.T) {
	app := newAPIApp(t)
	busy, busySecret := app.managerToken("Busy")
	idle, idleSecret := app.managerToken("Idle")
	old, oldSecret := app.managerToken("Old")
	never, _ := app.managerToken("Never")
	call := func(secret string, n int) { app.callAPI(t, secret, n, "python-httpx/0.28") }
	call(oldSecret, 1)
	app.clock.Add(100 * 24 * time.Hour)
	call(idleSecret, 2)
	app.clock.Add(12 * 24 * time.Hour)
	call(busySecret, 1284)
	app.clock.Add(5 * time.Minute)

	admin := app.signedIn(t, app.admin)
	cases := []struct {
		name string
		tok  store.Token
		want string
	}{
		{"Used", busy, "Used 1,284 times in the last 7 days, last 5 minutes ago from 203.0.113.7 (python-httpx/0.28). Applications using it will stop working."},
		{"NotLately", idle, "Not used in the last 7 days; last used 12 days ago from 203.0.113.7 (python-httpx/0.28)."},
		{"NotIn90Days", old, "Not used in the last 90 days."},
		{"NeverUsed", never, "Never used."},
	}
	for _, tc := range cases {
		for _, action := range []string{"delete", "disable"} {
			t.Run(tc.name+"/"+action, func(t *testing.T) {
				page := admin.get(tokensPath + "/" + tc.tok.ID + "/" + action)
				if page.status != http.StatusOK {
					t.Fatalf("confirmation = %d", page.status)
				}
				if got := usageNote(t, page); got != tc.want {
					t.Fatalf("the confirmation says %q, want %q", got, tc.want)
				}
			})
		}
	}
	t.Run("Refused", func(t *testing.T) {
		if _, _, err := app.store.SetTokenStatus(t.Context(), app.account.ID, idle.ID, store.StatusDisabled, store.UserActor(app.admin.ID, "")); err != nil {
			t.Fatal(err)
		}
		c := app.api(t, idleSecret)
		for range 3 {
			c.get(apiTokens).problem(t, http.StatusUnauthorized, "unauthorized")
		}
		app.srv.FlushUsage(t.Context())
		want := "Not used in the last 7 days; last used 12 days ago from 203.0.113.7 (python-httpx/0.28). 3 calls were refused in the last 7 days: something still tries to use it."
		if got := usageNote(t, admin.get(tokensPath+"/"+idle.ID+"/delete")); got != want {
			t.Fatalf("the confirmation says %q, want %q", got, want)
		}
	})
	t.Run("Bulk", func(t *testing.T) {
		page := admin.submit(tokensPath, tokensPath+"/bulk", url.Values{"action": {"delete"}, "ids": {busy.ID, old.ID, never.ID}})
		want := "Used 1,284 times in the last 7 days, last 5 minutes ago from 203.0.113.7 (python-httpx/0.28). Applications using them will stop working."
		if got := usageNote(t, page); got != want {
			t.Fatalf("the bulk confirmation says %q, want %q", got, want)
		}
		page = admin.submit(tokensPath, tokensPath+"/bulk", url.Values{"action": {"disable"}, "ids": {never.ID}})
		if got := usageNote(t, page); got != "Never used." {
			t.Fatalf("the bulk confirmation of one token never used says %q", got)
		}
		// Another account's token in the selection counts for nothing.
		theirs, theirSecret := app.createTokenIn(app.otherAdmin, "Theirs")
		call(theirSecret, 5)
		page = admin.submit(tokensPath, tokensPath+"/bulk", url.Values{"action": {"delete"}, "ids": {theirs.ID, never.ID}})
		if got := usageNote(t, page); got != "None of them has ever been used." {
			t.Fatalf("a selection with another account's token says %q", got)
		}
	})
}

// TestConfirmationFetchedByScript: a dialog's script that asks for the
// confirmation of an action the token no longer allows (the page behind it
// is old) leaves no message for the person's next page.
func TestConfirmationFetchedByScript(t *testing.T) {
	app := newTestApp(t)
	tok, _ := app.createToken("Already off")
	if _, _, err := app.store.SetTokenStatus(t.Context(), app.account.ID, tok.ID, store.StatusDisabled, store.UserActor(app.admin.ID, "")); err != nil {
		t.Fatal(err)
	}
	admin := app.signedIn(t, app.admin)
	req, err := http.NewRequest(http.MethodGet, app.url+tokensPath+"/"+tok.ID+"/disable", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Sec-Fetch-Dest", "empty")
	if res := admin.do(req); res.status != http.StatusSeeOther {
		t.Fatalf("the script's request = %d", res.status)
	}
	if page := admin.get(tokensPath).text(); strings.Contains(page, "already disabled") {
		t.Fatalf("the next page carries a message the person never asked for:\n%s", page)
	}
	// Asked for by the browser, the page says so.
	if page := admin.follow(admin.get(tokensPath + "/" + tok.ID + "/disable")).text(); !strings.Contains(page, "already disabled") {
		t.Fatalf("a person who asks is told:\n%s", page)
	}
}

var usageNotePattern = regexp.MustCompile(`(?s)<p class="usage-note[^"]*" data-usage>(.*?)</p>`)

// usageNote is the usage note of a confirmation page, as a person reads it.
func usageNote(t *testing.T, page *response) string {
	t.Helper()
	m := usageNotePattern.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("no usage note on the page (%d):\n%s", page.status, page.text())
	}
	return (&response{body: m[1]}).text()
}

// TestChangeReasonInAuditTrail gives a reason for a delete, a disable and a
// bulk action, and finds each in the audit trail; a reason too long is
// refused with the confirmation page again, and nothing changes.
func TestChangeReasonInAuditTrail(t *testing.T) {
	app := newTestApp(t)
	admin := app.signedIn(t, app.admin)
	leaked, _ := app.createToken("Leaked")
	paused, _ := app.createToken("Paused")
	a, _ := app.createToken("Bulk A")
	b, _ := app.createToken("Bulk B")

	t.Run("ErrTooLong", func(t *testing.T) {
		long := strings.Repeat("x", store.MaxReason+1)
		res := admin.submit(tokensPath+"/"+leaked.ID+"/delete", tokensPath+"/"+leaked.ID+"/delete", url.Values{"reason": {long}})
		if res.status != http.StatusBadRequest || !strings.Contains(res.text(), "Keep the reason to 200 characters at most") ||
			!strings.Contains(res.body, `value="`+long+`"`) {
			t.Fatalf("a reason too long = %d:\n%s", res.status, res.text())
		}
		if !app.tokenExists(app.account.ID, leaked.ID) {
			t.Fatal("the token was deleted despite the refused reason")
		}
	})
	t.Run("Delete", func(t *testing.T) {
		res := admin.submit(tokensPath+"/"+leaked.ID+"/delete", tokensPath+"/"+leaked.ID+"/delete", url.Values{"reason": {"Rotated after a leak"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("delete = %d:\n%s", res.status, res.text())
		}
		trail := admin.get("/settings/audit-trail").text()
		if !strings.Contains(trail, "API token deleted Reason: Rotated after a leak") {
			t.Fatalf("the audit trail does not show the reason:\n%s", trail)
		}
	})
	t.Run("Disable", func(t *testing.T) {
		admin.submit(tokensPath+"/"+paused.ID+"/disable", tokensPath+"/"+paused.ID+"/disable", url.Values{"reason": {"Vendor on hold"}})
		if trail := admin.get(tokensPath + "/" + paused.ID + "?tab=audit").text(); !strings.Contains(trail, "Reason: Vendor on hold") {
			t.Fatalf("the token's audit trail does not show the reason:\n%s", trail)
		}
	})
	t.Run("EnableAsksNoReason", func(t *testing.T) {
		// Enabling stops nothing: its form has no reason, and one sent
		// anyway is not kept, whatever its length.
		res := admin.submit(tokensPath+"/"+paused.ID+"/enable", tokensPath+"/"+paused.ID+"/enable",
			url.Values{"reason": {strings.Repeat("x", store.MaxReason+1)}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("enable = %d:\n%s", res.status, res.text())
		}
		trail, err := app.store.AuditTrail(t.Context(), app.account.ID, store.AuditFilter{TokenID: paused.ID})
		if err != nil {
			t.Fatal(err)
		}
		if e := trail.Events[0]; e.Action != store.AuditEnabled || e.Reason != "" {
			t.Fatalf("latest event %s with reason %q", e.Action, e.Reason)
		}
	})
	t.Run("Bulk", func(t *testing.T) {
		res := admin.submit(tokensPath, tokensPath+"/bulk", url.Values{"action": {"disable"}, "ids": {a.ID, b.ID},
			"confirm": {"1"}, "reason": {"Quarterly clean-up"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("bulk = %d", res.status)
		}
		for _, id := range []string{a.ID, b.ID} {
			if trail := admin.get(tokensPath + "/" + id + "?tab=audit").text(); !strings.Contains(trail, "Reason: Quarterly clean-up") {
				t.Fatalf("%s's audit trail does not show the reason:\n%s", id, trail)
			}
		}
	})
}

// TestUsageTab shows the Usage tab of a token used on two days, and of one
// never used.
func TestUsageTab(t *testing.T) {
	app := newAPIApp(t)
	tok, secret := app.managerToken("Charted")
	never, _ := app.managerToken("Unused")
	app.callAPI(t, secret, 4, "Go-http-client/1.1")
	app.clock.Add(26 * time.Hour)
	app.callAPI(t, secret, 9, "<script>alert(1)</script>")
	admin := app.signedIn(t, app.admin)
	page := admin.get(tokensPath + "/" + tok.ID + "?tab=usage")
	if page.status != http.StatusOK {
		t.Fatalf("usage tab = %d", page.status)
	}
	if got := page.text(); !strings.Contains(got, "Calls, last 24 hours 9 Calls, last 7 days 13 Calls, last 30 days 13 Refused calls, last 30 days 0") {
		t.Fatalf("totals:\n%s", got)
	}
	// The chart's bars and the table say the same, day by day.
	bars := regexp.MustCompile(`<g data-day="([0-9-]+)" data-calls="([0-9]+)" data-refused="([0-9]+)">`).FindAllStringSubmatch(page.body, -1)
	rows := regexp.MustCompile(`(?s)<tr data-day="([0-9-]+)"><th scope="row">[^<]*</th><td>([0-9,]+)</td><td>([0-9,]+)</td></tr>`).FindAllStringSubmatch(page.body, -1)
	if len(bars) != store.UsageDays || len(rows) != store.UsageDays {
		t.Fatalf("%d bars and %d rows, want %d of each", len(bars), len(rows), store.UsageDays)
	}
	var total int
	for i := range bars {
		if bars[i][1] != rows[i][1] || bars[i][2] != strings.ReplaceAll(rows[i][2], ",", "") || bars[i][3] != rows[i][3] {
			t.Fatalf("day %d: bar %v, row %v", i, bars[i][1:], rows[i][1:])
		}
		n, _ := strconv.Atoi(bars[i][2])
		total += n
	}
	if total != 13 || bars[len(bars)-1][2] != "9" || bars[len(bars)-2][2] != "4" {
		t.Fatalf("bars %v", bars)
	}
	// The client's name is the caller's, shown as text.
	if !strings.Contains(page.body, "&lt;script&gt;alert(1)&lt;/script&gt;") || strings.Contains(page.body, "<script>alert(1)") {
		t.Fatal("the User-Agent is not escaped on the Usage tab")
	}
	if got := admin.get(tokensPath + "/" + never.ID + "?tab=usage").text(); !strings.Contains(got, "Not used yet") {
		t.Fatalf("the Usage tab of a token never used:\n%s", got)
	}
}

// TestExportCSV exports the list, filtered and whole, and a token's audit
// trail.
func TestExportCSV(t *testing.T) {
	app := newTestApp(t)
	admin := app.signedIn(t, app.admin)
	ctx := t.Context()
	for i := range 130 {
		name := fmt.Sprintf("Export %03d", i)
		switch i {
		case 7:
			name = "=HYPERLINK(\"http://evil.example\")"
		case 8:
			name = "+cmd"
		case 9:
			name = "-2+3"
		case 10:
			name = "@SUM(A1)"
		}
		tok, _ := app.createToken(name)
		if i%2 == 1 {
			if _, _, err := app.store.SetTokenStatus(ctx, app.account.ID, tok.ID, store.StatusDisabled, store.UserActor(app.admin.ID, "")); err != nil {
				t.Fatal(err)
			}
		}
	}
	read := func(t *testing.T, path string) [][]string {
		t.Helper()
		res := admin.get(path)
		if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "text/csv") ||
			!strings.HasPrefix(res.header.Get("Content-Disposition"), "attachment;") {
			t.Fatalf("%s = %d %q", path, res.status, res.header)
		}
		rows, err := csv.NewReader(strings.NewReader(res.body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	t.Run("All", func(t *testing.T) {
		rows := read(t, tokensPath+"/export.csv?sort=name")
		if got := strings.Join(rows[0], ","); got != "ID,Name,Description,Status,Modules,Created by,Created by ID,Date created,Last access,Calls (7 days),Expires" {
			t.Fatalf("header %q", got)
		}
		if len(rows) != 131 {
			t.Fatalf("%d rows, want a header and 130 tokens", len(rows))
		}
		var got []string
		for _, r := range rows[1:] {
			got = append(got, r[1])
		}
		for _, formula := range []string{`'=HYPERLINK("http://evil.example")`, "'+cmd", "'-2+3", "'@SUM(A1)"} {
			if !slices.Contains(got, formula) {
				t.Errorf("no escaped %q among the names", formula)
			}
		}
		if !slices.Contains(got, "Export 129") || !slices.Contains(got, "Export 000") {
			t.Fatal("not every page was exported")
		}
	})
	t.Run("Filtered", func(t *testing.T) {
		rows := read(t, tokensPath+"/export.csv?status=disabled")
		if len(rows) != 66 {
			t.Fatalf("%d rows, want a header and 65 disabled tokens", len(rows))
		}
		for _, r := range rows[1:] {
			if r[3] != "Disabled" {
				t.Fatalf("a %s token in the export of disabled ones", r[3])
			}
		}
	})
	t.Run("ErrBadFilter", func(t *testing.T) {
		if res := admin.get(tokensPath + "/export.csv?sort=colour"); res.status != http.StatusBadRequest {
			t.Fatalf("bad filter = %d", res.status)
		}
	})
	t.Run("AuditTrail", func(t *testing.T) {
		tok, _ := app.createToken("Audited")
		admin.submit(tokensPath+"/"+tok.ID+"/disable", tokensPath+"/"+tok.ID+"/disable", url.Values{"reason": {"=1+1 on hold"}})
		rows := read(t, tokensPath+"/"+tok.ID+"/audit.csv")
		if len(rows) != 3 || rows[1][6] != "API token disabled" || rows[1][8] != "'=1+1 on hold" || rows[2][6] != "API token created" {
			t.Fatalf("audit rows %q", rows)
		}
		theirs, _ := app.createTokenIn(app.otherAdmin, "Theirs")
		if res := admin.get(tokensPath + "/" + theirs.ID + "/audit.csv"); res.status != http.StatusNotFound {
			t.Fatalf("another account's audit trail = %d", res.status)
		}
	})
}

// TestUsageRolledUpWithoutCalls: a server that no API call reaches still
// rolls the stored usage up as the hours pass, so the list's 7-day calls
// go down when the calls, made through another instance, grow old.
func TestUsageRolledUpWithoutCalls(t *testing.T) {
	app := newTestApp(t)
	tok, _ := app.createToken("Elsewhere")
	at := app.clock.Now()
	if err := app.store.RecordUsage(t.Context(), store.UsageBatch{
		Counts: map[store.UsageKey]store.UsageCount{{TokenID: tok.ID, Hour: store.UsageHour(at)}: {Calls: 42}},
		Last:   map[string]store.Caller{tok.ID: {At: at}},
	}); err != nil {
		t.Fatal(err)
	}
	calls := func() int64 {
		got, err := app.store.TokenByID(t.Context(), app.account.ID, tok.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Calls7d
	}
	if n := calls(); n != 42 {
		t.Fatalf("7-day calls %d, want 42", n)
	}
	app.clock.Add(8 * 24 * time.Hour)
	// The writer's tick is a few seconds of real time.
	deadline := time.Now().Add(20 * time.Second)
	for calls() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the 7-day calls of a token last called 8 days ago were never rolled up")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
