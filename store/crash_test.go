package store

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// crashChildEnv makes the test binary run crashChild instead of the tests.
const crashChildEnv = "APITOKENS_CRASH_CHILD"

// crashChild creates and deletes tokens for ever, printing a line after each
// commit: "created TKN-…" or "deleted TKN-…". Whatever it printed, the
// database must still hold after a SIGKILL.
func crashChild() {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		os.Exit(2)
	}
	digest, err1 := hex.DecodeString(os.Getenv("APITOKENS_CRASH_DIGEST_KEY"))
	enc, err2 := hex.DecodeString(os.Getenv("APITOKENS_CRASH_ENCRYPTION_KEY"))
	if err1 != nil || err2 != nil {
		fail(fmt.Errorf("keys: %v %v", err1, err2))
	}
	s, err := Open(os.Getenv(crashChildEnv), Keys{Digest: digest, Encryption: enc})
	if err != nil {
		fail(err)
	}
	ctx := context.Background()
	acc, err := s.AccountByName(ctx, "Crash account")
	if err != nil {
		fail(err)
	}
	admin, err := s.FirstAdmin(ctx, acc.ID)
	if err != nil {
		fail(err)
	}
	by := UserActor(admin.ID, "192.0.2.9")
	var live []string
	for i := 0; ; i++ {
		if i%3 == 2 && len(live) > 0 {
			id := live[0]
			live = live[1:]
			if _, err := s.DeleteToken(ctx, acc.ID, id, by); err != nil {
				fail(err)
			}
			fmt.Printf("deleted %s\n", id)
			continue
		}
		t, _, err := s.CreateToken(ctx, NewToken{AccountID: acc.ID, Name: fmt.Sprintf("crash %d", i)}, by)
		if err != nil {
			fail(err)
		}
		live = append(live, t.ID)
		fmt.Printf("created %s\n", t.ID)
	}
}

// TestCrashSafety kills a writing process with SIGKILL at random moments,
// 20 times (APITOKENS_CRASH_ROUNDS for more). After each restart the database must be intact, every write the
// process reported as committed must be there, and every reported delete
// must still be a delete.
func TestCrashSafety(t *testing.T) {
	path := newTestDSN(t)
	keys := randomKeys(t)
	s, err := Open(path, keys)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	acc, err := s.CreateAccount(ctx, "Crash account")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, NewUser{AccountID: acc.ID, Email: "crash@test.example", Name: "Crash Admin", Role: RoleAdmin, Password: "correct horse"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Another handle on the database, as another instance would be, serves
	// reads throughout: a writer killed mid-write holds nothing up.
	other, err := Open(path, keys)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	rounds := 20
	if n, err := strconv.Atoi(os.Getenv("APITOKENS_CRASH_ROUNDS")); err == nil && n > 0 {
		rounds = n // make soak runs many more
	}
	created, deleted := map[string]bool{}, map[string]bool{}
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path,
			"APITOKENS_CRASH_DIGEST_KEY="+hex.EncodeToString(keys.Digest),
			"APITOKENS_CRASH_ENCRYPTION_KEY="+hex.EncodeToString(keys.Encryption))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var lines []string
		writing := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if lines = append(lines, sc.Text()); len(lines) == 1 {
					close(writing)
				}
			}
		}()
		// Once it has written (starting takes a while on a busy machine),
		// let it write on for a random while, then pull the plug.
		select {
		case <-writing:
		case <-time.After(time.Minute):
			cmd.Process.Kill()
			t.Fatalf("round %d: the writer wrote nothing in a minute: %s", round, stderr.String())
		}
		serving := make(chan error, 1)
		stop := make(chan struct{})
		go func() {
			for {
				select {
				case <-stop:
					serving <- nil
					return
				default:
				}
				if _, err := other.ListTokens(ctx, acc.ID, TokenFilter{Limit: 10}); err != nil {
					serving <- err
					return
				}
			}
		}()
		time.Sleep(time.Duration(30+rand.IntN(150)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		// A moment after the kill, the other handle still serves.
		time.Sleep(20 * time.Millisecond)
		close(stop)
		if err := <-serving; err != nil {
			t.Fatalf("round %d: the other handle failed while the writer was killed: %v", round, err)
		}
		wg.Wait()
		// Killed, the writer exits with an error that says just that.
		_ = cmd.Wait()
		if strings.TrimSpace(stderr.String()) != "" {
			t.Fatalf("round %d: the writer failed: %s", round, stderr.String())
		}
		for _, l := range lines {
			action, id, ok := strings.Cut(l, " ")
			switch {
			case ok && action == "created":
				created[id] = true
			case ok && action == "deleted":
				deleted[id] = true
			}
		}

		s, err := Open(path, keys)
		if err != nil {
			t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
		}
		if !s.d.postgres {
			// PostgreSQL's server survives its client; a SQLite file
			// must survive its only writer.
			var check string
			if err := s.read.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
				t.Fatalf("round %d: integrity_check = %q, %v", round, check, err)
			}
		}
		for id := range created {
			var status string
			var digest []byte
			if err := s.read.QueryRow(`SELECT status, secret_digest FROM tokens WHERE id = ?`, id).Scan(&status, &digest); err != nil {
				t.Fatalf("round %d: acknowledged token %s is gone: %v", round, id, err)
			}
			if deleted[id] && (status != string(StatusDeleted) || digest != nil) {
				t.Fatalf("round %d: acknowledged delete of %s came back as %s", round, id, status)
			}
		}
		// Every delete, acknowledged or cut off at its commit, is whole: a
		// tombstone has its one audit event.
		var halfDone int
		if err := s.read.QueryRow(`SELECT COUNT(*) FROM tokens t WHERE t.status = 'deleted' AND
			(SELECT COUNT(*) FROM audit_events e WHERE e.token_id = t.id AND e.action = 'deleted') != 1`).Scan(&halfDone); err != nil || halfDone != 0 {
			t.Fatalf("round %d: %d tombstones without their one delete event (%v)", round, halfDone, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if len(created) < 20 || len(deleted) < 5 {
		t.Fatalf("the writer did too little to prove anything: %d creates, %d deletes", len(created), len(deleted))
	}
	t.Logf("%d acknowledged creates and %d deletes survived %d SIGKILLs", len(created), len(deleted), rounds)
}
