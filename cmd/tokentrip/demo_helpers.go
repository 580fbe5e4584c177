package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokentrip/tokentrip/provider/acoustic"
)

// pool returns a base RoundTripper for a scenario: its own connections, capped at
// conns per host (0: no cap), so that a crowd of callers shares a bounded number of
// sockets and no scenario reuses another's.
func pool(conns int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxConnsPerHost = conns
	t.MaxIdleConnsPerHost = 256
	return t
}

// crowd is a group of goroutines making one call each, all started at once.
type crowd struct {
	launched sync.WaitGroup // done when every goroutine is about to call
	done     sync.WaitGroup // done when every call has returned
	ok       atomic.Int64   // calls that succeeded
	finished atomic.Int64   // calls that returned, either way

	mu    sync.Mutex
	first error // the first failure, for the report
}

// startCrowd starts n goroutines that each run call once.
func startCrowd(n int, call func() error) *crowd {
	c := &crowd{}
	c.launched.Add(n)
	c.done.Add(n)
	for range n {
		go func() {
			defer c.done.Done()
			c.launched.Done()
			err := call()
			if err == nil {
				c.ok.Add(1)
			} else {
				c.mu.Lock()
				if c.first == nil {
					c.first = err
				}
				c.mu.Unlock()
			}
			c.finished.Add(1)
		}()
	}
	return c
}

// firstErr is the first failure, nil if every call succeeded.
func (c *crowd) firstErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.first
}

// waitAtMost waits for every call to return, but no longer than bound (real time)
// or ctx: a scenario measuring whether callers were blocked must not itself block.
func (c *crowd) waitAtMost(ctx context.Context, bound time.Duration) {
	all := make(chan struct{})
	go func() {
		c.done.Wait()
		close(all)
	}()
	t := time.NewTimer(bound)
	defer t.Stop()
	select {
	case <-all:
	case <-t.C:
	case <-ctx.Done():
	}
}

// finish lets held requests go (release) and waits for the crowd, so that a
// scenario that returns early leaves no goroutine behind.
func (c *crowd) finish(release func()) {
	release()
	c.done.Wait()
}

// statusError is a call answered with a status other than 200.
type statusError int

func (e statusError) Error() string { return fmt.Sprintf("HTTP %d", int(e)) }

// send makes one call and returns its status, having read and closed the body.
func send(ctx context.Context, c *http.Client, method, url, contentType, body string) (int, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if strings.HasSuffix(url, ".asmx") {
		req.Header.Set("SOAPAction", "Retrieve")
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// restCall makes a REST GET and reports anything but 200 as an error.
func restCall(ctx context.Context, c *http.Client, url string) error {
	return okOnly(send(ctx, c, http.MethodGet, url, "", ""))
}

// soapCall posts a SOAP 1.1 envelope and returns the status.
func soapCall(ctx context.Context, c *http.Client, url, env string) (int, error) {
	return send(ctx, c, http.MethodPost, url, "text/xml; charset=utf-8", env)
}

// xmlCall posts an Acoustic XML API request and reports anything but 200 as an
// error.
func xmlCall(ctx context.Context, c *http.Client, url string) error {
	const getLists = `<Envelope><Body><GetLists><VISIBILITY>1</VISIBILITY><LIST_TYPE>2</LIST_TYPE></GetLists></Body></Envelope>`
	return okOnly(send(ctx, c, http.MethodPost, url, "text/xml;charset=UTF-8", getLists))
}

// okOnly turns a status other than 200 into a statusError.
func okOnly(status int, err error) error {
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return statusError(status)
	}
	return nil
}

// retrieveEnvelope is a SOAP 1.1 Retrieve request with WS-Addressing in its
// Header, as generated clients send it; withStale leaves a stale fueloauth in the
// Header, as a client that cached a token of its own would.
func retrieveEnvelope(withStale bool) string {
	stale := ""
	if withStale {
		stale = `<fueloauth xmlns="http://exacttarget.com">` + staleToken + `</fueloauth>`
	}
	return `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing">
  <soap:Header><wsa:Action>Retrieve</wsa:Action><wsa:MessageID>urn:uuid:5f1b7c9e-demo</wsa:MessageID>` + stale + `</soap:Header>
  <soap:Body>
    <RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI">
      <RetrieveRequest><ObjectType>DataExtension</ObjectType><Properties>Name</Properties></RetrieveRequest>
    </RetrieveRequestMsg>
  </soap:Body>
</soap:Envelope>`
}

// countElements counts the elements named local (any namespace) in an XML
// document, as far as it parses.
func countElements(doc []byte, local string) int {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	n := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return n
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == local {
			n++
		}
	}
}

// rejections totals an emulator's refusals.
func rejections(byReason map[string]int) int {
	n := 0
	for _, c := range byReason {
		n += c
	}
	return n
}

// countingLimiter is an Acoustic Limiter that counts the calls waiting in it, and
// says when a given number of calls have asked for a slot.
type countingLimiter struct {
	acoustic.Limiter
	entered  atomic.Int64
	returned atomic.Int64
	target   int64
	reached  chan struct{}
}

// arm resets the counts and returns a channel closed once n calls have asked for
// a slot. It must be called before those calls start.
func (l *countingLimiter) arm(n int) <-chan struct{} {
	l.entered.Store(0)
	l.returned.Store(0)
	l.target = int64(n)
	l.reached = make(chan struct{})
	return l.reached
}

// Acquire implements acoustic.Limiter.
func (l *countingLimiter) Acquire(ctx context.Context) (func(), error) {
	if l.entered.Add(1) == l.target && l.reached != nil {
		close(l.reached)
	}
	defer l.returned.Add(1)
	return l.Limiter.Acquire(ctx)
}

// waiting is how many calls are waiting for a slot now.
func (l *countingLimiter) waiting() int {
	return int(l.entered.Load() - l.returned.Load())
}
