package store

import (
	"context"
	"errors"
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
