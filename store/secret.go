package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
)

// A token secret looks like "apitk_01234567_" + 32 random base62 characters
// + a 6-character base62 CRC32 of everything before it. The digits are those
// of the token's ID (TKN-0123-4567), so a person or a log line can tell which
// token a leaked secret belongs to; the checksum follows GitHub's tokens: a
// scanner recognises the prefix, and the server rejects a mistyped or made-up
// value from the checksum alone, without a database read.
const (
	SecretPrefix       = "apitk_"
	secretIDDigits     = idDigits
	secretRandomChars  = 32 // 32 × log2(62) ≈ 190 bits from crypto/rand
	secretChecksumSize = 6  // 62^6 > 2^32
	SecretLength       = len(SecretPrefix) + secretIDDigits + 1 + secretRandomChars + secretChecksumSize
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newSecret returns a fresh secret for the token with the given ID.
func newSecret(tokenID string) string {
	var b strings.Builder
	b.Grow(SecretLength)
	b.WriteString(SecretPrefix)
	b.WriteString(tokenDigits(tokenID))
	b.WriteByte('_')
	buf := make([]byte, 64)
	for n := 0; n < secretRandomChars; {
		if _, err := rand.Read(buf); err != nil {
			panic(err) // crypto/rand never fails on supported platforms
		}
		for _, c := range buf {
			// Rejection sampling keeps every character equally likely:
			// 248 = 4 × 62 is the largest multiple of 62 below 256.
			if c >= 248 || n == secretRandomChars {
				continue
			}
			b.WriteByte(base62[c%62])
			n++
		}
	}
	b.WriteString(checksum(b.String()))
	return b.String()
}

// checksum encodes the CRC32 of s as a fixed-width base62 string.
func checksum(s string) string {
	sum := crc32.ChecksumIEEE([]byte(s))
	out := make([]byte, secretChecksumSize)
	for i := secretChecksumSize - 1; i >= 0; i-- {
		out[i] = base62[sum%62]
		sum /= 62
	}
	return string(out)
}

// ParseSecret checks the form and checksum of a presented secret and returns
// the ID of the token it names. It reads no database, so it is the first gate
// for any credential.
func ParseSecret(s string) (tokenID string, err error) {
	if len(s) != SecretLength || !strings.HasPrefix(s, SecretPrefix) {
		return "", ErrMalformedSecret
	}
	digits := s[len(SecretPrefix) : len(SecretPrefix)+secretIDDigits]
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return "", ErrMalformedSecret
		}
	}
	if s[len(SecretPrefix)+secretIDDigits] != '_' {
		return "", ErrMalformedSecret
	}
	for i := len(SecretPrefix) + secretIDDigits + 1; i < len(s); i++ {
		if strings.IndexByte(base62, s[i]) < 0 {
			return "", ErrMalformedSecret
		}
	}
	body := s[:len(s)-secretChecksumSize]
	if !hmac.Equal([]byte(checksum(body)), []byte(s[len(body):])) {
		return "", ErrMalformedSecret
	}
	return tokenIDOf(digits), nil
}

// Keys are the server-side keys that protect token secrets at rest. Neither
// is ever stored in the database.
type Keys struct {
	// Digest keys the HMAC-SHA256 used to look a presented secret up.
	Digest []byte
	// Encryption is the AES-256 key for the copy of the secret that can be
	// shown again.
	Encryption []byte
	// Previous are the keys being rotated away from, while RotateKeys has
	// not yet moved every secret to the keys above. Secrets are still found
	// and shown under them meanwhile. Nil when no rotation is under way.
	Previous *Keys
}

// KeySize is the size, in bytes, of each key.
const KeySize = 32

func (k Keys) validate() error {
	if len(k.Digest) < KeySize {
		return fmt.Errorf("digest key must be at least %d bytes", KeySize)
	}
	if len(k.Encryption) != KeySize {
		return fmt.Errorf("encryption key must be %d bytes", KeySize)
	}
	return nil
}

// secretBox turns secrets into what may be stored: a digest and a ciphertext.
type secretBox struct {
	digestKey []byte
	aead      cipher.AEAD
	keyID     string
	previous  *secretBox // during a rotation: the keys rotated away from
}

func newSecretBox(k Keys) (*secretBox, error) {
	if err := k.validate(); err != nil {
		return nil, err
	}
	var previous *secretBox
	if k.Previous != nil {
		if k.Previous.Previous != nil {
			return nil, errors.New("keys: only one previous set of keys at a time")
		}
		var err error
		if previous, err = newSecretBox(*k.Previous); err != nil {
			return nil, fmt.Errorf("previous %w", err)
		}
	}
	block, err := aes.NewCipher(k.Encryption)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	// The key id names the key without revealing it, so that ciphertexts
	// made under an older key can be told apart once keys rotate.
	id := sha256.Sum256(k.Encryption)
	return &secretBox{
		digestKey: append([]byte(nil), k.Digest...),
		aead:      aead,
		keyID:     hex.EncodeToString(id[:4]),
		previous:  previous,
	}, nil
}

// digest is the keyed digest a secret is looked up by.
func (b *secretBox) digest(secret string) []byte {
	m := hmac.New(sha256.New, b.digestKey)
	m.Write([]byte(secret))
	return m.Sum(nil)
}

// seal encrypts secret under a fresh nonce, bound to the token ID so that a
// ciphertext copied onto another row does not decrypt.
func (b *secretBox) seal(tokenID, secret string) []byte {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	return b.aead.Seal(nonce, nonce, []byte(secret), []byte(tokenID))
}

// open reverses seal, under the previous key when that sealed it.
func (b *secretBox) open(tokenID, keyID string, sealed []byte) (string, error) {
	if keyID != b.keyID && b.previous != nil {
		return b.previous.open(tokenID, keyID, sealed)
	}
	if keyID != b.keyID {
		return "", errors.New("secret sealed under an unknown key")
	}
	n := b.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("sealed secret too short")
	}
	plain, err := b.aead.Open(nil, sealed[:n], sealed[n:], []byte(tokenID))
	if err != nil {
		return "", err
	}
	return string(plain), nil
}
