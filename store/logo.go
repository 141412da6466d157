package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/draw"
)

// Limits on a token's logo.
const (
	MaxLogoBytes  = 256 << 10 // what may be uploaded
	MaxLogoPixels = 2048      // the longest side of an upload
	LogoSize      = 128       // the longest side of what is stored
)

// Messages about a logo, exported so that the forms can say them before a
// file is sent, in the same words.
var (
	MsgLogoTooLarge = fmt.Sprintf("The logo must be at most %d KB.", MaxLogoBytes>>10)
	MsgLogoNotImage = "The logo must be a PNG or JPEG image."
)

// NormalizeLogo checks an uploaded logo and returns the image to store: a
// PNG of at most LogoSize pixels a side, decoded and encoded again so that
// nothing but pixels survives (no metadata, no script, no polyglot file).
// Only PNG and JPEG are accepted; SVG can carry script and is refused.
func NormalizeLogo(data []byte) ([]byte, error) {
	if err := checkLogoSize(data); err != nil {
		return nil, err
	}
	var decode func([]byte) (image.Image, error)
	var config func([]byte) (image.Config, error)
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		decode = func(b []byte) (image.Image, error) { return png.Decode(bytes.NewReader(b)) }
		config = func(b []byte) (image.Config, error) { return png.DecodeConfig(bytes.NewReader(b)) }
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		decode = func(b []byte) (image.Image, error) { return jpeg.Decode(bytes.NewReader(b)) }
		config = func(b []byte) (image.Config, error) { return jpeg.DecodeConfig(bytes.NewReader(b)) }
	default:
		return nil, invalidLogo(MsgLogoNotImage)
	}
	// The header is read first so that a small file claiming a huge image
	// is refused before any pixel memory is allocated.
	cfg, err := config(data)
	if err != nil {
		return nil, invalidLogo("The logo could not be read as an image.")
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > MaxLogoPixels || cfg.Height > MaxLogoPixels {
		return nil, invalidLogo(fmt.Sprintf("The logo must be at most %d×%d pixels.", MaxLogoPixels, MaxLogoPixels))
	}
	img, err := decode(data)
	if err != nil {
		return nil, invalidLogo("The logo could not be read as an image.")
	}
	w, h := cfg.Width, cfg.Height
	if w > LogoSize || h > LogoSize {
		if w >= h {
			w, h = LogoSize, max(1, h*LogoSize/w)
		} else {
			w, h = max(1, w*LogoSize/h), LogoSize
		}
	}
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(out, out.Bounds(), img, img.Bounds(), draw.Src, nil)
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, out); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// checkLogoSize refuses a logo over MaxLogoBytes: an upload before it is
// read, and what CreateToken is given, which NormalizeLogo should have made.
func checkLogoSize(data []byte) error {
	if len(data) > MaxLogoBytes {
		return invalidLogo(MsgLogoTooLarge)
	}
	return nil
}

// invalidLogo is a ValidationError on the logo.
func invalidLogo(msg string) error {
	return &ValidationError{Fields: map[string]string{"logo": msg}}
}

// TokenLogo returns a token's logo, a PNG, or nil when the token has none.
// A deleted token and another account's token are ErrNotFound.
func (s *Store) TokenLogo(ctx context.Context, accountID, id string) ([]byte, error) {
	var logo []byte
	err := s.read.QueryRowContext(ctx, `SELECT t.logo FROM tokens t WHERE `+liveToken, id, accountID).Scan(&logo)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return logo, err
}
