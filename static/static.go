// Package static embeds the stylesheet, scripts and icons, so the binary
// serves them itself: no CDN, no download at run time.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
)

// Files holds the assets, served under /static/.
//
//go:embed app.css *.js favicon.svg
var Files embed.FS

// versions holds the hash of each asset's content, by name.
var versions = func() map[string]string {
	out := map[string]string{}
	names, err := fs.Glob(Files, "*")
	if err != nil {
		panic(err)
	}
	for _, name := range names {
		b, err := Files.ReadFile(name)
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(b)
		out[name] = hex.EncodeToString(sum[:6])
	}
	return out
}()

// Versioned returns the URL of an asset with a hash of its content, so that a
// browser can cache it for good and still see a new release at once.
func Versioned(name string) string {
	v, ok := versions[name]
	if !ok {
		panic("static: no asset " + name)
	}
	return "/static/" + name + "?v=" + v
}

// IsVersion reports whether v is the hash that Versioned gives the asset
// name: only that URL names content that never changes.
func IsVersion(name, v string) bool {
	want, ok := versions[name]
	return ok && v == want
}
