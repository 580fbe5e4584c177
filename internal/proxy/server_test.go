package proxy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// lines is a slog.Handler that hands each record's message to a channel, so that a
// test can wait for the proxy to have logged something.
type lines chan string

func (l lines) Enabled(context.Context, slog.Level) bool { return true }
func (l lines) Handle(_ context.Context, r slog.Record) error {
	msg := r.Message
	r.Attrs(func(a slog.Attr) bool { msg += " " + a.String(); return true })
	select {
	case l <- msg:
	default:
	}
	return nil
}
func (l lines) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l lines) WithGroup(string) slog.Handler      { return l }

// serving starts a real server for a fixture built with timeouts, and returns the
// fixture, the server's address and its log lines.
func serving(t *testing.T, timeouts Timeouts) (*fixture, string, lines) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logged := make(lines, 100)
	f := newFixture(t, func(o *Options) {
		o.Listen, o.Timeouts = ln.Addr().String(), timeouts
		o.Logger = slog.New(logged)
	})
	srv := NewServer(f.h, nil)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return f, ln.Addr().String(), logged
}

// dial connects to addr; reads fail the test if nothing happens for a long time.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	return c
}

// closed reports whether the server ended c: a read ends with EOF or a reset, not
// the test's own deadline.
func closed(t *testing.T, c net.Conn) bool {
	t.Helper()
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if err != nil && errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return true
}

// Each part of an exchange has its time limit: a client that sends its header,
// its body or nothing at all too slowly, or reads its answer too slowly, loses
// its connection, and the proxy's resources with it.
func TestTimeouts(t *testing.T) {
	const short = 200 * time.Millisecond
	t.Run("header", func(t *testing.T) {
		_, addr, _ := serving(t, Timeouts{ReadHeader: short})
		c := dial(t, addr)
		if _, err := io.WriteString(c, "GET /rest/x HTTP/1.1\r\nHost: "+addr+"\r\nX-Slow: "); err != nil {
			t.Fatal(err)
		}
		if !closed(t, c) {
			t.Fatal("a header that never ends kept its connection")
		}
	})
	t.Run("body trickled byte by byte", func(t *testing.T) {
		f, addr, logged := serving(t, Timeouts{ReadHeader: short, Read: 2 * short})
		c := dial(t, addr)
		if _, err := io.WriteString(c, "POST /rest/upload HTTP/1.1\r\nHost: "+addr+"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			tick := time.NewTicker(short / 10)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					if _, err := c.Write([]byte("x")); err != nil {
						return
					}
				}
			}
		}()
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout {
			t.Fatalf("HTTP %d, want 408", resp.StatusCode)
		}
		if !closed(t, c) {
			t.Fatal("the connection stayed open")
		}
		if n := len(f.up.got()); n != 0 {
			t.Errorf("the upstream received %d requests", n)
		}
		if line := waitFor(t, logged, "request"); !strings.Contains(line, "status=408") || !strings.Contains(line, "--read-timeout") {
			t.Errorf("log line %q", line)
		}
		if f.h.budget.used.Load() != 0 {
			t.Errorf("%d bytes still reserved", f.h.budget.used.Load())
		}
	})
	t.Run("idle", func(t *testing.T) {
		_, addr, _ := serving(t, Timeouts{Idle: short})
		c := dial(t, addr)
		if _, err := io.WriteString(c, "GET /-/healthz HTTP/1.1\r\nHost: "+addr+"\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Close {
			t.Fatalf("HTTP %d, close %v: want a kept-alive 200", resp.StatusCode, resp.Close)
		}
		if _, err := br.ReadByte(); err != io.EOF {
			t.Fatalf("an idle connection: %v, want EOF", err)
		}
	})
	t.Run("write", func(t *testing.T) {
		f, addr, logged := serving(t, Timeouts{Write: short})
		const size = 16 << 20
		f.up.mu.Lock()
		f.up.answer = []byte(strings.Repeat("z", size))
		f.up.mu.Unlock()
		c := dial(t, addr)
		if _, err := io.WriteString(c, "GET /rest/export HTTP/1.1\r\nHost: "+addr+"\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		// The client reads nothing until the proxy has given up on it.
		line := waitFor(t, logged, "request")
		if !strings.Contains(line, "cut off") {
			t.Errorf("log line %q: want the answer cut off", line)
		}
		n, _ := io.Copy(io.Discard, c)
		if n >= size {
			t.Errorf("the client got all %d bytes", n)
		}
	})
}

// waitFor returns the first logged line whose message starts with msg.
func waitFor(t *testing.T, logged lines, msg string) string {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l := <-logged:
			if strings.HasPrefix(l, msg+" ") {
				return l
			}
		case <-timeout:
			t.Fatalf("nothing logged as %q", msg)
		}
	}
}
