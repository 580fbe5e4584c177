package redisstore

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/tokentrip/tokentrip/transport"
)

// health tracks whether a part of the Store (a Semaphore, RefreshTokens) can reach
// Redis. After a failure the part works inside its process until the retry time,
// and reports the change once each way.
type health struct {
	s    *Store
	what string

	mu    sync.Mutex
	down  bool
	until time.Time
}

// available reports whether the part may ask Redis: it has not failed, or its
// retry time has come.
func (h *health) available() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.down || !time.Now().Before(h.until)
}

// mark books the outcome of asking Redis — err nil when it answered — and reports
// a change once each way: EventStoreDown with the first failure, EventStoreUp
// with the first answer after it. Each failure moves the retry time.
func (h *health) mark(err error) {
	down := err != nil
	h.mu.Lock()
	changed := h.down != down
	h.down = down
	if down {
		h.until = time.Now().Add(h.s.cfg.Retry)
	}
	h.mu.Unlock()
	switch {
	case changed && down:
		h.report(transport.Event{Kind: transport.EventStoreDown, Err: err})
	case changed:
		h.report(transport.Event{Kind: transport.EventStoreUp})
	}
}

// corrupt reports a corrupt or forged value the part found in Redis.
func (h *health) corrupt(err error) {
	h.report(transport.Event{Kind: transport.EventStoreCorrupt, Err: err})
}

// report hands ev to the Store's hook and logger, naming the part.
func (h *health) report(ev transport.Event) {
	ev.Source = "redisstore " + h.what
	h.s.report(ev)
}

// report hands an event of the Store to its hook and logger: store_down and
// store_up of a Semaphore or RefreshTokens, store_corrupt of any part.
func (s *Store) report(ev transport.Event) {
	if ev.Source == "" {
		ev.Source = "redisstore"
	}
	ev.Time = time.Now()
	if s.cfg.Hook != nil {
		s.cfg.Hook(ev)
	}
	l := s.cfg.Logger
	if l == nil {
		return
	}
	switch ev.Kind {
	case transport.EventStoreDown:
		l.LogAttrs(context.Background(), slog.LevelWarn, "tokentrip: Redis unreachable; working inside this process",
			slog.String("part", ev.Source), slog.String("error", ev.Err.Error()))
	case transport.EventStoreCorrupt:
		l.LogAttrs(context.Background(), slog.LevelWarn, "tokentrip: a value in Redis is corrupt or forged; it counts as absent and will be replaced",
			slog.String("part", ev.Source), slog.String("error", ev.Err.Error()))
	default:
		l.LogAttrs(context.Background(), slog.LevelInfo, "tokentrip: Redis reachable again; sharing resumes",
			slog.String("part", ev.Source))
	}
}
