package pool_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/providerfunc"
	"github.com/tokentrip/tokentrip/pool"
	"github.com/tokentrip/tokentrip/provider/acoustic"
	"github.com/tokentrip/tokentrip/provider/mcv1"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/transport"
)

// counting returns a Builder of a Transport over a provider that hands out name's
// token, and the number of times the Builder ran.
func counting(name string) (pool.Builder, *atomic.Int64) {
	var builds atomic.Int64
	return func() (*transport.Transport, error) {
		builds.Add(1)
		src := transport.NewSource(providerfunc.Func(func(context.Context) (transport.Token, error) {
			return transport.Token{AccessToken: "token-of-" + name, Expiry: time.Now().Add(time.Hour)}, nil
		}), transport.Settings{})
		return transport.New(src, transport.Options{}), nil
	}, &builds
}

// Names that the pool cannot serve come back as *Error with the name and the
// sentinel; a nil Builder is refused when it is added, not when it is used.
func TestPoolNameErrors(t *testing.T) {
	var p pool.Pool
	build, _ := counting("a")
	if err := p.Add("a", build); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		call func() error
		who  string
		is   error // nil: no sentinel, just an *Error
		text string
	}{
		{"duplicate", func() error { return p.Add("a", build) }, "a", pool.ErrDuplicate, `pool: credential "a": a credential of this name is already in the pool`},
		{"unknown", func() error { _, err := p.Transport("b"); return err }, "b", pool.ErrUnknown, `pool: credential "b": no credential of this name in the pool`},
		{"unknown differs by case", func() error { _, err := p.Transport("A"); return err }, "A", pool.ErrUnknown, ""},
		{"empty name unknown", func() error { _, err := p.Transport(""); return err }, "", pool.ErrUnknown, ""},
		{"nil builder", func() error { return p.Add("c", nil) }, "c", nil, `pool: credential "c": nil Builder`},
		{"control characters quoted", func() error { _, err := p.Transport("x\ny"); return err }, "x\ny", pool.ErrUnknown, `pool: credential "x\ny": no credential of this name in the pool`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var pe *pool.Error
			if !errors.As(err, &pe) || pe.Name != tc.who {
				t.Fatalf("err %v: want a *pool.Error naming %q", err, tc.who)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err %v: want errors.Is %v", err, tc.is)
			}
			if tc.text != "" && err.Error() != tc.text {
				t.Errorf("err %q, want %q", err, tc.text)
			}
		})
	}
	if _, ok := p.Built("c"); ok {
		t.Error("a credential refused by Add counts as built")
	}
	if _, err := p.Transport("c"); !errors.Is(err, pool.ErrUnknown) {
		t.Errorf("a credential refused by Add: %v, want ErrUnknown", err)
	}
}

// Nothing is built until a credential is used, and then only that credential,
// once; Built never builds.
func TestPoolBuildsOnFirstUseOnly(t *testing.T) {
	const n = 1000
	var p pool.Pool
	counts := make([]*atomic.Int64, n)
	before := runtime.NumGoroutine()
	for i := range n {
		build, c := counting(fmt.Sprint(i))
		counts[i] = c
		if err := p.Add(fmt.Sprintf("cred-%d", i), build); err != nil {
			t.Fatal(err)
		}
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("%d goroutines after adding %d credentials, %d before", after, n, before)
	}
	for i := range n {
		if _, ok := p.Built(fmt.Sprintf("cred-%d", i)); ok {
			t.Fatalf("cred-%d is built before its first use", i)
		}
	}
	first, err := p.Transport("cred-7")
	if err != nil {
		t.Fatal(err)
	}
	again, err := p.Transport("cred-7")
	if err != nil || again != first {
		t.Fatalf("second use: %p, %v; want the first Transport %p", again, err, first)
	}
	if got, ok := p.Built("cred-7"); !ok || got != first {
		t.Errorf("Built(cred-7) = %p, %v; want %p, true", got, ok, first)
	}
	tok, err := first.Source().Token(t.Context())
	if err != nil || tok.AccessToken != "token-of-7" {
		t.Errorf("cred-7's token %q, %v: want its own", tok.AccessToken, err)
	}
	for i, c := range counts {
		want := int64(0)
		if i == 7 {
			want = 1
		}
		if got := c.Load(); got != want {
			t.Errorf("cred-%d built %d times, want %d", i, got, want)
		}
	}
}

// Many goroutines using a credential for the first time at once share one build
// and one Transport.
func TestPoolConcurrentFirstUseBuildsOnce(t *testing.T) {
	const callers = 64
	var p pool.Pool
	var builds atomic.Int64
	release := make(chan struct{})
	inBuild := make(chan struct{})
	err := p.Add("shared", func() (*transport.Transport, error) {
		if builds.Add(1) == 1 {
			close(inBuild)
		}
		<-release // the other callers arrive while this build is under way
		return transport.New(transport.NewSource(providerfunc.Func(func(context.Context) (transport.Token, error) {
			return transport.Token{AccessToken: "t"}, nil
		}), transport.Settings{}), transport.Options{}), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := make([]*transport.Transport, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			tr, err := p.Transport("shared")
			if err != nil {
				t.Error(err)
			}
			got[i] = tr
		})
	}
	<-inBuild
	close(release)
	wg.Wait()
	if n := builds.Load(); n != 1 {
		t.Errorf("%d builds for %d concurrent first uses, want 1", n, callers)
	}
	for i, tr := range got {
		if tr == nil || tr != got[0] {
			t.Fatalf("caller %d got Transport %p, caller 0 %p", i, tr, got[0])
		}
	}
}

// A credential whose configuration cannot work fails with an *Error naming it and
// the provider's ConfigError, without its secret; the failure is not kept, so a
// Builder that can succeed later does.
func TestPoolBuildErrors(t *testing.T) {
	const secret = "pool-test-secret-9d1c"
	for _, tc := range []struct {
		name  string
		build pool.Builder
		field string // the ConfigError's field; "" for none
	}{
		{"mcv2 bad account id", func() (*transport.Transport, error) {
			return mcv2.NewTransport(mcv2.Config{Subdomain: "mc563885gzs27c5t9-63k636tzgm", ClientID: "id", ClientSecret: secret, AccountID: "BU 1"})
		}, "AccountID"},
		{"mcv2 secret with a space", func() (*transport.Transport, error) {
			return mcv2.NewTransport(mcv2.Config{Subdomain: "mc563885gzs27c5t9-63k636tzgm", ClientID: "id", ClientSecret: secret + " x"})
		}, "ClientSecret"},
		{"mcv1 no subdomain", func() (*transport.Transport, error) {
			return mcv1.NewTransport(mcv1.Config{ClientID: "id", ClientSecret: secret})
		}, "Subdomain"},
		{"acoustic unknown pod", func() (*transport.Transport, error) {
			return acoustic.NewTransport(acoustic.Config{Pod: "42", ClientID: "id", ClientSecret: secret, RefreshToken: secret})
		}, "Pod"},
		{"no Transport", func() (*transport.Transport, error) { return nil, nil }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p pool.Pool
			if err := p.Add("tenant-1", tc.build); err != nil {
				t.Fatal(err)
			}
			_, err := p.Transport("tenant-1")
			var pe *pool.Error
			if !errors.As(err, &pe) || pe.Name != "tenant-1" {
				t.Fatalf("err %v: want a *pool.Error naming tenant-1", err)
			}
			var ce *transport.ConfigError
			if tc.field != "" && (!errors.As(err, &ce) || ce.Field != tc.field || !errors.Is(err, transport.ErrConfig)) {
				t.Errorf("err %v: want a ConfigError on %s", err, tc.field)
			}
			for _, shown := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", pe)} {
				if strings.Contains(shown, secret) {
					t.Errorf("the error shows the secret: %s", shown)
				}
			}
			if _, ok := p.Built("tenant-1"); ok {
				t.Error("a failed credential counts as built")
			}
		})
	}

	// The failure is not kept: the next use builds again.
	var p pool.Pool
	var tries atomic.Int64
	_ = p.Add("flaky", func() (*transport.Transport, error) {
		if tries.Add(1) == 1 {
			return nil, errors.New("secret file not mounted yet")
		}
		return transport.New(transport.NewSource(providerfunc.Func(func(context.Context) (transport.Token, error) {
			return transport.Token{AccessToken: "t"}, nil
		}), transport.Settings{}), transport.Options{}), nil
	})
	if _, err := p.Transport("flaky"); err == nil || !strings.Contains(err.Error(), `"flaky": secret file not mounted yet`) {
		t.Fatalf("first use: %v, want the Builder's error", err)
	}
	if tr, err := p.Transport("flaky"); err != nil || tr == nil {
		t.Fatalf("second use: %v, want a Transport", err)
	}
	if n := tries.Load(); n != 2 {
		t.Errorf("%d builds, want 2", n)
	}
}

// CloseIdleConnections reaches every built Transport's base, and builds nothing.
func TestPoolCloseIdleConnections(t *testing.T) {
	var p pool.Pool
	bases := map[string]*closeCounter{}
	for _, name := range []string{"used", "idle"} {
		base := &closeCounter{}
		bases[name] = base
		_ = p.Add(name, func() (*transport.Transport, error) {
			src := transport.NewSource(providerfunc.Func(func(context.Context) (transport.Token, error) {
				return transport.Token{AccessToken: "t"}, nil
			}), transport.Settings{})
			return transport.New(src, transport.Options{Base: base}), nil
		})
	}
	if _, err := p.Transport("used"); err != nil {
		t.Fatal(err)
	}
	p.CloseIdleConnections()
	if n := bases["used"].n.Load(); n != 1 {
		t.Errorf("the used credential's base was closed %d times, want 1", n)
	}
	if _, ok := p.Built("idle"); ok || bases["idle"].n.Load() != 0 {
		t.Error("CloseIdleConnections built or touched the idle credential")
	}
}

// closeCounter is a base RoundTripper that counts CloseIdleConnections calls.
type closeCounter struct{ n atomic.Int64 }

func (c *closeCounter) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("not used")
}

func (c *closeCounter) CloseIdleConnections() { c.n.Add(1) }
