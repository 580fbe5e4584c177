package storekey_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tokentrip/tokentrip/internal/storekey"
)

func TestKeyRevealsNothingAndTellsCredentialsApart(t *testing.T) {
	key := storekey.Key{Provider: "mcv2", ClientID: "client-id-1234", AccountID: "5150", Scope: "email_read"}
	ids := map[string]storekey.Key{}
	for _, k := range []storekey.Key{
		key,
		{Provider: "mcv2", ClientID: "client-id-1234", AccountID: "5151", Scope: "email_read"},
		{Provider: "mcv2", ClientID: "client-id-1234", AccountID: "5150", Scope: "email_read email_write"},
		{Provider: "mcv1", ClientID: "client-id-1234", AccountID: "5150", Scope: "email_read"},
		{Provider: "mcv2", ClientID: "client-id-123", AccountID: "45150", Scope: "email_read"}, // same bytes, other split
		{Provider: "mcv2", ClientID: "client-id-1234", AccountID: "5150", Scope: "email_read", Subject: "user-1"},
	} {
		id := k.ID()
		if prev, dup := ids[id]; dup {
			t.Fatalf("%#v and %#v share an ID", prev, k)
		}
		ids[id] = k
		if len(id) != 64 || strings.Contains(id, k.ClientID) {
			t.Fatalf("ID %q", id)
		}
		for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v", k, k, k)} {
			if strings.Contains(s, k.ClientID) {
				t.Fatalf("formatting shows the client id: %s", s)
			}
		}
	}
	// Processes running different releases must agree on the key: the ID is fixed.
	if id := key.ID(); id != "592ef4d30c40a64016fffe45b05ba8edc6ba7a1747ca613244e52ba3932d9e62" {
		t.Fatalf("Key.ID changed to %s: processes of the old and new release would not share", id)
	}
}
