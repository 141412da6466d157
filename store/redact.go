package store

import "strings"

// Redacted is what RedactSecrets puts in place of a secret.
const Redacted = SecretPrefix + "REDACTED"

// RedactSecrets returns s with everything shaped like a token secret
// replaced by Redacted: the prefix, in any case, its underscore, raw or
// percent-encoded, and the letters, digits, underscores and percent signs
// that follow. Mistyped, cut-short and checksum-failing secrets are
// redacted as well: they are close enough to a real one to give it away.
// Wherever a path, a query or any value a client sent is logged, it passes
// through here first.
func RedactSecrets(s string) string {
	i := secretStart(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	for i >= 0 {
		end := i + len(SecretPrefix) - 1
		if s[end] == '%' {
			end += 3 // "%5F"
		} else {
			end++
		}
		for end < len(s) && isSecretByte(s[end]) {
			end++
		}
		b.WriteString(s[:i])
		b.WriteString(Redacted)
		s = s[end:]
		i = secretStart(s)
	}
	b.WriteString(s)
	return b.String()
}

// secretStart is the index of the first secret's prefix in s, or -1.
func secretStart(s string) int {
	head := SecretPrefix[:len(SecretPrefix)-1] // "apitk", then "_" or "%5F"
	for i := 0; i+len(head) < len(s); i++ {
		if s[i]|0x20 != 'a' || !strings.EqualFold(s[i:i+len(head)], head) {
			continue
		}
		rest := s[i+len(head):]
		if rest[0] == '_' || (len(rest) >= 3 && strings.EqualFold(rest[:3], "%5F")) {
			return i
		}
	}
	return -1
}

func isSecretByte(c byte) bool {
	return c == '_' || c == '%' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}
