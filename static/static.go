// Package static embeds the stylesheet, scripts and icons, so the binary
// serves them itself: no CDN, no download at run time.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
)

// Files holds the assets, served under /static/.
//
//go:embed app.css *.js favicon.svg
var Files embed.FS

// Versioned returns the URL of an asset with a hash of its content, so that a
// browser can cache it for good and still see a new release at once.
func Versioned(name string) string {
	b, err := Files.ReadFile(name)
	if err != nil {
		panic("static: no asset " + name)
	}
	sum := sha256.Sum256(b)
	return "/static/" + name + "?v=" + hex.EncodeToString(sum[:6])
}
