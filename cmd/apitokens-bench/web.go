package main

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"apitokens/web/paths"
)

// The list page is found at this path; everything else is read from pages.
const listPath = paths.Tokens

// browser is a signed-in session, as a browser without JavaScript holds it:
// a cookie jar, no automatic redirects, and the CSRF token read from pages.
type browser struct {
	base   string
	client *http.Client
	csrf   string
}

var (
	inputTag  = regexp.MustCompile(`<input[^>]*>`)
	valueAttr = regexp.MustCompile(`value="([^"]*)"`)
	anchorTag = regexp.MustCompile(`<a\s[^>]*>`)
	hrefAttr  = regexp.MustCompile(`href="([^"]*)"`)
	tokenLink = regexp.MustCompile(`href="` + listPath + `/(TKN-\d{4}-\d{4})"`)
	tokenName = regexp.MustCompile(`<a id="n-TKN-[^"]+" href="[^"]+">([^<]*)<`)
)

// csrfFrom reads the value of the page's _csrf field.
func csrfFrom(body string) string {
	for _, tag := range inputTag.FindAllString(body, -1) {
		if strings.Contains(tag, `name="_csrf"`) {
			if m := valueAttr.FindStringSubmatch(tag); m != nil {
				return html.UnescapeString(m[1])
			}
		}
	}
	return ""
}

// nextLink is the href of the page's rel="next" link, whatever the
// pagination scheme behind it (offsets or cursors).
func nextLink(body string) string {
	for _, tag := range anchorTag.FindAllString(body, -1) {
		if strings.Contains(tag, `rel="next"`) {
			if m := hrefAttr.FindStringSubmatch(tag); m != nil {
				return html.UnescapeString(m[1])
			}
		}
	}
	return ""
}

// listedTokens are the IDs of the tokens a list page links to, in order.
func listedTokens(body string) []string {
	var ids []string
	seen := map[string]bool{}
	for _, m := range tokenLink.FindAllStringSubmatch(body, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			ids = append(ids, m[1])
		}
	}
	return ids
}

// signIn signs in through the login form and lands on the list.
func signIn(ctx context.Context, base, email, password string) (*browser, error) {
	jar, _ := cookiejar.New(nil)
	b := &browser{base: base, client: &http.Client{
		Jar:           jar,
		Timeout:       2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	status, body, _, err := b.get(ctx, "/login")
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK || csrfFrom(body) == "" {
		return nil, fmt.Errorf("GET /login: %d, CSRF field found: %v", status, csrfFrom(body) != "")
	}
	status, loc, err := b.post(ctx, "/login", url.Values{
		"email": {email}, "password": {password}, "_csrf": {csrfFrom(body)}, "next": {listPath},
	})
	if err != nil {
		return nil, err
	}
	if status != http.StatusSeeOther {
		return nil, fmt.Errorf("POST /login: %d, want 303", status)
	}
	status, body, _, err = b.get(ctx, loc)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK || csrfFrom(body) == "" {
		return nil, fmt.Errorf("GET %s after sign-in: %d", loc, status)
	}
	b.csrf = csrfFrom(body)
	return b, nil
}

// cookieHeader is the session as a Cookie header, for the load generator.
func (b *browser) cookieHeader() string {
	u, _ := url.Parse(b.base)
	var parts []string
	for _, c := range b.client.Jar.Cookies(u) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

func (b *browser) get(ctx context.Context, path string, headers ...[2]string) (status int, body, location string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.abs(path), nil)
	if err != nil {
		return 0, "", "", err
	}
	for _, h := range headers {
		req.Header.Set(h[0], h[1])
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw), resp.Header.Get("Location"), err
}

func (b *browser) post(ctx context.Context, path string, form url.Values) (status int, location string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.abs(path), strings.NewReader(form.Encode()))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.base)
	resp, err := b.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), nil
}

// abs resolves a path or URL of a page against the server.
func (b *browser) abs(ref string) string {
	if strings.HasPrefix(ref, "http://") || strings.HasPrefix(ref, "https://") {
		return ref
	}
	return b.base + ref
}

// deepPage finds the URL of the list page hops pages in, by the means any
// pagination scheme offers: the rel="next" link. When the first two Next
// links differ only in one number growing by a fixed step (offsets, page
// numbers), the URL is extrapolated instead of walked, which on an
// offset-paginated list of 100,000 tokens saves a thousand ever slower page
// loads. It returns the path and how it was found.
func (b *browser) deepPage(ctx context.Context, hops int) (string, string, error) {
	path := listPath
	var seen []string
	for i := 0; i < hops; i++ {
		status, body, _, err := b.get(ctx, path)
		if err != nil {
			return "", "", err
		}
		if status != http.StatusOK {
			return "", "", fmt.Errorf("GET %s: %d", path, status)
		}
		next := nextLink(body)
		if next == "" {
			return path, fmt.Sprintf("the list ends after %d pages", i+1), nil
		}
		path = next
		seen = append(seen, next)
		if len(seen) == 2 && hops > 2 {
			if jump, ok := extrapolate(seen[0], seen[1], hops); ok {
				status, _, _, err := b.get(ctx, jump)
				if err == nil && status == http.StatusOK {
					return jump, "Next link extrapolated", nil
				}
			}
		}
	}
	return path, fmt.Sprintf("followed Next ×%d", hops), nil
}

// extrapolate returns the URL hops pages in, if first and second (the Next
// links of pages 1 and 2) differ only in one integer query parameter that
// grows by a fixed step.
func extrapolate(first, second string, hops int) (string, bool) {
	u1, err1 := url.Parse(first)
	u2, err2 := url.Parse(second)
	if err1 != nil || err2 != nil || u1.Path != u2.Path {
		return "", false
	}
	q1, q2 := u1.Query(), u2.Query()
	if len(q1) != len(q2) {
		return "", false
	}
	var param string
	for k := range q2 {
		if q1.Get(k) != q2.Get(k) {
			if param != "" {
				return "", false
			}
			param = k
		}
	}
	if param == "" {
		return "", false
	}
	v1, err1 := strconv.Atoi(q1.Get(param))
	v2, err2 := strconv.Atoi(q2.Get(param))
	step := v2 - v1
	if err1 != nil || err2 != nil || step <= 0 {
		return "", false
	}
	// first is page 2's link: hops pages in is hops-1 steps further.
	q2.Set(param, strconv.Itoa(v1+step*(hops-1)))
	u2.RawQuery = q2.Encode()
	return u2.String(), true
}

// searchNote tells whether the list honoured a search for word: every row
// listed matches it, or the list ignored the parameter.
func searchNote(body, word string) string {
	names := tokenName.FindAllStringSubmatch(body, -1)
	if len(names) == 0 {
		return "no rows listed"
	}
	for _, m := range names {
		if !strings.Contains(strings.ToLower(html.UnescapeString(m[1])), strings.ToLower(word)) {
			return "q= ignored: the list is unfiltered"
		}
	}
	return fmt.Sprintf("filtered: %d rows match %q", len(names), word)
}

// deleteFlow deletes n tokens as a person does without JavaScript, from the
// top of the list: POST the row's delete form with the CSRF token, follow the
// 303 to the list, which shows the success message and the next token to
// delete. It returns the time of each POST + redirected GET, and of the
// POST alone.
func (b *browser) deleteFlow(ctx context.Context, n int) (times, posts []time.Duration, err error) {
	status, body, _, err := b.get(ctx, listPath)
	if err != nil {
		return nil, nil, err
	}
	if status != http.StatusOK {
		return nil, nil, fmt.Errorf("GET %s: %d", listPath, status)
	}
	for range n {
		ids := listedTokens(body)
		if len(ids) == 0 {
			return times, posts, errors.New("the list shows no token to delete")
		}
		id := ids[0]
		csrf := csrfFrom(body)
		start := time.Now()
		status, loc, err := b.post(ctx, listPath+"/"+id+"/delete", url.Values{"_csrf": {csrf}})
		posted := time.Since(start)
		if err != nil {
			return times, posts, err
		}
		if status != http.StatusSeeOther {
			return times, posts, fmt.Errorf("POST delete %s: %d, want 303", id, status)
		}
		status, body, _, err = b.get(ctx, loc)
		if err != nil {
			return times, posts, err
		}
		times = append(times, time.Since(start))
		posts = append(posts, posted)
		if status != http.StatusOK || !strings.Contains(body, "deleted successfully") {
			return times, posts, fmt.Errorf("GET %s after deleting %s: %d, success message shown: %v",
				loc, id, status, strings.Contains(body, "deleted successfully"))
		}
		if after := listedTokens(body); len(after) > 0 && after[0] == id {
			return times, posts, fmt.Errorf("%s still listed after its delete", id)
		}
	}
	return times, posts, nil
}
