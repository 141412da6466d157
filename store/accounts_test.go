package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestAuthenticate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	cases := []struct {
		name, email, password string
		ok                    bool
	}{
		{"OK", "admin@test.example", "correct horse", true},
		{"OKEmailCaseAndSpaces", "  ADMIN@test.example ", "correct horse", true},
		{"ErrWrongPassword", "admin@test.example", "wrong horse", false},
		{"ErrUnknownEmail", "nobody@test.example", "correct horse", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, err := f.s.Authenticate(ctx, tc.email, tc.password)
			if tc.ok && (err != nil || u.ID != f.admin.ID) {
				t.Fatalf("Authenticate = %v, %v", u.ID, err)
			}
			if !tc.ok && !errors.Is(err, ErrInvalidCredentials) {
				t.Fatalf("Authenticate = %v, want ErrInvalidCredentials", err)
			}
		})
	}
	t.Run("ErrDuplicateEmail", func(t *testing.T) {
		_, err := f.s.CreateUser(ctx, NewUser{AccountID: f.account.ID, Email: "Admin@Test.example", Name: "Again", Role: RoleMember, Password: "long enough"})
		if !errors.Is(err, ErrConflict) {
			t.Fatalf("CreateUser with a taken email = %v, want ErrConflict", err)
		}
	})
}

func TestUsers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.s.CreateUser(ctx, NewUser{AccountID: f.account.ID, Email: "bea@test.example", Name: "Bea Member", Role: RoleMember, Password: "correct horse"}); err != nil {
		t.Fatal(err)
	}
	other := f.createAccount(t, "Other")
	if _, err := f.s.CreateUser(ctx, NewUser{AccountID: other.ID, Email: "x@other.example", Name: "Xavier Other", Role: RoleAdmin, Password: "correct horse"}); err != nil {
		t.Fatal(err)
	}
	users, err := f.s.Users(ctx, f.account.ID)
	if err != nil || len(users) != 2 || users[0].Name != "Ada Admin" || users[1].Name != "Bea Member" {
		t.Fatalf("Users = %+v, %v; want the account's two, by name", users, err)
	}
}

// TestAccountNamesIgnoreCase: a second account whose name differs from one
// only in case (or in surrounding spaces) is refused, naming the account
// that has it, and the database refuses it too.
func TestAccountNamesIgnoreCase(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	beta := f.createAccount(t, "Beta Corp")
	before := f.queryInt(t, `SELECT COUNT(*) FROM accounts`)
	for _, name := range []string{"Beta Corp", "beta corp", "  BETA CORP ", "bEtA cOrP"} {
		t.Run("Err"+name, func(t *testing.T) {
			_, err := f.s.CreateAccount(ctx, name)
			if !errors.Is(err, ErrConflict) || !strings.Contains(fmt.Sprint(err), `an account named "Beta Corp" exists already`) {
				t.Fatalf("CreateAccount(%q) = %v, want ErrConflict naming Beta Corp", name, err)
			}
			if n := f.queryInt(t, `SELECT COUNT(*) FROM accounts`); n != before {
				t.Fatalf("%d accounts, had %d", n, before)
			}
		})
	}
	t.Run("ErrInsertedDirectly", func(t *testing.T) {
		if _, err := f.s.write.ExecContext(ctx, `INSERT INTO accounts (id, name, created_at) VALUES ('ACC-0000-0099', 'BETA corp', 1)`); err == nil {
			t.Fatal("the database took a second Beta Corp")
		}
	})
	t.Run("OtherNamesOK", func(t *testing.T) {
		f.createAccount(t, "Beta Corp 2")
		f.createAccount(t, "Beta Corporation")
		if got, err := f.s.AccountByName(ctx, "Beta Corp"); err != nil || got.ID != beta.ID {
			t.Fatalf("AccountByName = %+v, %v", got, err)
		}
	})
}

func TestSetHiddenColumns(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		if err := f.s.SetHiddenColumns(ctx, f.admin.ID, []string{"modules", "status"}); err != nil {
			t.Fatal(err)
		}
		u, err := f.s.UserByEmail(ctx, f.admin.Email)
		if err != nil || strings.Join(u.HiddenColumns, " ") != "modules status" {
			t.Fatalf("HiddenColumns = %q, %v", u.HiddenColumns, err)
		}
		if err := f.s.SetHiddenColumns(ctx, f.admin.ID, nil); err != nil {
			t.Fatal(err)
		}
		if u, _ := f.s.UserByEmail(ctx, f.admin.Email); len(u.HiddenColumns) != 0 {
			t.Fatalf("after showing all, HiddenColumns = %q", u.HiddenColumns)
		}
	})
	t.Run("ErrValidation", func(t *testing.T) {
		for _, keys := range [][]string{{"a,b"}, {""}, {strings.Repeat("x", 33)}, slices.Repeat([]string{"x"}, 21)} {
			if _, ok := errors.AsType[*ValidationError](f.s.SetHiddenColumns(ctx, f.admin.ID, keys)); !ok {
				t.Errorf("%q: want a ValidationError", keys)
			}
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		if err := f.s.SetHiddenColumns(ctx, "USR-0000-0000", nil); !errors.Is(err, ErrNotFound) {
			t.Errorf("err = %v", err)
		}
	})
}
