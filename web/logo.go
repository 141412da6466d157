package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"strings"

	"github.com/labstack/echo/v4"

	"apitokens/store"
	"apitokens/templates"
)

// logoUnreadable is the message for a logo that cannot be taken.
const logoUnreadable = "The logo could not be read; choose it again."

// newLogoKey derives, from the session signing key, the key that tags the
// logo the wizard carries from step to step.
func newLogoKey(sessionAuthKey []byte) []byte {
	m := hmac.New(sha256.New, sessionAuthKey)
	m.Write([]byte("apitokens carried logo"))
	return m.Sum(nil)
}

// logoTag is the tag of a logo this server normalised (base64 of its PNG):
// the copy that comes back from the browser with it is taken as it is,
// without decoding it again.
func (s *Server) logoTag(b64 string) string {
	m := hmac.New(sha256.New, s.logoKey)
	m.Write([]byte(b64))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// readLogo takes the logo from a new upload, normalising it, or else the
// one carried from an earlier step, which must bear this server's tag; the
// logo it takes is tagged to be carried on.
func (s *Server) readLogo(c echo.Context, f *templates.TokenForm) {
	r := c.Request()
	if r.MultipartForm != nil {
		if files := r.MultipartForm.File["logo"]; len(files) > 0 && files[0].Size > 0 {
			f.Logo = ""
			file, err := files[0].Open()
			if err != nil {
				f.Errors["logo"] = logoUnreadable
				return
			}
			defer file.Close()
			data, err := io.ReadAll(io.LimitReader(file, store.MaxLogoBytes+1))
			if err != nil {
				f.Errors["logo"] = logoUnreadable
				return
			}
			logo, err := store.NormalizeLogo(c.Request().Context(), data)
			if fields, ok := fieldMessages(err); ok {
				f.Errors["logo"] = fields["logo"]
				return
			}
			if err != nil {
				// Not the file's fault, but it was not read: say so
				// rather than save the token without it.
				f.Errors["logo"] = logoUnreadable
				return
			}
			f.Logo = base64.StdEncoding.EncodeToString(logo)
			f.LogoTag = s.logoTag(f.Logo)
			return
		}
	}
	carried := postValue(c, "logo_data")
	if carried == "" || postValue(c, "logo_remove") != "" {
		return
	}
	b64, tag, _ := strings.Cut(carried, ".")
	if !hmac.Equal([]byte(tag), []byte(s.logoTag(b64))) {
		f.Errors["logo"] = logoUnreadable
		return
	}
	f.Logo, f.LogoTag = b64, tag
}
