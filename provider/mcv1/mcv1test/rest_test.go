package mcv1test_test

import (
	"testing"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/emulator/emulatortest"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
)

func TestREST(t *testing.T) {
	srv := mcv1test.NewServer()
	defer srv.Close()
	tok := fetchToken(t, srv, tokenBody()).AccessToken

	tests := []struct {
		name   string
		method string
		path   string
		body   string
		auth   string
		status int
		want   string
		reason string
	}{
		{
			name: "GET with a token", method: "GET", path: "/platform/v1/endpoints", auth: "Bearer " + tok,
			status: 200, want: `{"ok":true,"method":"GET","path":"/platform/v1/endpoints","bodyLength":0}`,
		},
		{
			name: "POST echoes the body length", method: "POST", path: "/hub/v1/dataevents/key:x/rowset", body: `[{"a":1}]`, auth: "Bearer " + tok,
			status: 200, want: `{"ok":true,"method":"POST","path":"/hub/v1/dataevents/key:x/rowset","bodyLength":9}`,
		},
		{
			name: "scheme is case-insensitive", method: "DELETE", path: "/rest/x", auth: "bearer " + tok,
			status: 200, want: `{"ok":true,"method":"DELETE","path":"/rest/x","bodyLength":0}`,
		},
		{
			name: "no Authorization", method: "GET", path: "/platform/v1/endpoints",
			status: 401, want: emulatortest.MCNotAuthorized, reason: emulator.ReasonMissingToken,
		},
		{
			name: "Basic instead of Bearer", method: "GET", path: "/platform/v1/endpoints", auth: "Basic " + tok,
			status: 401, want: emulatortest.MCNotAuthorized, reason: emulator.ReasonMissingToken,
		},
		{
			name: "unknown token", method: "GET", path: "/platform/v1/endpoints", auth: "Bearer at-nope",
			status: 401, want: emulatortest.MCNotAuthorized, reason: emulator.ReasonInvalidToken,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.ResetStats()
			r := send(t, srv, tt.method, tt.path, "application/json", tt.body, emulatortest.Header("Authorization", tt.auth)...)
			emulatortest.WantReply(t, r, tt.status, tt.want)
			want := map[string]int{}
			if tt.reason != "" {
				want[tt.reason] = 1
			}
			emulatortest.WantRejections(t, srv.Stats().Rejections, want)
			if st := srv.Stats(); st.RESTCalls != 1 {
				t.Errorf("RESTCalls = %d, want 1", st.RESTCalls)
			}
		})
	}
}
