package transport

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// EventKind names what happened in a Source.
type EventKind string

// The events a Source reports to its hook and logger. The Transport reports
// replayed, rejected_again and not_injected through its Source.
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

	// EventReplayed: a rejected request was replayed with a fresh token.
	EventReplayed EventKind = "replayed"
	// EventRejectedAgain: the replay with a fresh token was rejected too (or the
	// first request with a token fetched after a rejection was, or fresh tokens
	// keep being refused soon after a replay showed they work): the rejection
	// persists. Reported once per token; later rejections of it are returned as
	// they came, without a fetch, until the Source's backoff has passed.
	EventRejectedAgain EventKind = "rejected_again"
	// EventNotInjected: an XML body went out through a SOAP-enabled Transport
	// without the credential in its envelope, because its Content-Type is not
	// SOAP. Err names the media type and how to fix it.
	EventNotInjected EventKind = "not_injected"
)

// Event is one thing that happened in a Source, for hooks, metrics and logs. It
// carries no token or secret.
type Event struct {
	Kind     EventKind
	Source   string        // the Source's name
	Time     time.Time     // by the Source's clock
	Expiry   time.Time     // the token's expiry, for fetched, adopted, invalidated, replayed and rejected_again
	Duration time.Duration // how long the fetch took, for fetched and fetch_failed
	Err      error         // for fetch_failed, store_down, store_corrupt and not_injected
	From, To string        // breaker states, for breaker
}

func logEvent(l *slog.Logger, ev Event) {
	level := slog.LevelDebug
	attrs := []slog.Attr{slog.String("source", ev.Source)}
	switch ev.Kind {
	case EventFetched, EventInvalidated, EventAdopted, EventReplayed:
		attrs = append(attrs, slog.Time("expiry", ev.Expiry))
		if ev.Duration > 0 {
			attrs = append(attrs, slog.Duration("took", ev.Duration))
		}
	case EventFetchFailed:
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("error", ev.Err.Error()))
		if ev.Duration > 0 {
			attrs = append(attrs, slog.Duration("took", ev.Duration))
		}
	case EventBreaker:
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("from", ev.From), slog.String("to", ev.To))
	case EventStoreDown, EventNotInjected:
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("error", ev.Err.Error()))
	case EventRejectedAgain:
		level = slog.LevelWarn
		attrs = append(attrs, slog.Time("expiry", ev.Expiry))
	case EventStoreUp:
		level = slog.LevelInfo
	case EventStoreCorrupt:
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("error", ev.Err.Error()))
	}
	l.LogAttrs(context.Background(), level, "tokentrip: "+string(ev.Kind), attrs...)
}

// Stats is a snapshot of what a Source, and the Transports over it, have done, for
// operators' dashboards.
type Stats struct {
	Fetches        uint64    // token-endpoint fetches started
	Failures       uint64    // fetches that failed, breaker refusals included
	RefreshesAhead uint64    // background refreshes started before expiry
	Invalidations  uint64    // cached tokens dropped after a rejection
	BreakerChanges uint64    // breaker state changes
	Breaker        string    // the breaker's state now: "closed", "half-open" or "open"
	Expiry         time.Time // the cached token's expiry, zero if none

	// What the Transports over the Source did with rejections.
	Replays       uint64 // requests replayed after a rejection
	Unreplayable  uint64 // rejections returned as they were because the body could not be replayed
	RejectedAgain uint64 // replays rejected with the fresh token too
	Persisted     uint64 // rejections returned as they were, without a fetch, because a fresh token had been rejected too
	NotInjected   uint64 // XML bodies sent without the credential in them because their Content-Type is not SOAP
}

// counters are the Source's Stats. Only cold paths count: a shared counter on
// every request would cost more than the rest of the hot path.
type counters struct {
	fetches, failures, refreshesAhead, invalidations, breakerChanges atomic.Uint64
	replays, unreplayable, rejectedAgain, persisted, notInjected     atomic.Uint64
}

// Stats returns a snapshot of the Source's counters.
func (s *Source) Stats() Stats {
	st := Stats{
		Fetches:        s.stats.fetches.Load(),
		Failures:       s.stats.failures.Load(),
		RefreshesAhead: s.stats.refreshesAhead.Load(),
		Invalidations:  s.stats.invalidations.Load(),
		BreakerChanges: s.stats.breakerChanges.Load(),
		Breaker:        s.gate.state().String(),
		Replays:        s.stats.replays.Load(),
		Unreplayable:   s.stats.unreplayable.Load(),
		RejectedAgain:  s.stats.rejectedAgain.Load(),
		Persisted:      s.stats.persisted.Load(),
		NotInjected:    s.stats.notInjected.Load(),
	}
	if e := s.cur.Load(); e != nil {
		st.Expiry = e.tok.Expiry
	}
	return st
}
