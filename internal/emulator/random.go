package emulator

import (
	"crypto/rand"
	"fmt"
)

// NewSecret returns prefix followed by 52 random base32 characters (260 bits):
// enough for access tokens, refresh tokens and codes, and recognisable in a test
// failure by its prefix.
func NewSecret(prefix string) string {
	return prefix + rand.Text() + rand.Text()
}

// NewUUID returns a random (version 4) UUID in its canonical text form.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails: crypto/rand.Read crashes the program instead
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
