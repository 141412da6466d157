package store

import (
	"context"
	"errors"
	"time"
)

// Demo is the sign-in of the demo data.
type Demo struct {
	AccountName string
	AdminEmail  string
	MemberEmail string
	Password    string
}

// DemoAccount describes the demo data SeedDemo creates. The password opens
// only the demo account, in a database made for trying the product out.
var DemoAccount = Demo{
	AccountName: "Acme Marketplace",
	AdminEmail:  "admin@example.com",
	MemberEmail: "member@example.com",
	Password:    "demo-password",
}

// SeedDemo fills an empty database with the demo account: two
// administrators, a plain member, the default modules, and a dozen tokens in
// different states, with varied modules, creators, dates and last access. It
// does nothing (and returns false) when the demo account exists already.
func (s *Store) SeedDemo(ctx context.Context) (seeded bool, err error) {
	if _, err := s.AccountByName(ctx, DemoAccount.AccountName); err == nil {
		return false, nil
	} else if !errors.Is(err, ErrNotFound) {
		return false, err
	}
	acc, err := s.CreateAccount(ctx, DemoAccount.AccountName)
	if err != nil {
		return false, err
	}
	people := []NewUser{
		{Email: DemoAccount.AdminEmail, Name: "Alex Morgan", Role: RoleAdmin},
		{Email: "jamie@example.com", Name: "Jamie Chen", Role: RoleAdmin},
		{Email: DemoAccount.MemberEmail, Name: "Sam Rivera", Role: RoleMember},
	}
	var admins []User
	for _, p := range people {
		p.AccountID, p.Password = acc.ID, DemoAccount.Password
		u, err := s.CreateUser(ctx, p)
		if err != nil {
			return false, err
		}
		if u.IsAdmin() {
			admins = append(admins, u)
		}
	}
	mods, err := s.Modules(ctx, acc.ID)
	if err != nil {
		return false, err
	}
	byName := map[string]string{}
	for _, m := range mods {
		byName[m.Name] = m.ID
	}
	day := 24 * time.Hour
	tokens := []struct {
		name, description string
		modules           []string
		age, lastUse      time.Duration // lastUse 0: never used
		disabled          bool
	}{
		{"Storefront sync", "Pushes catalog changes to the public storefront every night.", []string{"Catalog"}, 210 * day, 2 * time.Hour, false},
		{"ERP integration", "Two-way order and invoice sync with the ERP.", []string{"Billing", "Procurement"}, 180 * day, 15 * time.Minute, false},
		{"Billing export", "Monthly invoice export for finance.", []string{"Billing"}, 150 * day, 26 * day, false},
		{"CI pipeline", "Deploys price lists from the release pipeline.", []string{"Catalog", "Procurement"}, 120 * day, 3 * day, false},
		{"Legacy importer", "Old product importer, kept until the migration is signed off.", []string{"Catalog"}, 400 * day, 95 * day, true},
		{"User provisioning", "Creates and removes users from the HR system.", []string{"Access management"}, 90 * day, 40 * time.Minute, false},
		{"Partner portal", "", []string{"Catalog", "Billing", "Procurement"}, 75 * day, 9 * day, false},
		{"Procurement bot", "Raises purchase orders when stock runs low.", []string{"Procurement"}, 60 * day, 0, true},
		{"Analytics warehouse", "Read-only feed for the data warehouse.", []string{"Billing", "Catalog"}, 45 * day, 6 * time.Hour, false},
		{"Support tooling", "Lets the support desk look up subscriptions.", []string{"Access management", "Billing"}, 30 * day, 0, false},
		{"Staging smoke tests", "", []string{"Catalog"}, 12 * day, 20 * time.Hour, true},
		{"Token automation", "Rotates the other tokens on schedule.", []string{"Access management", "Billing", "Catalog", "Procurement"}, 3 * day, 5 * time.Minute, false},
	}
	now := s.Now()
	for i, d := range tokens {
		var ids []string
		for _, m := range d.modules {
			ids = append(ids, byName[m])
		}
		by := Actor{UserID: admins[i%len(admins)].ID}
		t, _, err := s.CreateToken(ctx, NewToken{AccountID: acc.ID, Name: d.name, Description: d.description, ModuleIDs: ids}, by)
		if err != nil {
			return false, err
		}
		created := now.Add(-d.age)
		var lastAccess time.Time
		if d.lastUse > 0 {
			lastAccess = now.Add(-d.lastUse)
		}
		// Back-date the token and its creation event so the list looks lived in.
		if _, err := s.write.ExecContext(ctx, `UPDATE tokens SET created_at = ?, updated_at = ?, last_access_at = ? WHERE id = ?`,
			created.UnixMilli(), created.UnixMilli(), nullMillis(lastAccess), t.ID); err != nil {
			return false, err
		}
		if _, err := s.write.ExecContext(ctx, `UPDATE audit_events SET at = ? WHERE token_id = ?`, created.UnixMilli(), t.ID); err != nil {
			return false, err
		}
		if d.disabled {
			if _, _, err := s.SetTokenStatus(ctx, acc.ID, t.ID, StatusDisabled, by); err != nil {
				return false, err
			}
		}
	}
	return true, nil
}
