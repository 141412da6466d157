// Command apitokens serves the API-token settings pages and the REST API,
// and administers the database behind them. `apitokens help` lists its
// commands and their flags.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"apitokens/store"
)

const usage = `usage:
  apitokens serve [--addr 127.0.0.1:8080] [--db PATH|URL] [--keys PATH] [--demo] [--trust-proxy[=CIDR,…]]
      [--pprof 127.0.0.1:6060] [--public-url https://tokens.example.com]
      (--trust-proxy alone trusts a proxy on this machine; =CIDR,… names the proxies)
      (--public-url: the address people reach the server at, shown as the API's
      endpoint and trusted as the origin of forms; default http:// and --addr)
  apitokens user create --db PATH|URL [--keys PATH] --account NAME --email EMAIL --name NAME [--role admin|member]
      (reads the password from standard input, one line)
  apitokens token create --db PATH|URL [--keys PATH] --account NAME --name NAME [--module NAME]...
      [--description TEXT] [--by EMAIL]
      (prints the token, with its secret, as JSON)
  apitokens keys rotate --db PATH|URL [--keys PATH]
      (new keys for token secrets and sessions; stop the server first, start it after)
  apitokens seed --db PATH|URL [--keys PATH] --account NAME --tokens N [--by EMAIL]
      (adds N generated tokens, for load tests and trying the pages at scale; prints
      as JSON the secrets of an active token with every module and of a disabled one)

--db is a SQLite file or a postgres:// URL. --keys is the key file, created with fresh
keys if missing; by default it is beside a SQLite database. A PostgreSQL database needs
--keys or the four key variables below, the same for every instance.

Environment: APITOKENS_DB, APITOKENS_KEYS, APITOKENS_ADDR, APITOKENS_DEMO=1, APITOKENS_TRUST_PROXY=CIDR,… (or 1: loopback),
APITOKENS_PUBLIC_URL, APITOKENS_SESSION_AUTH_KEY, APITOKENS_SESSION_ENCRYPTION_KEY, APITOKENS_DIGEST_KEY,
APITOKENS_ENCRYPTION_KEY (32 bytes each, base64; they override the key file's), APITOKENS_PREVIOUS_DIGEST_KEY and
APITOKENS_PREVIOUS_ENCRYPTION_KEY (while rotating keys kept in the environment).
`

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "apitokens:", err)
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprint(os.Stderr, usage)
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError string

func (e usageError) Error() string { return string(e) }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	switch {
	case len(args) >= 1 && args[0] == "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case len(args) >= 2 && args[0] == "user" && args[1] == "create":
		return createUser(ctx, args[2:], stdin, stdout)
	case len(args) >= 2 && args[0] == "token" && args[1] == "create":
		return createToken(ctx, args[2:], stdout)
	case len(args) >= 2 && args[0] == "keys" && args[1] == "rotate":
		return rotateKeys(ctx, args[2:], stdout)
	case len(args) >= 1 && args[0] == "seed":
		return seed(ctx, args[1:], stdout)
	case len(args) >= 1 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help"):
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usageError("unknown command " + strings.Join(args, " "))
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func envBool(name string) bool {
	v := strings.ToLower(os.Getenv(name))
	return v == "1" || v == "true" || v == "yes"
}

func newFlags(name string) (*flag.FlagSet, *dbFlags) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	db := &dbFlags{}
	fs.StringVar(&db.dsn, "db", envOr("APITOKENS_DB", "data/apitokens.db"), "SQLite file or postgres:// URL")
	fs.StringVar(&db.keys, "keys", os.Getenv("APITOKENS_KEYS"), "key file (default: beside a SQLite database)")
	return fs, db
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return usageError(fs.Name() + ": " + err.Error())
	}
	if fs.NArg() > 0 {
		return usageError(fs.Name() + ": unexpected argument " + fs.Arg(0))
	}
	return nil
}

func openStore(db dbFlags) (*store.Store, serverKeys, error) {
	if err := checkDB(db); err != nil {
		return nil, serverKeys{}, err
	}
	keys, err := loadKeys(db)
	if err != nil {
		return nil, keys, err
	}
	st, err := store.Open(db.dsn, keys.tokens)
	if e, ok := errors.AsType[*store.KeyError](err); ok {
		return nil, keys, wrongKeys(db.dsn, keys.file, e)
	}
	return st, keys, err
}

func createUser(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs, db := newFlags("user create")
	account := fs.String("account", "", "account name (created if it does not exist)")
	email := fs.String("email", "", "email address")
	name := fs.String("name", "", "full name")
	role := fs.String("role", string(store.RoleMember), "admin or member")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *account == "" || *email == "" || *name == "" {
		return usageError("user create: --account, --email and --name are required")
	}
	// Refused before the password is typed in vain.
	if err := checkDB(*db); err != nil {
		return err
	}
	password, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && password != "") {
		return errors.New("user create: read the password from standard input: none given")
	}
	password = strings.TrimRight(password, "\r\n")
	st, _, err := openStore(*db)
	if err != nil {
		return err
	}
	defer st.Close()
	acc, err := st.AccountByName(ctx, *account)
	if errors.Is(err, store.ErrNotFound) {
		acc, err = st.CreateAccount(ctx, *account)
	}
	var taken *store.AccountNameTakenError
	if errors.As(err, &taken) {
		return fmt.Errorf("%w; to add the user to it, give --account %q", err, taken.Name)
	}
	if err != nil {
		return err
	}
	u, err := st.CreateUser(ctx, store.NewUser{AccountID: acc.ID, Email: *email, Name: *name, Role: store.Role(*role), Password: password})
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("a user with the email %s exists already", *email)
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(map[string]string{
		"id": u.ID, "account": acc.ID, "email": u.Email, "name": u.Name, "role": string(u.Role),
	})
}

type moduleNames []string

func (m *moduleNames) String() string     { return strings.Join(*m, ",") }
func (m *moduleNames) Set(v string) error { *m = append(*m, v); return nil }

func createToken(ctx context.Context, args []string, stdout io.Writer) error {
	fs, db := newFlags("token create")
	account := fs.String("account", "", "account name")
	name := fs.String("name", "", "token name")
	description := fs.String("description", "", "token description")
	by := fs.String("by", "", "email of the administrator recorded as creator (default: the account's first administrator)")
	var modules moduleNames
	fs.Var(&modules, "module", "module name or key (repeatable)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *account == "" || *name == "" {
		return usageError("token create: --account and --name are required")
	}
	st, acc, creator, err := openAccount(ctx, *db, *account, *by)
	if err != nil {
		return err
	}
	defer st.Close()
	all, err := st.Modules(ctx, acc.ID)
	if err != nil {
		return err
	}
	var ids []string
	for _, want := range modules {
		found := false
		for _, m := range all {
			if strings.EqualFold(m.Name, want) || m.Key == want {
				ids, found = append(ids, m.ID), true
			}
		}
		if !found {
			return fmt.Errorf("account %q has no module %q", *account, want)
		}
	}
	t, secret, err := st.CreateToken(ctx, store.NewToken{AccountID: acc.ID, Name: *name, Description: *description, ModuleIDs: ids},
		store.UserActor(creator.ID, "cli"))
	if err != nil {
		return err
	}
	type module struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	out := struct {
		ID      string   `json:"id"`
		Name    string   `json:"name"`
		Token   string   `json:"token"`
		Modules []module `json:"modules"`
	}{ID: t.ID, Name: t.Name, Token: secret, Modules: []module{}}
	for _, m := range t.Modules {
		out.Modules = append(out.Modules, module{m.ID, m.Name})
	}
	return json.NewEncoder(stdout).Encode(out)
}

func seed(ctx context.Context, args []string, stdout io.Writer) error {
	fs, db := newFlags("seed")
	account := fs.String("account", "", "account name")
	count := fs.Int("tokens", 0, "how many tokens to add")
	by := fs.String("by", "", "email of the administrator recorded as creator (default: the account's first administrator)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *account == "" || *count <= 0 {
		return usageError("seed: --account and a positive --tokens are required")
	}
	st, acc, creator, err := openAccount(ctx, *db, *account, *by)
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	res, err := st.SeedTokens(ctx, store.SeedOptions{AccountID: acc.ID, CreatedBy: creator.ID, Count: *count})
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%s is not an administrator of %q", creator.Email, *account)
	}
	var invalid *store.ValidationError
	if errors.As(err, &invalid) {
		return fmt.Errorf("seed: %s", invalid.Error())
	}
	if err != nil {
		return err
	}
	type token struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	return json.NewEncoder(stdout).Encode(struct {
		Account  string  `json:"account"`
		Created  int     `json:"created"`
		Seconds  float64 `json:"seconds"`
		Active   token   `json:"active"`
		Disabled token   `json:"disabled"`
	}{acc.ID, res.Created, time.Since(start).Seconds(),
		token{res.Active.ID, res.Active.Secret}, token{res.Disabled.ID, res.Disabled.Secret}})
}

// openAccount opens the store, and finds in it the account by name and the
// administrator recorded as creator: the one with the email by, or else the
// account's first.
func openAccount(ctx context.Context, db dbFlags, account, by string) (*store.Store, store.Account, store.User, error) {
	st, _, err := openStore(db)
	if err != nil {
		return nil, store.Account{}, store.User{}, err
	}
	acc, creator, err := accountAndCreator(ctx, st, account, by)
	if err != nil {
		st.Close()
		return nil, acc, creator, err
	}
	return st, acc, creator, nil
}

func accountAndCreator(ctx context.Context, st *store.Store, account, by string) (store.Account, store.User, error) {
	acc, err := st.AccountByName(ctx, account)
	if errors.Is(err, store.ErrNotFound) {
		return acc, store.User{}, fmt.Errorf("no account named %q", account)
	}
	if err != nil {
		return acc, store.User{}, err
	}
	creator, err := st.FirstAdmin(ctx, acc.ID)
	if by != "" {
		creator, err = st.UserByEmail(ctx, by)
		if err == nil && (creator.AccountID != acc.ID || !creator.IsAdmin()) {
			err = store.ErrNotFound
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return acc, creator, fmt.Errorf("account %q has no such administrator; create one with 'apitokens user create --role admin'", account)
	}
	return acc, creator, err
}
