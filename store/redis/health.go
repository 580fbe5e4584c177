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

func (h *health) available() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.down || !time.Now().Before(h.until)
}

func (h *health) failed(err error) {
	h.mu.Lock()
	first := !h.down
	h.down, h.until = true, time.Now().Add(h.s.cfg.retry)
	h.mu.Unlock()
	if first {
		h.report(transport.Event{Kind: transport.EventStoreDown, Err: err})
	}
}

func (h *health) worked() {
	h.mu.Lock()
	back := h.down
	h.down = false
	h.mu.Unlock()
	if back {
		h.report(transport.Event{Kind: transport.EventStoreUp})
	}
}

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
	if s.cfg.hook != nil {
		s.cfg.hook(ev)
	}
	l := s.cfg.logger
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
