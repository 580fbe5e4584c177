package transport

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// EventKind names what happened in a Source.
type EventKind string

// The events a Source reports to its hook and logger.
const (
	EventFetched     EventKind = "fetched"      // a new token arrived
	EventFetchFailed EventKind = "fetch_failed" // a fetch failed; Err says why
	EventInvalidated EventKind = "invalidated"  // a rejected token was dropped
	EventBreaker     EventKind = "breaker"      // the breaker went From → To
	EventAdopted     EventKind = "adopted"      // a token another process fetched arrived from the Store
	EventStoreDown   EventKind = "store_down"   // the Store failed (Err); working alone until it answers again
	EventStoreUp     EventKind = "store_up"     // the Store answers again; sharing resumes
	// EventStoreCorrupt: a value read from the Store was corrupt or forged (Err says
	// what failed, never the value); it counts as absent and is overwritten.
	EventStoreCorrupt EventKind = "store_corrupt"
)

// Event is one thing that happened in a Source, for hooks, metrics and logs. It
// carries no token or secret.
type Event struct {
	Kind     EventKind
	Source   string        // the Source's name
	Time     time.Time     // by the Source's clock
	Expiry   time.Time     // the token's expiry, for fetched, adopted and invalidated
	Duration time.Duration // how long the fetch took, for fetched
	Err      error         // for fetch_failed, store_down and store_corrupt
	From, To string        // breaker states, for breaker
}

func logEvent(l *slog.Logger, ev Event) {
	level := slog.LevelDebug
	attrs := []slog.Attr{slog.String("source", ev.Source)}
	switch ev.Kind {
	case EventFetched, EventInvalidated, EventAdopted:
		attrs = append(attrs, slog.Time("expiry", ev.Expiry))
		if ev.Duration > 0 {
			attrs = append(attrs, slog.Duration("took", ev.Duration))
		}
	case EventFetchFailed:
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("error", ev.Err.Error()))
	case EventBreaker:
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("from", ev.From), slog.String("to", ev.To))
	case EventStoreDown:
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("error", ev.Err.Error()))
	case EventStoreUp:
		level = slog.LevelInfo
	case EventStoreCorrupt:
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("error", ev.Err.Error()))
	}
	l.LogAttrs(context.Background(), level, "tokentrip: "+string(ev.Kind), attrs...)
}

// Stats is a snapshot of what a Source has done, for operators' dashboards.
type Stats struct {
	Fetches        uint64    // token-endpoint fetches started
	Failures       uint64    // fetches that failed, breaker refusals included
	RefreshesAhead uint64    // background refreshes started before expiry
	Invalidations  uint64    // cached tokens dropped after a rejection
	BreakerChanges uint64    // breaker state changes
	Breaker        string    // the breaker's state now
	Expiry         time.Time // the cached token's expiry, zero if none
}

type counters struct {
	fetches, failures, refreshesAhead, invalidations, breakerChanges atomic.Uint64
}

// Stats returns a snapshot of the Source's counters.
func (s *Source) Stats() Stats {
	st := Stats{
		Fetches:        s.stats.fetches.Load(),
		Failures:       s.stats.failures.Load(),
		RefreshesAhead: s.stats.refreshesAhead.Load(),
		Invalidations:  s.stats.invalidations.Load(),
		BreakerChanges: s.stats.breakerChanges.Load(),
		Breaker:        s.BreakerState(),
	}
	if e := s.cur.Load(); e != nil {
		st.Expiry = e.tok.Expiry
	}
	return st
}
