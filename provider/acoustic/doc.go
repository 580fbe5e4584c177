// Package acoustic authenticates calls to Acoustic Campaign's REST and XML APIs with
// OAuth access tokens bought with a long-lived refresh token. It knows the pods'
// hosts, the four-hour token lifetime and the rule that a new token is issued only
// once the current one is three hours old, the XML API's ways of rejecting a token,
// and the org's cap on requests in flight.
//
// NewClient returns an *http.Client whose requests to the org's pod carry a valid
// "Authorization: Bearer" token:
//
//	client, err := acoustic.NewClient(acoustic.Config{
//		Pod:          "6",
//		ClientID:     os.Getenv("ACOUSTIC_CLIENT_ID"),
//		ClientSecret: os.Getenv("ACOUSTIC_CLIENT_SECRET"),
//		RefreshToken: os.Getenv("ACOUSTIC_REFRESH_TOKEN"),
//	})
//	resp, err := client.Post("https://api-campaign-eu-1.goacoustic.com/XMLAPI",
//		"text/xml;charset=UTF-8", strings.NewReader(`<Envelope><Body><GetLists>…`))
//
// The token is fetched once and shared by every goroutine, refreshed in the
// background as soon as Acoustic will issue a new one, and fetched again — with the
// request replayed once — when the API answers 401, an empty body, or an XML API
// fault 145 ("session expired or invalid"). Acoustic rejects an org's eleventh
// concurrent request, so the client keeps at most ten in flight (see Limiter).
package acoustic
