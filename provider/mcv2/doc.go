// Package mcv2 authenticates calls to Salesforce Marketing Cloud with an enhanced
// installed package, through POST /v2/token. It provides a transport.Provider for
// server-to-server integrations (client_credentials) and for web and public apps
// (authorization_code, then rotating refresh tokens), and one-line constructors of
// an http.RoundTripper and an *http.Client that carry those tokens.
//
// # Server to server
//
// A package with a client id and secret needs nothing else:
//
//	client, err := mcv2.NewClient(mcv2.Config{
//		Subdomain:    "mc563885gzs27c5t9-63k636tzgm",
//		ClientID:     "…",
//		ClientSecret: "…",
//		AccountID:    "12345", // the business unit (MID) the token is for
//	})
//
// A token works only in the business unit it was requested for and does not flow
// down to child business units: use one Config (and one client) per business unit.
//
// # Web and public apps
//
// A user authorises the app once: Provider.AuthorizeURL sends the browser to
// Marketing Cloud, ParseCallback checks what comes back, and Provider.Exchange
// redeems the code for an access token and a refresh token, which it keeps in
// Config.RefreshTokens. From then on the Provider renews the access token with the
// refresh_token grant. Each renewal spends the refresh token and returns a new one,
// which is saved before the access token is used, and renewals by one Provider never
// overlap, so a refresh token is never spent twice. Refresh tokens live 30 days by
// default and are revoked when the user logs out unless the package grants, and the
// app requests, the "offline" scope.
//
// An app with several users gives each its own Config.RefreshTokenKey, and keeps the
// tenant each user came from (Provider.Subdomain, set from the callback's tssd) to
// build that user's Config again after a restart.
//
// # Tenant endpoints
//
// Every token carries the tenant's REST and SOAP base URLs (Token.RESTInstanceURL
// and Token.SOAPInstanceURL, normalised to "https://…/"); read them from the
// Transport's Source. Their hosts join the Transport's scope by themselves, and the
// Transport puts the token in an Authorization header for REST and in a fueloauth
// header for SOAP envelopes, so the same client serves both APIs.
//
// # Errors
//
// A failed fetch is a *transport.FetchError with Marketing Cloud's code and message
// and a hint. Its kind says what to do: invalid_client and invalid_grant (a bad,
// spent or expired code or refresh token) are transport.ErrCredentialsRejected —
// fix the credentials or send the user through AuthorizeURL again;
// unauthorized_client, unsupported_grant_type and a legacy package ("not eligible":
// use provider/mcv1) are transport.ErrConfig; throttling, 5xx and malformed answers
// are transport.ErrEndpoint, after the retries.
//
// # Token budget
//
// Marketing Cloud tokens live 20 minutes, and the vendor asks for no more than one
// token per package every 20 minutes or so, renewed two to five minutes before
// expiry; asking for a token per call gets the package throttled (429). The
// transport.Source behind NewTransport does exactly that: one token shared by every
// goroutine, renewed in the background five minutes before expiry.
package mcv2
