package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func encodedImage(t *testing.T, format string, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		img.Set(x, x%h, color.RGBA{R: 200, A: 255})
	}
	var buf bytes.Buffer
	var err error
	if format == "png" {
		err = png.Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pngHeader is the start of a PNG that declares a w×h image of the given
// bit depth and colour type: all that is read before its pixels are.
func pngHeader(w, h uint32, depth, colorType byte) []byte {
	ihdr := binary.BigEndian.AppendUint32([]byte("IHDR"), w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, depth, colorType, 0, 0, 0)
	out := binary.BigEndian.AppendUint32([]byte("\x89PNG\r\n\x1a\n"), 13)
	out = append(out, ihdr...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(ihdr))
}

// blankPNG is img as a PNG; blank pixels compress to almost nothing.
func blankPNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestNormalizeLogoConcurrentMemory: many large uploads at once take the
// memory of a few, not of all of them.
func TestNormalizeLogoConcurrentMemory(t *testing.T) {
	// 16 MiB of pixels, 24 MiB to decode and scale: eight at once take
	// 192 MiB, two at a time (the shared 64 MiB) 48 MiB, and a little more
	// for what is allocated while the collector counts.
	upload := blankPNG(t, image.NewNRGBA(image.Rect(0, 0, 2048, 2048)))
	heap := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	base := heap()
	var peak atomic.Uint64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			peak.Store(max(peak.Load(), heap()))
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := NormalizeLogo(t.Context(), upload); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	close(done)
	<-sampled
	grew := (peak.Load() - min(base, peak.Load())) >> 20
	t.Logf("8 uploads at once: live heap grew %d MiB at most", grew)
	if grew > 128 {
		t.Fatalf("8 uploads at once held %d MiB: they should wait for each other", grew)
	}
}

// TestNormalizeLogoGivesUpWithItsRequest: a decode waiting for memory stops
// waiting when its request is done, rather than holding it until memory
// frees.
func TestNormalizeLogoGivesUpWithItsRequest(t *testing.T) {
	// The whole budget is taken, as by decodes under way.
	if err := decodes.Acquire(t.Context(), decodeBudget); err != nil {
		t.Fatal(err)
	}
	defer decodes.Release(decodeBudget)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := NormalizeLogo(ctx, encodedImage(t, "png", 64, 32))
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("NormalizeLogo = %v, want the request's own end", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the decode still waits for memory after its request has ended")
	}
}

func TestNormalizeLogo(t *testing.T) {
	t.Run("PNG", func(t *testing.T) {
		out, err := NormalizeLogo(t.Context(), encodedImage(t, "png", 64, 32))
		if err != nil {
			t.Fatal(err)
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(out))
		if err != nil || format != "png" || cfg.Width != 64 || cfg.Height != 32 {
			t.Fatalf("normalized: %s %dx%d, %v", format, cfg.Width, cfg.Height, err)
		}
	})
	t.Run("JPEGScaledDown", func(t *testing.T) {
		out, err := NormalizeLogo(t.Context(), encodedImage(t, "jpeg", 512, 256))
		if err != nil {
			t.Fatal(err)
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(out))
		if err != nil || format != "png" || cfg.Width != LogoSize || cfg.Height != LogoSize/2 {
			t.Fatalf("normalized: %s %dx%d, %v", format, cfg.Width, cfg.Height, err)
		}
	})
	t.Run("LargeUpload", func(t *testing.T) {
		// A photograph-like PNG of hundreds of KB: uploads up to
		// MaxLogoBytes are taken.
		img := image.NewNRGBA(image.Rect(0, 0, 300, 300))
		rand.New(rand.NewSource(1)).Read(img.Pix)
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		if buf.Len() < 300<<10 || buf.Len() > MaxLogoBytes {
			t.Fatalf("test image is %d bytes", buf.Len())
		}
		out, err := NormalizeLogo(t.Context(), buf.Bytes())
		if err != nil {
			t.Fatalf("a %d KB upload was refused: %v", buf.Len()>>10, err)
		}
		if cfg, _, err := image.DecodeConfig(bytes.NewReader(out)); err != nil || cfg.Width != LogoSize {
			t.Fatalf("normalized: %dx%d, %v", cfg.Width, cfg.Height, err)
		}
	})
	t.Run("MetadataDropped", func(t *testing.T) {
		in := encodedImage(t, "png", 8, 8)
		// A text chunk before IEND is still a valid PNG.
		body := []byte("tEXtComment\x00<script>alert(1)</script>")
		chunk := binary.BigEndian.AppendUint32(nil, uint32(len(body)-4))
		chunk = append(chunk, body...)
		chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(body))
		in = append(in[:len(in)-12:len(in)-12], append(chunk, in[len(in)-12:]...)...)
		if !bytes.Contains(in, []byte("<script>")) {
			t.Fatal("test file lacks its text chunk")
		}
		out, err := NormalizeLogo(t.Context(), in)
		if err != nil {
			t.Fatalf("a valid PNG with a text chunk was refused: %v", err)
		}
		if bytes.Contains(out, []byte("<script>")) {
			t.Fatal("the re-encoded logo kept the text chunk")
		}
	})
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"ErrSVG", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`)},
		{"ErrGIF", []byte("GIF89a\x01\x00\x01\x00")},
		{"ErrEmpty", nil},
		{"ErrTruncatedPNG", encodedImage(t, "png", 64, 64)[:40]},
		{"ErrTooLarge", append(encodedImage(t, "png", 8, 8), make([]byte, MaxLogoBytes)...)},
		{"ErrTooManyPixels", encodedImage(t, "png", MaxLogoPixels+1, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NormalizeLogo(t.Context(), tc.data)
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Fields["logo"] == "" {
				t.Fatalf("err = %v, want a ValidationError on logo", err)
			}
		})
	}
	t.Run("ErrDecodeBomb", func(t *testing.T) {
		// A header declaring 2048×2048 pixels of 16 bits a channel: 32 MiB
		// to decode, from a file of a few KB. It is refused by its header,
		// before any pixel is read.
		_, err := NormalizeLogo(t.Context(), pngHeader(2048, 2048, 16, 6))
		var ve *ValidationError
		if !errors.As(err, &ve) || !strings.Contains(ve.Fields["logo"], "too many pixels") {
			t.Fatalf("err = %v, want the logo refused for its pixels", err)
		}
	})
	t.Run("StoredAndServed", func(t *testing.T) {
		f := newFixture(t)
		ctx := context.Background()
		logo, err := NormalizeLogo(t.Context(), encodedImage(t, "png", 16, 16))
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := f.s.CreateToken(ctx, NewToken{AccountID: f.account.ID, Name: "With logo", Logo: logo}, f.actor)
		if err != nil || !tok.HasLogo {
			t.Fatalf("CreateToken = %v, HasLogo %v", err, tok.HasLogo)
		}
		got, err := f.s.TokenLogo(ctx, f.account.ID, tok.ID)
		if err != nil || !bytes.Equal(got, logo) {
			t.Fatalf("TokenLogo = %d bytes, %v", len(got), err)
		}
		plain, _ := f.createToken(t, "No logo")
		if got, err := f.s.TokenLogo(ctx, f.account.ID, plain.ID); got != nil || err != nil {
			t.Fatalf("TokenLogo(no logo) = %d bytes, %v; want nil, nil", len(got), err)
		}
		if _, err := f.s.DeleteToken(ctx, f.account.ID, tok.ID, f.actor); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.TokenLogo(ctx, f.account.ID, tok.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("TokenLogo(deleted) = %v, want ErrNotFound", err)
		}
	})
}

// jpegHeader is the start of a JPEG that declares a w×h image: a JFIF
// segment, then its frame header (SOF0, or SOF2 for a progressive file)
// with three components of the sampling factors given, the first one's and
// then the others'. It is all that is read before the pixels are.
func jpegHeader(w, h uint16, progressive bool, luma, chroma byte) []byte {
	sof := byte(0xc0)
	if progressive {
		sof = 0xc2
	}
	out := []byte{0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0}
	out = append(out, 0xff, sof, 0, 17, 8)
	out = binary.BigEndian.AppendUint16(out, h)
	out = binary.BigEndian.AppendUint16(out, w)
	out = append(out, 3, 1, luma, 0, 2, chroma, 1, 3, chroma, 1)
	return out
}

// TestJPEGDecodeCost: a JPEG's cost is what image/jpeg allocates for it,
// so that an ordinary subsampled photo fits and a progressive file, whose
// coefficients take four bytes a sample more, is refused by its header.
func TestJPEGDecodeCost(t *testing.T) {
	t.Run("SubsampledPhotoFits", func(t *testing.T) {
		// 3600×2700, 4:2:0 as cameras and this encoder write it: 15 MiB of
		// planes and 11 MiB for the scaler.
		photo := image.NewYCbCr(image.Rect(0, 0, 3600, 2700), image.YCbCrSubsampleRatio420)
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, photo, nil); err != nil {
			t.Fatal(err)
		}
		out, err := NormalizeLogo(t.Context(), buf.Bytes())
		if err != nil {
			t.Fatalf("a 9.7-megapixel 4:2:0 photo was refused: %v", err)
		}
		if got, err := png.DecodeConfig(bytes.NewReader(out)); err != nil || got.Width != LogoSize {
			t.Fatalf("stored %+v, %v", got, err)
		}
	})
	for _, tc := range []struct {
		name        string
		progressive bool
		luma        byte
	}{{"ErrProgressive444", true, 0x11}, {"ErrProgressive420", true, 0x22}} {
		t.Run(tc.name, func(t *testing.T) {
			// 2400×2400: a few MiB of planes, but four times as much again
			// of coefficients.
			_, err := NormalizeLogo(t.Context(), jpegHeader(2400, 2400, tc.progressive, tc.luma, 0x11))
			var ve *ValidationError
			if !errors.As(err, &ve) || !strings.Contains(ve.Fields["logo"], "too many pixels") {
				t.Fatalf("err = %v, want the logo refused for its pixels", err)
			}
		})
	}
	t.Run("Costs", func(t *testing.T) {
		cfg := image.Config{Width: 1600, Height: 1600}
		for _, tc := range []struct {
			data []byte
			want int64
		}{
			{jpegHeader(1600, 1600, false, 0x11, 0x11), 1600 * 1600 * 3},
			{jpegHeader(1600, 1600, false, 0x22, 0x11), 1600 * 1600 * 3 / 2},
			{jpegHeader(1600, 1600, true, 0x22, 0x11), 1600 * 1600 * 3 / 2 * 5},
		} {
			if got := jpegCost(tc.data, cfg); got != tc.want {
				t.Errorf("cost of SOF %x, luma %x = %d, want %d", tc.data[21], tc.data[31], got, tc.want)
			}
		}
	})
}
