// Package overlay lays a user's transport.Settings and transport.Options over the
// ones a provider derives from its Config, the same way for every provider: what
// the user set wins, what the user left zero keeps the provider's value.
package overlay

import "github.com/tokentrip/tokentrip/transport"

// Settings returns user with each zero field taken from def. A user's Store
// without a StoreKey takes def's StoreKey: the provider's key for the credential.
func Settings(user, def transport.Settings) transport.Settings {
	s := user
	s.Name = or(s.Name, def.Name)
	if s.Clock == nil {
		s.Clock = def.Clock
	}
	s.RefreshLead = or(s.RefreshLead, def.RefreshLead)
	s.ExpiryMargin = or(s.ExpiryMargin, def.ExpiryMargin)
	s.DefaultLifetime = or(s.DefaultLifetime, def.DefaultLifetime)
	s.FetchTimeout = or(s.FetchTimeout, def.FetchTimeout)
	if s.Backoff == nil {
		s.Backoff = def.Backoff
	}
	s.Breaker = or(s.Breaker, def.Breaker)
	if s.Hook == nil {
		s.Hook = def.Hook
	}
	if s.Logger == nil {
		s.Logger = def.Logger
	}
	if s.Store == nil {
		s.Store = def.Store
	}
	s.StoreKey = or(s.StoreKey, def.StoreKey)
	s.StoreTimeout = or(s.StoreTimeout, def.StoreTimeout)
	s.StoreRetry = or(s.StoreRetry, def.StoreRetry)
	return s
}

// Options returns def with each of over laid on it in turn: its Hosts join def's,
// and each of its other fields that is set replaces def's.
func Options(def transport.Options, over ...transport.Options) transport.Options {
	o := def
	for _, u := range over {
		o.Hosts = append(o.Hosts[:len(o.Hosts):len(o.Hosts)], u.Hosts...)
		if u.Base != nil {
			o.Base = u.Base
		}
		if u.Rejected != nil {
			o.Rejected = u.Rejected
		}
		o.ReplayLimit = or(u.ReplayLimit, o.ReplayLimit)
		if u.Authorize != nil {
			o.Authorize = u.Authorize
		}
		if u.SOAP != nil {
			o.SOAP = u.SOAP
		}
	}
	return o
}

// or returns v, or def when v is zero.
func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
