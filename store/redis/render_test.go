package redisstore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	redisstore "github.com/tokentrip/tokentrip/store/redis"
)

// byteForms are the ways fmt and slog may render b: as it is, in hex, and as the
// byte lists of %v ("[48 49 …]") and %#v ("0x30, 0x31, …").
func byteForms(b []byte) []string {
	dec := fmt.Sprint(b)
	gohex := fmt.Sprintf("%#v", b)
	return []string{string(b), hex.EncodeToString(b), dec[1 : len(dec)-1], gohex[strings.Index(gohex, "{")+1 : len(gohex)-1]}
}

// No rendering of a Store, its RefreshTokens or a Semaphore — fmt's verbs, slog's
// JSON and text handlers — shows the encryption key, the digest key derived from
// it, or a refresh token the process holds. %#v of a Store used to print the
// encryption key byte by byte.
func TestRenderingsRevealNoSecret(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	key := []byte("0123456789abcdef0123456789abcdef")
	st := r.newStore(redisstore.WithEncryptionKey(key))
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
	secrets := append(append(byteForms(key), byteForms(digestKey[:])...), refresh, "acoustic org 42")

	var texts []string
	for _, v := range []any{st, rts, sem} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			texts = append(texts, fmt.Sprintf(verb, v))
		}
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "v", v)
		slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "v", v)
		texts = append(texts, buf.String())
	}
	for _, text := range texts {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("a rendering shows a secret (%.40q…): %.200s", s, text)
			}
		}
	}
}
