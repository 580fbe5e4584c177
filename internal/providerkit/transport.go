package providerkit

import (
	"net/http"
	"time"

	"github.com/tokentrip/tokentrip/envelope"
	"github.com/tokentrip/tokentrip/internal/overlay"
	"github.com/tokentrip/tokentrip/internal/storekey"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/transport"
)

// Credential is what tells one credential's tokens from another's: the client, the
// business unit, the scope and, where tokens are bought with a user's refresh
// token, a key of that user (never the refresh token itself).
type Credential struct {
	ClientID  string
	AccountID string
	Scope     string
	Subject   string
}

// Vendor is what a provider adds to the Source and Transport every provider builds.
type Vendor struct {
	// Hosts are the vendor's hosts for the credential; Common.Transport.Hosts
	// join them.
	Hosts []string
	// Rejected and SOAP are the vendor's verdict and SOAP credential; the ones set
	// in Common.Transport replace them.
	Rejected func(*http.Response) bool
	SOAP     func(transport.Token) envelope.Credential
	// RefreshLead is the vendor's refresh lead, when it has one; the one set in
	// Common.Source replaces it.
	RefreshLead time.Duration
	// Base, when set, wraps the RoundTripper the API calls go through
	// (Common.Transport.Base, or transport.DefaultBase), as Acoustic's in-flight
	// cap does.
	Base func(http.RoundTripper) http.RoundTripper
}

// SourceName is the name of the credential's Source in events, logs, metrics and
// the breaker: "<provider>/<short hash of the client and business unit>". A client
// id must not appear where it is printed.
func (k Kit) SourceName(cred Credential) string {
	return k.Name + "/" + storekey.Key{Provider: k.Name, ClientID: cred.ClientID, AccountID: cred.AccountID}.ID()[:8]
}

// StoreKey is the key of the credential's token in Common.Source.Store: a hash of
// every field of cred, so that business units, scopes and users never share a
// token and the Store sees none of them.
func (k Kit) StoreKey(cred Credential) string {
	return storekey.Key{Provider: k.Name, ClientID: cred.ClientID, AccountID: cred.AccountID, Scope: cred.Scope, Subject: cred.Subject}.ID()
}

// Transport returns a Transport over a new Source of p. The Source takes c.Source,
// with the provider's name and store key (and v's refresh lead) where c leaves
// them zero; the Transport takes v's hosts joined by c.Transport.Hosts, and v's
// verdict and SOAP credential unless c.Transport sets its own.
func (k Kit) Transport(p transport.Provider, c provider.Common, cred Credential, v Vendor) *transport.Transport {
	src := transport.NewSource(p, overlay.Settings(c.Source, transport.Settings{
		Name:        k.SourceName(cred),
		RefreshLead: v.RefreshLead,
		StoreKey:    k.StoreKey(cred),
	}))
	opts := overlay.Options(transport.Options{Hosts: v.Hosts, Rejected: v.Rejected, SOAP: v.SOAP}, c.Transport)
	if v.Base != nil {
		base := opts.Base
		if base == nil {
			base = transport.DefaultBase()
		}
		opts.Base = v.Base(base)
	}
	return transport.New(src, opts)
}

// Client is a provider's NewClient: the Transport of its NewTransport in an
// *http.Client.
func Client(tr *transport.Transport, err error) (*http.Client, error) {
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: tr}, nil
}

// Build is a provider's NewTransport: the Transport that newTransport makes of the
// Provider newProvider makes of cfg, or newProvider's error.
func Build[C, P any](cfg C, newProvider func(C) (P, error), newTransport func(P) *transport.Transport) (*transport.Transport, error) {
	p, err := newProvider(cfg)
	if err != nil {
		return nil, err
	}
	return newTransport(p), nil
}
