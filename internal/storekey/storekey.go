// Package storekey derives the key under which a provider's token is shared in a
// Store (transport.Settings.StoreKey), the same way for every provider and every
// release: a hash of what tells credentials apart, never a client id in clear.
package storekey

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
)

// Key names one credential's token in a Store. Tokens differ per provider, client,
// business unit (account) and scope, so all of them belong in the key; Subject
// tells apart the users of an authorization-code flow.
type Key struct {
	Provider  string // "mcv1", "mcv2", "acoustic", …
	ClientID  string
	AccountID string // the MID of a Marketing Cloud business unit, if any
	Scope     string
	Subject   string // the user a token was issued to, in code flows
}

// ID returns the key a Store keeps the token under: the hex SHA-256 of the fields,
// so that no client id appears in the Store. Processes of different releases must
// agree on it, so it never changes.
func (k Key) ID() string {
	h := sha256.New()
	h.Write([]byte("tokentrip store key v1"))
	for _, f := range []string{k.Provider, k.ClientID, k.AccountID, k.Scope, k.Subject} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// String names the key by its ID only.
func (k Key) String() string { return "storekey.Key{" + k.ID()[:16] + "…}" }

// GoString keeps %#v from printing the client id.
func (k Key) GoString() string { return k.String() }
