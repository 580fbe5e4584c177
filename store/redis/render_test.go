package redisstore_test

import (
	"context"
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/tokentrip/tokentrip/internal/testkit"
)

// No rendering of a Store, its RefreshTokens or a Semaphore — fmt's verbs, slog's
// JSON and text handlers — shows the encryption key, the digest key derived from
// it, or a refresh token the process holds. %#v of a Store used to print the
// encryption key byte by byte.
func TestRenderingsRevealNoSecret(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	key := []byte("0123456789abcdef0123456789abcdef")
	st := r.newStore(options{EncryptionKey: key})
	rts := st.RefreshTokens()
	const refresh = "rt-secret-refresh-token"
	if err := rts.CompareAndSwap(ctx, "user-1", "", refresh); err != nil {
		t.Fatal(err)
	}
	if v, err := rts.Load(ctx, "user-1"); v != refresh || err != nil {
		t.Fatalf("Load: %q, %v", v, err)
	}
	sem := st.Semaphore("acoustic org 42", 10)
	digestKey := sha256.Sum256(append([]byte("tokentrip refresh-token digest\x00"), key...))
	secrets := append(append(testkit.ByteForms(key), testkit.ByteForms(digestKey[:])...), refresh, "acoustic org 42")

	var texts []string
	for _, v := range []any{st, rts, sem} {
		texts = append(texts, testkit.Renderings(v)...)
	}
	for _, text := range texts {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("a rendering shows a secret (%.40q…): %.200s", s, text)
			}
		}
	}
}
