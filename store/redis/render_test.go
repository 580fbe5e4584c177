package redisstore_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"

	"github.com/tokentrip/tokentrip/internal/testkit"
	"github.com/tokentrip/tokentrip/transport"
)

// No rendering of a Store, its Options, its RefreshTokens or a Semaphore — fmt's
// verbs, slog's JSON and text handlers — shows the encryption key, the digest key
// derived from it, or a refresh token the process holds. %#v of a Store used to
// print the encryption key byte by byte.
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
	o := options{EncryptionKey: key, Hook: func(transport.Event) {}}
	for _, v := range []any{st, rts, sem, o, &o} {
		texts = append(texts, testkit.Renderings(v)...)
	}
	if text := fmt.Sprint(o); !strings.Contains(text, "EncryptionKey:[REDACTED]") || !strings.Contains(text, "Hook:true") {
		t.Errorf("Options render as %s; want the key redacted and the hook named", text)
	}
	for _, text := range texts {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("a rendering shows a secret (%.40q…): %.200s", s, text)
			}
		}
	}
}
