package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/draw"
	"golang.org/x/sync/semaphore"
)

// Limits on a token's logo.
const (
	MaxLogoBytes  = 5 << 20 // what may be uploaded, as the platform allows
	MaxLogoPixels = 4096    // the longest side of an upload
	LogoSize      = 128     // the longest side of what is stored

	// maxStoredLogoBytes bounds what NormalizeLogo makes: a 128×128 PNG of
	// pure noise is about 66 KB.
	maxStoredLogoBytes = 128 << 10
	// maxDecodeBytes is the memory one upload may take to decode and scale,
	// far more than a 128-pixel logo needs: a 2048×2048 PNG of 8 bits a
	// channel fits, and a 6-megapixel JPEG; a 16-bit PNG of 2048×2048 does
	// not. decodeBudget is what all the decodes running at once may take:
	// two of the largest, more of the usual small ones.
	maxDecodeBytes = 32 << 20
	decodeBudget   = 64 << 20
)

// Messages about a logo, said the same wherever a logo is taken; exported
// so that the forms can say them before a file is sent, in the same words.
var (
	// MaxLogoSize is MaxLogoBytes as people read it.
	MaxLogoSize     = fmt.Sprintf("%d MB", MaxLogoBytes>>20)
	MsgLogoTooLarge = fmt.Sprintf("The logo must be at most %s.", MaxLogoSize)
	MsgLogoNotImage = "The logo must be a PNG or JPEG image."
)

// decodes holds the memory of the decodes under way, so that many uploads
// at once wait for each other rather than take the server's memory.
var decodes = semaphore.NewWeighted(decodeBudget)

// NormalizeLogo checks an uploaded logo and returns the image to store: a
// PNG of at most LogoSize pixels a side, decoded and encoded again so that
// nothing but pixels survives (no metadata, no script, no polyglot file).
// Only PNG and JPEG are accepted; SVG can carry script and is refused. A
// decode that waits for memory stops waiting when ctx is done, with its
// error: the request it serves has gone.
func NormalizeLogo(ctx context.Context, data []byte) ([]byte, error) {
	if len(data) > MaxLogoBytes {
		return nil, invalidLogo(MsgLogoTooLarge)
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
	w, h := logoBounds(cfg.Width, cfg.Height)
	cost := decodeCost(data, cfg, w)
	if cost > maxDecodeBytes {
		return nil, invalidLogo("The logo has too many pixels to be read. Save it smaller, for example 1024×1024 pixels, and try again.")
	}
	if err := decodes.Acquire(ctx, cost); err != nil {
		return nil, err
	}
	defer decodes.Release(cost)
	img, err := decode(data)
	if err != nil {
		return nil, invalidLogo("The logo could not be read as an image.")
	}
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(out, out.Bounds(), img, img.Bounds(), draw.Src, nil)
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, out); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// logoBounds is the size a w×h upload is stored at: LogoSize on its longest
// side at most, the same shape.
func logoBounds(w, h int) (int, int) {
	if w <= LogoSize && h <= LogoSize {
		return w, h
	}
	if w >= h {
		return LogoSize, max(1, h*LogoSize/w)
	}
	return max(1, w*LogoSize/h), LogoSize
}

// decodeCost is the memory, in bytes, that decoding the upload and scaling
// it to outWidth pixels wide takes at most: the decoded pixels (twice
// over for an interlaced PNG, whose passes are decoded apart), and the
// scaler's buffer of four float64s per output column and input row.
func decodeCost(data []byte, cfg image.Config, outWidth int) int64 {
	scaler := int64(outWidth) * int64(cfg.Height) * 32
	if bytes.HasPrefix(data, []byte("\xff\xd8\xff")) {
		return jpegCost(data, cfg) + scaler
	}
	var perPixel int64
	switch cfg.ColorModel {
	case color.GrayModel, color.AlphaModel:
		perPixel = 1
	case color.Gray16Model, color.Alpha16Model:
		perPixel = 2
	case color.RGBAModel, color.NRGBAModel:
		perPixel = 4
	default:
		if _, ok := cfg.ColorModel.(color.Palette); ok {
			perPixel = 1
		} else {
			perPixel = 8 // 16 bits a channel
		}
	}
	pixels := int64(cfg.Width) * int64(cfg.Height) * perPixel
	// In a PNG the interlace method is the last byte of the header chunk.
	if len(data) > 28 && data[0] == 0x89 && data[28] == 1 {
		pixels *= 2
	}
	return pixels + scaler
}

// jpegCost is the memory that decoding a JPEG takes, as image/jpeg
// allocates it, read from its frame header: each component's plane,
// rounded up to whole blocks and as subsampled as the file says, a
// progressive file's coefficients besides (four bytes a sample, kept
// until the last scan), and the RGBA or CMYK image an RGB or four-channel
// file is turned into. A header it cannot read costs what the worst file
// of that size could.
func jpegCost(data []byte, cfg image.Config) int64 {
	pixels := int64(cfg.Width) * int64(cfg.Height)
	f, ok := readJPEGFrame(data)
	if !ok || len(f.comps) == 0 {
		return pixels * 4 * 5 // four planes, and their coefficients
	}
	h0, v0 := f.comps[0].h, f.comps[0].v
	mxx := (int64(cfg.Width) + 8*h0 - 1) / (8 * h0)
	myy := (int64(cfg.Height) + 8*v0 - 1) / (8 * v0)
	var cost int64
	for _, c := range f.comps {
		samples := mxx * myy * c.h * c.v * 64
		cost += samples
		if f.progressive {
			cost += samples * 4
		}
	}
	if len(f.comps) == 4 || len(f.comps) == 3 && f.rgb {
		cost += pixels * 4
	}
	return cost
}

// jpegFrame is what a JPEG's frame header says of its components.
type jpegFrame struct {
	progressive bool
	rgb         bool // stored as RGB, not YCbCr: decoded into an RGBA image
	comps       []struct{ h, v int64 }
}

// readJPEGFrame reads the segments of a JPEG up to its first scan (SOS):
// the frame header (SOFn), and the JFIF and Adobe segments that tell
// image/jpeg whether three components are RGB.
func readJPEGFrame(data []byte) (jpegFrame, bool) {
	var f jpegFrame
	var ids []byte
	jfif, adobe, adobeRGB := false, false, false
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xff {
			break
		}
		marker := data[i+1]
		if marker == 0xff { // fill byte
			i++
			continue
		}
		if marker == 0xda { // the first scan: the header is over
			break
		}
		n := int(data[i+2])<<8 | int(data[i+3])
		if n < 2 {
			break
		}
		seg := data[i+4 : min(len(data), i+2+n)]
		switch {
		case marker == 0xe0 && len(seg) >= 5 && string(seg[:5]) == "JFIF\x00":
			jfif = true
		case marker == 0xee && len(seg) >= 12 && string(seg[:5]) == "Adobe":
			adobe, adobeRGB = true, seg[11] == 0
		case marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc && f.comps == nil:
			if len(seg) < 6 || len(seg) < 6+3*int(seg[5]) {
				return f, false
			}
			f.progressive = marker == 0xc2 || marker == 0xc6 || marker == 0xca || marker == 0xce
			for c := range int(seg[5]) {
				hv := seg[6+3*c+1]
				h, v := int64(hv>>4), int64(hv&0x0f)
				if h == 0 || v == 0 {
					return f, false
				}
				ids = append(ids, seg[6+3*c])
				f.comps = append(f.comps, struct{ h, v int64 }{h, v})
			}
		}
		i += 2 + n
	}
	// As image/jpeg decides it (decoder.isRGB).
	f.rgb = len(ids) == 3 && !jfif && (adobe && adobeRGB || !adobe && string(ids) == "RGB")
	return f, f.comps != nil
}

// checkStoredLogo refuses what CreateToken or UpdateToken is given as a logo when
// NormalizeLogo cannot have made it.
func checkStoredLogo(data []byte) error {
	if len(data) > maxStoredLogoBytes {
		return invalidLogo("The logo could not be read; choose it again.")
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
