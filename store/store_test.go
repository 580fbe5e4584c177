package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tokentrip/tokentrip/internal/testkit"
	"github.com/tokentrip/tokentrip/store"
)

func TestRefreshTokenStores(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	for name, s := range map[string]store.RefreshTokens{"memory": &store.Memory{}, "file": store.NewFile(path)} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			if got, err := s.Load(ctx, "k"); got != "" || err != nil {
				t.Fatalf("empty store: %q, %v", got, err)
			}
			if err := s.CompareAndSwap(ctx, "k", "", "rt-1"); err != nil {
				t.Fatal(err)
			}
			if err := s.CompareAndSwap(ctx, "k", "stale", "rt-x"); !errors.Is(err, store.ErrConflict) {
				t.Fatalf("CAS with a stale token: %v, want ErrConflict", err)
			}
			// 100 concurrent rotations from rt-1: exactly one wins.
			var wg sync.WaitGroup
			var mu sync.Mutex
			wins := 0
			for i := range 100 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if s.CompareAndSwap(ctx, "k", "rt-1", "rt-next-"+string(rune('a'+i%26))) == nil {
						mu.Lock()
						wins++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if wins != 1 {
				t.Fatalf("%d rotations won, want 1", wins)
			}
			if got, _ := s.Load(ctx, "k"); got == "rt-1" || got == "" {
				t.Fatalf("after rotation: %q", got)
			}
			for _, v := range testkit.Renderings(s) {
				if v == "" || containsToken(v) {
					t.Fatalf("a rendering reveals tokens: %s", v)
				}
			}
		})
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("file mode %v, %v; want 0600", info.Mode().Perm(), err)
	}
}

func containsToken(s string) bool {
	return strings.Contains(s, "rt-1") || strings.Contains(s, "rt-next")
}

func TestFileRefusesCorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	os.WriteFile(path, []byte("not json"), 0o600)
	if _, err := store.NewFile(path).Load(context.Background(), "k"); err == nil {
		t.Fatal("corrupt file loaded without error")
	}
}
