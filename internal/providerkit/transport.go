package providerkit

import (
	"net/http"
	"slices"
	"time"

	"github.com/tokentrip/tokentrip/envelope"
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

// Transport returns a Transport over a new Source of p, configured by settings
// and options.
func (k Kit) Transport(p transport.Provider, c provider.Common, cred Credential, v Vendor) *transport.Transport {
	return transport.New(transport.NewSource(p, k.settings(c.Source, cred, v)), options(c.Transport, v))
}

// settings returns the user's Settings with the provider's name and store key,
// and v's refresh lead, where the user left them zero: a user's Store without a
// StoreKey keeps the credential's token under the provider's key.
func (k Kit) settings(user transport.Settings, cred Credential, v Vendor) transport.Settings {
	s := user
	if s.Name == "" {
		s.Name = k.SourceName(cred)
	}
	if s.RefreshLead == 0 {
		s.RefreshLead = v.RefreshLead
	}
	if s.StoreKey == "" {
		s.StoreKey = k.StoreKey(cred)
	}
	return s
}

// options returns the user's Options over v: v's hosts joined by the user's
// (v.Hosts is not written to), v's verdict and SOAP credential unless the user
// sets one, and the base (the user's, or transport.DefaultBase) wrapped by v.Base.
func options(user transport.Options, v Vendor) transport.Options {
	o := user
	o.Hosts = append(slices.Clip(v.Hosts), user.Hosts...)
	if o.Rejected == nil {
		o.Rejected = v.Rejected
	}
	if o.SOAP == nil {
		o.SOAP = v.SOAP
	}
	if v.Base != nil {
		if o.Base == nil {
			o.Base = transport.DefaultBase()
		}
		o.Base = v.Base(o.Base)
	}
	return o
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
