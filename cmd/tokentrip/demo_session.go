package main

import (
	"context"
	"fmt"
	"net/http"

	"github.com/tokentrip/tokentrip/transport"
)

// session is what a scenario runs through: a Transport built for it against one of
// the demo's emulators, a client over it, and the URL its calls go to.
type session struct {
	tr     *transport.Transport
	client *http.Client
	url    string
	call   func(ctx context.Context, c *http.Client, url string) error // restCall or xmlCall
}

// do makes one of the session's calls and reports anything but 200 as an error.
func (s *session) do(ctx context.Context) error { return s.call(ctx, s.client, s.url) }

// opener opens a scenario's session against the demo's emulators.
type opener func(ctx context.Context, d *demo) (*session, error)

// open builds a session whose Transport newTransport makes from cfg, and whose
// calls call makes to url.
func open[C any](url string, call func(context.Context, *http.Client, string) error,
	newTransport func(C) (*transport.Transport, error), cfg C) (*session, error) {
	tr, err := newTransport(cfg)
	if err != nil {
		return nil, err
	}
	return &session{tr: tr, client: &http.Client{Transport: tr}, url: url, call: call}, nil
}

// warmed opens the session and makes a first call in it, so that the scenario
// starts with a token in the Transport.
func warmed(o opener) opener {
	return func(ctx context.Context, d *demo) (*session, error) {
		s, err := o(ctx, d)
		if err != nil {
			return nil, err
		}
		if err := s.do(ctx); err != nil {
			s.tr.CloseIdleConnections()
			return nil, fmt.Errorf("first call: %w", err)
		}
		return s, nil
	}
}
