package emulator

import (
	"net/http"
)

// ServeSOAP serves the Marketing Cloud SOAP API. The envelope (SOAP 1.1 or 1.2)
// must carry exactly one credential in its Header: a fueloauth (or legacy oAuth)
// block with a valid access token, or a WS-Security UsernameToken of a registered
// API user. Success is 200 with the partner API's answer to the Body's operation
// (see partnerOperations), OverallStatus OK, its elements in the WSDL's order.
//
// Failures, all HTTP 500 with a fault in the request's SOAP version except the
// first, which is 400 with a SOAP 1.1 fault when the version cannot be told:
//   - body that is not a SOAP envelope: Client fault;
//   - throttled by the test: Server fault "Rate Limited", apifault Code 17;
//   - no credential: Security fault, FaultNoSecurity;
//   - more than one credential: Client fault, FaultDuplicateCreds;
//   - expired token: Security fault "Token Expired";
//   - unknown or revoked token, wrong username or password: Security fault "Login Failed";
//   - a Body whose operation is not the partner API's: Client fault.
func (m *MarketingCloud) ServeSOAP(w http.ResponseWriter, r *http.Request) {
	c := m.core
	done, ok := c.BeginAPICall(CallSOAP)
	if !ok {
		writeSOAP(w, http.StatusInternalServerError, soapReply{
			version: SOAP11,
			action:  wsaFaultAction,
			now:     c.Now(),
			body:    faultXML(SOAP11, soapFault{kind: faultServer, reason: FaultRateLimited, detail: rateLimitedDetail}, endpointURL(r)),
		})
		return
	}
	defer done()
	if c.PauseAPI(r.Context()) != nil {
		return
	}
	if r.Method != http.MethodPost {
		c.Counters.Reject(ReasonBadRequest)
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "the SOAP endpoint takes POST", http.StatusMethodNotAllowed)
		return
	}
	body, err := ReadBody(w, r)
	if err != nil {
		c.Counters.Reject(ReasonBadRequest)
		return
	}
	c.RecordEnvelope(body)

	now := c.Now()
	actor := endpointURL(r)
	env, err := ParseEnvelope(body)
	if err != nil {
		c.Counters.Reject(ReasonMalformedEnvelope)
		writeSOAP(w, http.StatusBadRequest, soapReply{
			version: SOAP11,
			action:  wsaFaultAction,
			now:     now,
			body:    faultXML(SOAP11, soapFault{kind: faultClient, reason: "Malformed SOAP envelope: " + err.Error()}, actor),
		})
		return
	}
	fail := func(reason string, f soapFault) {
		c.Counters.Reject(reason)
		writeSOAP(w, http.StatusInternalServerError, soapReply{
			version:   env.Version,
			action:    wsaFaultAction,
			relatesTo: env.MessageID,
			now:       now,
			body:      faultXML(env.Version, f, actor),
		})
	}

	if c.Faults.NextThrottled() {
		fail(ReasonThrottled, soapFault{kind: faultServer, reason: FaultRateLimited, detail: rateLimitedDetail})
		return
	}
	switch len(env.Credentials) {
	case 0:
		fail(ReasonMissingToken, soapFault{kind: faultSecurity, reason: FaultNoSecurity})
		return
	case 1:
	default:
		fail(ReasonDuplicateCredentials, soapFault{kind: faultClient, reason: FaultDuplicateCreds})
		return
	}
	if reason := m.authenticate(env.Credentials[0]); reason != "" {
		text := FaultLoginFailed
		if reason == ReasonExpiredToken {
			text = FaultTokenExpired
		}
		fail(reason, soapFault{kind: faultSecurity, reason: text})
		return
	}

	op, ok := partnerOperations[env.Operation]
	if !ok || env.OperationNS != partnerAPINS {
		fail(ReasonMalformedEnvelope, soapFault{kind: faultClient, reason: unknownOperation(env)})
		return
	}
	writeSOAP(w, http.StatusOK, soapReply{
		version:   env.Version,
		action:    op.action + "Response",
		relatesTo: env.MessageID,
		now:       now,
		body:      op.answer(env.Objects),
	})
}

// authenticate returns "" for a good credential, else the rejection reason.
func (m *MarketingCloud) authenticate(cred Credential) string {
	if cred.Kind == UsernameToken {
		password, ok := m.apiUsers[cred.Username]
		if !ok || !SecretsEqual(password, cred.Password) {
			return ReasonInvalidToken
		}
		return ""
	}
	_, verdict := m.core.Tokens.Check(cred.Token, AccessToken)
	return verdict.Reason()
}
