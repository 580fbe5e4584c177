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
	ev.Source, ev.Time = "redisstore "+h.what, time.Now()
	if h.s.cfg.hook != nil {
		h.s.cfg.hook(ev)
	}
	if l := h.s.cfg.logger; l != nil {
		if ev.Kind == transport.EventStoreDown {
			l.LogAttrs(context.Background(), slog.LevelWarn, "tokentrip: Redis unreachable; working inside this process",
				slog.String("part", h.what), slog.String("error", ev.Err.Error()))
		} else {
			l.LogAttrs(context.Background(), slog.LevelInfo, "tokentrip: Redis reachable again; sharing resumes",
				slog.String("part", h.what))
		}
	}
}
