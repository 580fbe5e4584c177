// Package mcv1 authenticates calls to Salesforce Marketing Cloud with the client id
// and secret of a legacy installed package, through POST /v1/requestToken. It turns
// a Config into an http.RoundTripper that fetches, shares, refreshes and applies the
// token, including the single-use refresh tokens of offline access.
//
// # One token per client id
//
// Marketing Cloud documents that when two servers request tokens for the same
// legacy client id, each request can invalidate the token the other holds. Create
// one Transport (or one transport.Source) per client id and share it among every
// goroutine and every http.Client of the process. Servers (processes) that share
// one legacy package must share a Store as well, or each call of one may revoke
// the token of the other: after two such rounds each Transport spaces its token
// requests, and calls in between get the 401 as it came:
//
//	st, err := redisstore.New(rdb, redisstore.Options{EncryptionKey: key}) // package store/redis; rdb: a go-redis client
//	cfg := mcv1.Config{Subdomain: "mc…", ClientID: id, ClientSecret: secret}
//	cfg.Source.Store = st // the Source's settings: provider.Common
//	tr, err := mcv1.NewTransport(cfg)
//
// With the Store the fleet fetches one token per token lifetime and every server
// adopts it. Without it, a call whose token another server's fetch revoked is
// rejected, and the Transport replays it once with a new token — which revokes the
// other server's.
//
// # Offline access
//
// With Config.Offline the first request asks for "accessType":"offline" and
// receives a refresh token; every later fetch redeems the stored refresh token and
// stores its successor (with store.RefreshTokens.CompareAndSwap) before the access
// token is handed out. Refresh tokens are single use and live up to 700 days, so the
// Provider never runs two exchanges at once. When Marketing Cloud rejects the
// stored refresh token (spent, expired or revoked) the Provider re-authorises with
// the client credentials in the same Fetch and stores the refresh token that comes
// back.
//
// # Enhanced packages
//
// Enhanced installed packages get their tokens from /v2/token: use provider/mcv2
// for them. This package reports an enhanced package's client id as a
// configuration error (errorcode 10007).
package mcv1
