package web_test

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestAPICallsDuringDelete fires 200 concurrent API calls with one token
// while the token is deleted through the web page. Calls may succeed while
// the delete is under way, but not one that starts after the delete has
// returned.
func TestAPICallsDuringDelete(t *testing.T) {
	app := newTestApp(t)
	tok, secret := app.managerToken("Doomed")
	browser := app.signedIn(t, app.admin)
	csrf := browser.get(tokensPath).csrf(t)
	transport := &http.Transport{MaxIdleConnsPerHost: 200, MaxConnsPerHost: 200}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 20 * time.Second}

	var deletedAt atomic.Int64 // UnixNano once the delete has returned
	var okBefore, okAfter, refusedAfter atomic.Int64
	start := make(chan struct{})
	// The delete waits for the calls to be answered, not for a guessed time.
	answered := make(chan struct{})
	var firstAnswer sync.Once
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			<-start
			for {
				doneBefore := deletedAt.Load()
				req, _ := http.NewRequest(http.MethodGet, app.url+"/public/v1/accounts/api-tokens/"+tok.ID, nil)
				req.Header.Set("Authorization", "Bearer "+secret)
				res, err := client.Do(req)
				if err != nil {
					t.Errorf("API call: %v", err)
					return
				}
				res.Body.Close()
				switch {
				case doneBefore != 0 && res.StatusCode == http.StatusOK:
					okAfter.Add(1)
				case doneBefore != 0:
					refusedAfter.Add(1)
				case res.StatusCode == http.StatusOK:
					okBefore.Add(1)
					firstAnswer.Do(func() { close(answered) })
				}
				if doneBefore != 0 {
					return // one call each after the delete is enough
				}
			}
		})
	}
	close(start)
	select {
	case <-answered:
	case <-time.After(10 * time.Second):
		deletedAt.Store(time.Now().UnixNano()) // the calls stop after one more each
		wg.Wait()
		t.Fatal("no API call was answered in 10s")
	}
	res := browser.post(tokensPath+"/"+tok.ID+"/delete", map[string][]string{"_csrf": {csrf}})
	deletedAt.Store(time.Now().UnixNano())
	if res.status != http.StatusSeeOther {
		t.Fatalf("delete = %d", res.status)
	}
	wg.Wait()
	if okAfter.Load() != 0 {
		t.Fatalf("%d API calls that started after the delete returned succeeded", okAfter.Load())
	}
	if okBefore.Load() == 0 || refusedAfter.Load() != 200 {
		t.Fatalf("%d calls succeeded before the delete, %d were refused after; want some and 200", okBefore.Load(), refusedAfter.Load())
	}
	if _, err := app.store.TokenByID(context.Background(), app.account.ID, tok.ID); err == nil {
		t.Fatal("the token is still there")
	}
	if _, err := app.store.TokenBySecret(context.Background(), secret); err == nil {
		t.Fatal("the secret still authenticates")
	}
}

// TestAPIBusyHonestClient: many calls at once from one address with a valid
// token are all answered; the failure limit counts failures only.
func TestAPIBusyHonestClient(t *testing.T) {
	app := newTestApp(t)
	tok, secret := app.managerToken("Busy")
	var wg sync.WaitGroup
	var refused atomic.Int32
	for range 64 {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, app.url+"/public/v1/accounts/api-tokens/"+tok.ID, nil)
			req.Header.Set("Authorization", "Bearer "+secret)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				refused.Add(1)
			}
		})
	}
	wg.Wait()
	if n := refused.Load(); n != 0 {
		t.Fatalf("%d of 64 valid calls at once were refused", n)
	}
}
