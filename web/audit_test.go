package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"apitokens/store"
)

// recordLinks are the addresses of the record details a page links to.
var recordLinkPattern = regexp.MustCompile(`href="(/settings/audit-trail/\d+)"[^>]*data-record-link`)

func recordLinks(r *response) []string {
	var out []string
	for _, m := range recordLinkPattern.FindAllStringSubmatch(r.body, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestAuditRecordsTheBrowser: a change on the pages records the
// browser that made it, as its request named it, beside the address.
func TestAuditRecordsTheBrowser(t *testing.T) {
	app := newTestApp(t)
	tok, _ := app.createToken("Agent check")
	c := app.signedIn(t, app.admin)
	const firefox = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0"
	page := c.get(tokensPath + "/" + tok.ID + "/disable")
	res := c.post(tokensPath+"/"+tok.ID+"/disable", url.Values{"_csrf": {page.csrf(t)}}, "User-Agent", firefox)
	if res.status != http.StatusSeeOther {
		t.Fatalf("disable = %d", res.status)
	}
	events, err := app.store.AuditEvents(context.Background(), app.account.ID, tok.ID)
	if err != nil {
		t.Fatal(err)
	}
	if events[0].Action != store.AuditDisabled || events[0].UserAgent != firefox || events[0].IP != "127.0.0.1" {
		t.Fatalf("the disable is recorded as %+v, want Firefox from 127.0.0.1", events[0])
	}
	trail := c.get(tokensPath + "/" + tok.ID + "?tab=audit").text()
	if !strings.Contains(trail, "127.0.0.1 Firefox 128 on macOS API token disabled") {
		t.Errorf("the trail does not name the browser:\n%s", trail)
	}
}

// TestAuditRecordPage: without JavaScript, View details is a page of its
// own with every fact of the record; another account's record, or no
// record, is not found.
func TestAuditRecordPage(t *testing.T) {
	app := newTestApp(t)
	tok, secret := app.createToken("Recorded")
	theirs, _ := app.createTokenIn(app.otherAdmin, "Theirs")
	c := app.signedIn(t, app.admin)
	links := recordLinks(c.get(tokensPath + "/" + tok.ID + "?tab=audit"))
	if len(links) != 1 {
		t.Fatalf("%d record links on the trail, want 1", len(links))
	}
	res := c.get(links[0])
	id := strings.TrimPrefix(links[0], "/settings/audit-trail/")
	want := "Record details Account audit trail Record " + id + " Record ID " + id + " Object Recorded " + tok.ID + " API token Date 4 May 2026, 10:30:00.000 UTC" +
		" Actor Ada Admin " + app.admin.ID + " Tech details Address: 127.0.0.1 Browser: Unknown Summary API token created Details None JSON {"
	if res.status != http.StatusOK || !strings.Contains(res.text(), want) {
		t.Fatalf("record page = %d:\n%s\nwant it to hold\n%s", res.status, res.text(), want)
	}
	if strings.Contains(res.body, secret) {
		t.Fatal("the record page holds the secret")
	}
	theirEvents, err := app.store.AuditEvents(context.Background(), app.otherAdmin.AccountID, theirs.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/settings/audit-trail/" + strconv.FormatInt(theirEvents[0].ID, 10), "/settings/audit-trail/999999",
		"/settings/audit-trail/abc", "/settings/audit-trail/-1", "/settings/audit-trail/99999999999999999999"} {
		if res := c.get(path); res.status != http.StatusNotFound || !strings.Contains(res.text(), "There is no such record in your account's audit trail.") {
			t.Errorf("GET %s = %d:\n%s", path, res.status, res.text())
		}
	}
}

// TestAccountAuditTrail: the account's trail pages by 25 with Previous and
// Next, filters by object, actor, event and date, and answers a filter it
// cannot use with 400, the form as sent and what is wrong.
func TestAccountAuditTrail(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	var last store.Token
	for i := range 27 {
		last, _ = app.createToken("Token " + strconv.Itoa(i))
	}
	if _, _, err := app.store.SetTokenStatus(ctx, app.account.ID, last.ID, store.StatusDisabled, store.UserActor(app.member.ID, "192.0.2.4")); err != nil {
		t.Fatal(err)
	}
	c := app.signedIn(t, app.admin)
	first := c.get("/settings/audit-trail")
	if first.status != http.StatusOK || len(recordLinks(first)) != 25 || !strings.Contains(first.text(), "1–25 of 28 records Page 1 of 2 Next") {
		t.Fatalf("first page = %d, %d records:\n%s", first.status, len(recordLinks(first)), first.text())
	}
	second := c.get(first.link("next"))
	if len(recordLinks(second)) != 3 || !strings.Contains(second.text(), "26–28 of 28 records Previous Page 2 of 2") {
		t.Fatalf("second page:\n%s", second.text())
	}
	for _, tc := range []struct {
		name, query string
		records     int
	}{
		{"Object", "object=" + strings.ToLower(last.ID), 2},
		{"ObjectName", "object=token+2", 9}, // Token 2, 20–26, and the disable of 26
		{"Actor", "actor=" + app.member.ID, 1},
		{"Event", "event=disabled", 1},
		{"Dates", "from=2026-05-04&to=2026-05-04", 25},
		{"DatesBefore", "to=2026-05-03", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := c.get("/settings/audit-trail?" + tc.query)
			if res.status != http.StatusOK || len(recordLinks(res)) != tc.records {
				t.Errorf("%s = %d with %d records, want %d:\n%s", tc.query, res.status, len(recordLinks(res)), tc.records, res.text())
			}
		})
	}
	for _, tc := range []struct{ query, message string }{
		{"from=yesterday", "Enter the first day as a date, for example 2026-01-31."},
		{"event=exploded", "Choose an event from the list."},
		{"actor=root", "Choose an actor from the list."},
		{"from=2026-05-05&to=2026-05-01", "The end date must not be before the start date."},
	} {
		t.Run("Err_"+tc.query, func(t *testing.T) {
			res := c.get("/settings/audit-trail?" + tc.query)
			if res.status != http.StatusBadRequest || !strings.Contains(res.text(), tc.message) || !strings.Contains(res.body, `aria-invalid="true"`) {
				t.Errorf("%s = %d:\n%s", tc.query, res.status, res.text())
			}
		})
	}
	if res := c.get("/settings/audit-trail?page=0"); res.status != http.StatusBadRequest {
		t.Errorf("page=0 = %d, want 400", res.status)
	}
	if res := c.get(tokensPath + "/" + last.ID + "?tab=audit&page=x"); res.status != http.StatusBadRequest {
		t.Errorf("a token's trail, page=x = %d, want 400", res.status)
	}
}
