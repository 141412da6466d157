package web

import (
	"compress/gzip"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// compressPages gzips pages, stylesheet and scripts for browsers that
// accept it; the list's HTML shrinks about tenfold. The route table puts it
// in the chains of those routes, not of the logo's (PNG is compressed
// already). Left alone: answers under a kilobyte (gzip's own overhead would
// eat the gain) and byte ranges (their offsets are in the uncompressed
// file). Pages carry a CSRF token and may echo what was
// typed into the search; pages mask the token afresh on every answer
// (maskCSRF), so the compressed length tells an onlooker nothing of it.
var compressPages = middleware.GzipWithConfig(middleware.GzipConfig{
	Level:     gzip.DefaultCompression,
	MinLength: 1024,
	Skipper:   func(c echo.Context) bool { return c.Request().Header.Get("Range") != "" },
})
