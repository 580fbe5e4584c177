package emulator

import (
	"strings"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/manualclock"
)

func TestTokenVerdicts(t *testing.T) {
	clock := manualclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	ts := NewTokens(clock.Now)
	now := clock.Now()
	issue := func(kind Kind, client string) string {
		return ts.Add(Token{Kind: kind, ClientID: client, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}).Value
	}
	access := issue(AccessToken, "a")
	refresh := issue(RefreshToken, "a")
	revoked := issue(AccessToken, "a")
	ts.Revoke(revoked)
	expired := issue(AccessToken, "a")
	ts.Expire(expired)
	other := issue(AccessToken, "b")

	tests := []struct {
		name  string
		value string
		kind  Kind
		want  Verdict
	}{
		{"valid access token", access, AccessToken, Valid},
		{"refresh token used as an access token", refresh, AccessToken, Unknown},
		{"access token used as a refresh token", access, RefreshToken, Unknown},
		{"never issued", "at-nope", AccessToken, Unknown},
		{"empty", "", AccessToken, Unknown},
		{"revoked", revoked, AccessToken, Revoked},
		{"expired", expired, AccessToken, Expired},
		{"another client's, still valid", other, AccessToken, Valid},
	}
	for _, tt := range tests {
		if _, got := ts.Check(tt.value, tt.kind); got != tt.want {
			t.Errorf("%s: verdict %v, want %v", tt.name, got, tt.want)
		}
	}
	if !strings.HasPrefix(access, "at-") || !strings.HasPrefix(refresh, "rt-") {
		t.Errorf("prefixes: %q, %q", access, refresh)
	}

	clock.Advance(time.Hour - time.Nanosecond)
	if _, v := ts.Check(access, AccessToken); v != Valid {
		t.Errorf("just before expiry: %v", v)
	}
	clock.Advance(time.Nanosecond)
	if _, v := ts.Check(access, AccessToken); v != Expired {
		t.Errorf("at expiry: %v", v)
	}
}

func TestSpendIsSingleUse(t *testing.T) {
	ts := NewTokens(nil)
	now := time.Now()
	rt := ts.Add(Token{Kind: RefreshToken, ClientID: "a", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}).Value

	if _, v := ts.Spend(rt, RefreshToken, "b"); v != Unknown {
		t.Errorf("another client spending: %v, want Unknown", v)
	}
	if _, v := ts.Spend(rt, RefreshToken, "a"); v != Valid {
		t.Errorf("first spend: %v, want Valid", v)
	}
	if _, v := ts.Spend(rt, RefreshToken, "a"); v != Spent {
		t.Errorf("second spend: %v, want Spent", v)
	}
}

func TestRevokeClientAndSupersede(t *testing.T) {
	ts := NewTokens(nil)
	now := time.Now()
	add := func(kind Kind, client string) string {
		return ts.Add(Token{Kind: kind, ClientID: client, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}).Value
	}
	a1, a2, aRefresh, b1 := add(AccessToken, "a"), add(AccessToken, "a"), add(RefreshToken, "a"), add(AccessToken, "b")

	ts.Supersede("a", AccessToken, a2)
	for value, want := range map[string]Verdict{a1: Revoked, a2: Valid, b1: Valid} {
		if _, got := ts.Check(value, AccessToken); got != want {
			t.Errorf("after Supersede: %v, want %v", got, want)
		}
	}
	if _, got := ts.Check(aRefresh, RefreshToken); got != Valid {
		t.Errorf("Supersede of access tokens touched a refresh token: %v", got)
	}

	ts.RevokeClient("a")
	if _, got := ts.Check(a2, AccessToken); got != Revoked {
		t.Errorf("after RevokeClient: %v", got)
	}
	if _, got := ts.Check(aRefresh, RefreshToken); got != Revoked {
		t.Errorf("after RevokeClient, refresh token: %v", got)
	}
	if _, got := ts.Check(b1, AccessToken); got != Valid {
		t.Errorf("another client's token after RevokeClient: %v", got)
	}
}

func TestCountersSnapshotIsACopy(t *testing.T) {
	var c Counters
	c.TokenRequest("client_credentials")
	c.TokenRequest("")
	c.Reject(ReasonInvalidClient)
	snap := c.Snapshot()
	snap.Rejections[ReasonInvalidClient] = 99
	if got := c.Snapshot(); got.TokenRequests != 2 || got.TokenRequestsByGrant["client_credentials"] != 1 ||
		len(got.TokenRequestsByGrant) != 1 || got.Rejections[ReasonInvalidClient] != 1 {
		t.Errorf("snapshot = %+v", got)
	}
	c.Reset()
	if got := c.Snapshot(); got.TokenRequests != 0 || got.Calls == nil || len(got.Rejections) != 0 {
		t.Errorf("after Reset: %+v", got)
	}
}
