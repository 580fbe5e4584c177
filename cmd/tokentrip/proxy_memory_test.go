package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
)

// procStatus reads a field (VmRSS, VmHWM) of a process's /proc status, in bytes.
func procStatus(t *testing.T, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// Many clients each sending all but the last byte of a 1 MiB body cannot make the
// proxy hold more than its buffer cap: past --max-in-flight and --max-buffered they
// are answered 503 at once, the uploads it holds end at --read-timeout (408) — by
// which time it has read all they sent — and its peak RSS stays within the cap of
// where it started. This test process drives the attack against the proxy's process.
//
// By default it runs 100 connections against small caps; TOKENTRIP_SLOW_UPLOADS=1000
// runs the full attack against the default caps and logs the figures.
func TestProxySlowUploadMemory(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads the proxy's peak RSS from /proc")
	}
	conns, caps := 100, []string{"--max-in-flight", "32", "--max-buffered", "8MiB"}
	buffered := int64(8 << 20)
	if n, err := strconv.Atoi(os.Getenv("TOKENTRIP_SLOW_UPLOADS")); err == nil && n > 0 {
		conns, caps, buffered = n, nil, 64<<20
	}
	srv := mcv2test.NewServer()
	defer srv.Close()
	p := startProxy(t, []string{envClientSecret + "=" + srv.ClientSecret},
		append([]string{"--provider", "mcv2", "--auth-url", srv.URL, "--client-id", srv.ClientID,
			"--log-level", "error", "--read-timeout", "3s"}, caps...)...)
	pid := p.cmd.Process.Pid
	// Warm the proxy up with ordinary requests, so that the baseline holds what
	// serving costs anyway.
	for range 20 {
		do(t, http.MethodPost, "http://"+p.base+"/rest/warm", "application/json", strings.Repeat("w", 64<<10))
	}
	baseline := procStatus(t, pid, "VmHWM")

	const size = 1 << 20
	body := make([]byte, size-1)
	header := fmt.Sprintf("POST /rest/upload HTTP/1.1\r\nHost: %s\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", p.base, size)
	var (
		mu       sync.Mutex
		refused  int // answered 503 at once
		held     int // answered 408 when the read timeout ended them
		failures []error
		wg       sync.WaitGroup
	)
	start := time.Now()
	for range conns {
		wg.Go(func() {
			c, err := net.Dial("tcp", p.base)
			if err != nil {
				mu.Lock()
				failures = append(failures, err)
				mu.Unlock()
				return
			}
			_, werr := io.WriteString(c, header)
			if werr == nil {
				_, werr = c.Write(body)
			}
			// A refused upload gets its 503 at once; a held one its 408 when the
			// read timeout ends it. A refused one may fail to write the rest of
			// its body once the proxy has answered and closed.
			defer c.Close()
			_ = c.SetReadDeadline(time.Now().Add(time.Minute))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && resp.StatusCode == http.StatusServiceUnavailable:
				refused++
			case err == nil && resp.StatusCode == http.StatusRequestTimeout && werr == nil:
				held++
			case err == nil:
				failures = append(failures, fmt.Errorf("HTTP %d", resp.StatusCode))
			default:
				failures = append(failures, fmt.Errorf("no answer: %w (writing: %v)", err, werr))
			}
		})
	}
	wg.Wait()
	peak := procStatus(t, pid, "VmHWM")
	elapsed := time.Since(start)
	growth := peak - baseline
	t.Logf("%d slow 1 MiB uploads in %v: %d refused with 503, %d held until their 408; proxy peak RSS %.1f MiB (baseline %.1f MiB, growth %.1f MiB, buffer cap %d MiB)",
		conns, elapsed.Round(time.Millisecond), refused, held, float64(peak)/(1<<20), float64(baseline)/(1<<20), float64(growth)/(1<<20), buffered>>20)
	if len(failures) > 0 {
		t.Fatalf("%d uploads failed otherwise, the first: %v", len(failures), failures[0])
	}
	if maxHeld := int(buffered / size); held > maxHeld || held == 0 {
		t.Errorf("%d uploads held, want 1 to %d (the buffer cap over 1 MiB)", held, maxHeld)
	}
	if refused+held != conns {
		t.Errorf("%d refused + %d held, want %d", refused, held, conns)
	}
	// What the proxy holds is the bodies it buffers; the rest — connections,
	// goroutines, the garbage of refused requests before a collection — stays
	// within as much again plus a margin for the runtime.
	if limit := 2*buffered + 48<<20; growth > limit {
		t.Errorf("peak RSS grew by %.1f MiB, want at most %.1f MiB", float64(growth)/(1<<20), float64(limit)/(1<<20))
	}
	if code := p.stop(t); code != exitOK {
		t.Errorf("exit %d after the attack:\n%s", code, p.log())
	}
}
