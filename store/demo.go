package store

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
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

// demoToken is a token of the demo account.
type demoToken struct {
	name, description string
	modules           []string      // by name
	age, lastUse      time.Duration // lastUse 0: never used
	disabled          bool
	expires           time.Duration // from now, may be past; 0: never
	logo              color.RGBA    // zero: no logo
}

// demoDay is a day, for the ages of demo tokens.
const demoDay = 24 * time.Hour

// demoTokens are the demo account's tokens, in different states, with varied
// modules, dates and last access.
var demoTokens = []demoToken{
	{"Storefront sync", "Pushes catalog changes to the public storefront every night.", []string{"Catalog"}, 210 * demoDay, 2 * time.Hour, false, 0, color.RGBA{R: 0x25, G: 0x63, B: 0xeb, A: 0xff}},
	{"ERP integration", "Two-way order and invoice sync with the ERP.", []string{"Billing", "Procurement"}, 180 * demoDay, 15 * time.Minute, false, 0, color.RGBA{R: 0x0f, G: 0x76, B: 0x6e, A: 0xff}},
	{"Billing export", "Monthly invoice export for finance.", []string{"Billing"}, 150 * demoDay, 26 * demoDay, false, 0, color.RGBA{}},
	{"CI pipeline", "Deploys price lists from the release pipeline.", []string{"Catalog", "Procurement"}, 120 * demoDay, 3 * demoDay, false, 60 * demoDay, color.RGBA{R: 0x7c, G: 0x3a, B: 0xed, A: 0xff}},
	{"Legacy importer", "Old product importer, kept until the migration is signed off.", []string{"Catalog"}, 400 * demoDay, 95 * demoDay, true, 0, color.RGBA{}},
	{"User provisioning", "Creates and removes users from the HR system.", []string{"Access management"}, 90 * demoDay, 40 * time.Minute, false, 0, color.RGBA{}},
	{"Partner portal", "", []string{"Catalog", "Billing", "Procurement"}, 75 * demoDay, 9 * demoDay, false, 0, color.RGBA{}},
	{"Procurement bot", "Raises purchase orders when stock runs low.", []string{"Procurement"}, 60 * demoDay, 0, true, 0, color.RGBA{}},
	{"Analytics warehouse", "Read-only feed for the data warehouse.", []string{"Billing", "Catalog"}, 45 * demoDay, 6 * time.Hour, false, 0, color.RGBA{R: 0xea, G: 0x58, B: 0x0c, A: 0xff}},
	{"Support tooling", "Lets the support desk look up subscriptions.", []string{"Access management", "Billing"}, 30 * demoDay, 0, false, 0, color.RGBA{}},
	{"Staging smoke tests", "", []string{"Catalog"}, 12 * demoDay, 20 * time.Hour, true, 0, color.RGBA{}},
	{"Quarterly audit", "Read access for the external auditors; expired after the audit.", []string{"Billing"}, 100 * demoDay, 12 * demoDay, false, -10 * demoDay, color.RGBA{}},
	{"Token automation", "Rotates the other tokens on schedule.", []string{"Access management", "Billing", "Catalog", "Procurement"}, 3 * demoDay, 5 * time.Minute, false, 0, color.RGBA{}},
}

// demoAddresses are the allowed addresses of the demo tokens bound to
// their servers, by name.
var demoAddresses = map[string][]string{
	"ERP integration":   {"203.0.113.0/24", "2001:db8:42::/48"},
	"User provisioning": {"198.51.100.23"},
}

// demoRotated is the demo token whose secret is rotated as the demo is
// made, its previous secret working for a day more.
const demoRotated = "Token automation"

// SeedDemo fills an empty database with the demo account: two
// administrators, a plain member, the default modules, and thirteen tokens in
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
	admins, err := s.createDemoUsers(ctx, acc)
	if err != nil {
		return false, err
	}
	mods, err := s.Modules(ctx, acc.ID)
	if err != nil {
		return false, err
	}
	byName := map[string]string{}
	for _, m := range mods {
		byName[m.Name] = m.ID
	}
	now := s.Now()
	for i, d := range demoTokens {
		by := UserActor(admins[i%len(admins)].ID, "")
		if err := s.createDemoToken(ctx, acc, d, byName, by, now); err != nil {
			return false, err
		}
	}
	return true, nil
}

// createDemoUsers adds the demo account's people and returns its
// administrators, who create its tokens in turn.
func (s *Store) createDemoUsers(ctx context.Context, acc Account) ([]User, error) {
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
			return nil, err
		}
		if u.IsAdmin() {
			admins = append(admins, u)
		}
	}
	return admins, nil
}

// createDemoToken creates d as CreateToken does, then dates it back.
func (s *Store) createDemoToken(ctx context.Context, acc Account, d demoToken, moduleIDs map[string]string, by Actor, now time.Time) error {
	var ids []string
	for _, m := range d.modules {
		ids = append(ids, moduleIDs[m])
	}
	var logo []byte
	if d.logo.A != 0 {
		var err error
		if logo, err = demoLogo(ctx, d.logo); err != nil {
			return err
		}
	}
	t, _, err := s.CreateToken(ctx, NewToken{AccountID: acc.ID, Name: d.name, Description: d.description, ModuleIDs: ids, Logo: logo,
		AllowedAddresses: demoAddresses[d.name]}, by)
	if err != nil {
		return err
	}
	created := now.Add(-d.age)
	var lastAccess time.Time
	if d.lastUse > 0 {
		lastAccess = now.Add(-d.lastUse)
		if err := s.RecordUsage(ctx, demoUsage(t.ID, d, created, lastAccess, now)); err != nil {
			return err
		}
	}
	var expires time.Time
	if d.expires != 0 {
		expires = now.Add(d.expires)
	}
	// Back-date the token and its creation event so the list looks lived
	// in; an expiry in the past can only be set this way.
	if _, err := s.write.ExecContext(ctx, `UPDATE tokens SET created_at = ?, updated_at = ?, last_access_at = ?, expires_at = ? WHERE id = ?`,
		created.UnixMilli(), created.UnixMilli(), nullMillis(lastAccess), nullMillis(expires), t.ID); err != nil {
		return err
	}
	if _, err := s.write.ExecContext(ctx, `UPDATE audit_events SET at = ? WHERE token_id = ?`, created.UnixMilli(), t.ID); err != nil {
		return err
	}
	if d.disabled {
		if _, _, err := s.SetTokenStatus(ctx, acc.ID, t.ID, StatusDisabled, by); err != nil {
			return err
		}
	}
	if d.name == demoRotated {
		if _, _, err := s.RotateSecret(ctx, acc.ID, t.ID, Rotation{Grace: DefaultGracePeriod}, by.WithReason("Scheduled rotation")); err != nil {
			return err
		}
	}
	return nil
}

// demoUsage is a month of calls for a demo token used until last: more in
// working hours than at night, fewer at weekends, from an address and a
// client of its own. A disabled token's callers keep trying, and are
// refused, from then on.
func demoUsage(id string, d demoToken, created, last, now time.Time) UsageBatch {
	b := UsageBatch{Counts: map[UsageKey]UsageCount{}, Last: map[string]Caller{}}
	clients := []string{"python-httpx/0.28", "Go-http-client/2.0", "curl/8.5.0", "okhttp/4.12.0", "axios/1.7.2"}
	base := int64(2 + len(d.name)%7)
	from := now.Add(-UsageDays * demoDay).Truncate(time.Hour)
	if created.After(from) {
		from = created.Truncate(time.Hour)
	}
	for at := from; !at.After(last); at = at.Add(time.Hour) {
		n := base
		if h := at.Hour(); h >= 8 && h < 18 {
			n *= 4
		}
		if wd := at.Weekday(); wd == time.Saturday || wd == time.Sunday {
			n /= 3
		}
		// Busier some days than others.
		n += n * int64(at.YearDay()*7%5) / 4
		b.Counts[UsageKey{id, UsageHour(at)}] = UsageCount{Calls: n}
	}
	if d.disabled {
		for at := last.Add(time.Hour); at.Before(now); at = at.Add(time.Hour) {
			b.Counts[UsageKey{id, UsageHour(at)}] = UsageCount{Refused: 2}
		}
	}
	b.Last[id] = Caller{At: last, Address: "203.0.113." + string(rune('1'+len(d.name)%9)), UserAgent: clients[len(d.name)%len(clients)]}
	return b
}

// demoLogo draws a small rounded tile in one colour, with a lighter band, as
// a stand-in for a company's logo.
func demoLogo(ctx context.Context, c color.RGBA) ([]byte, error) {
	const size = 64
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	light := color.RGBA{R: c.R/2 + 128, G: c.G/2 + 128, B: c.B/2 + 128, A: 0xff}
	for y := range size {
		for x := range size {
			// Cut the corners: a tile, not a square.
			dx, dy := min(x, size-1-x), min(y, size-1-y)
			if dx < 10 && dy < 10 && (10-dx)*(10-dx)+(10-dy)*(10-dy) > 100 {
				continue
			}
			if y > 38 && y < 48 {
				img.Set(x, y, light)
			} else {
				img.Set(x, y, c)
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return NormalizeLogo(ctx, buf.Bytes())
}
