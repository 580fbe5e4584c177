package proxy

import (
	"log"
	"net/http"
	"time"
)

// Defaults of the proxy's caps and timeouts, each changed by a flag of the same name.
const (
	DefaultMaxInFlight       = 256              // --max-in-flight: requests forwarded at once
	DefaultMaxBuffered       = 64 << 20         // --max-buffered: bytes of request bodies held for replays
	DefaultMaxDecompressed   = 32 << 20         // the largest body a compressed one may become
	DefaultReplayLimit       = 1 << 20          // the largest body kept for a replay, as a Transport keeps by default
	DefaultReadHeaderTimeout = 10 * time.Second // --read-header-timeout
	DefaultReadTimeout       = time.Minute      // --read-timeout: a whole request, body included
	DefaultWriteTimeout      = 5 * time.Minute  // --write-timeout: an answer, from its first byte
	DefaultIdleTimeout       = 2 * time.Minute  // --idle-timeout: a kept-alive connection between requests
	MaxHeaderBytes           = 64 << 10         // a request's header, request line included
)

// Timeouts bound how long a client may take over each part of an exchange. Zero
// fields take the defaults.
type Timeouts struct {
	ReadHeader time.Duration // the request line and header
	Read       time.Duration // the whole request, body included
	Write      time.Duration // the answer, from its first byte; waiting for the upstream is not counted
	Idle       time.Duration // a kept-alive connection between two requests
}

// withDefaults fills the zero fields.
func (t Timeouts) withDefaults() Timeouts {
	if t.ReadHeader <= 0 {
		t.ReadHeader = DefaultReadHeaderTimeout
	}
	if t.Read <= 0 {
		t.Read = DefaultReadTimeout
	}
	if t.Write <= 0 {
		t.Write = DefaultWriteTimeout
	}
	if t.Idle <= 0 {
		t.Idle = DefaultIdleTimeout
	}
	return t
}

// NewServer returns the http.Server of a proxy handler built by New: the header
// and read timeouts are the server's (a body trickled byte by byte ends when the
// read timeout does), the write timeout is applied by the handler from the first
// byte of each answer, and headers are capped at MaxHeaderBytes.
func NewServer(h *Handler, errorLog *log.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: h.timeouts.ReadHeader,
		ReadTimeout:       h.timeouts.Read,
		IdleTimeout:       h.timeouts.Idle,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          errorLog,
	}
}
