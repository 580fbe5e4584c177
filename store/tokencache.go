package store

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/tokentrip/tokentrip/internal/tokenwire"
	"github.com/tokentrip/tokentrip/transport"
)

// Bounds of a TokenCache, as its documentation states them.
const (
	// maxCachedTokens is how many tokens a TokenCache keeps. When a save would
	// exceed it, expired tokens go first, then those that expire soonest.
	maxCachedTokens = 64
	// maxTokenCacheFile is the largest token file a TokenCache reads or writes: a
	// save that would exceed it drops the tokens that expire soonest, and a larger
	// file found in the directory counts as corrupt and is replaced at the next save.
	maxTokenCacheFile = 256 << 10
)

// Names inside a TokenCache's directory.
const (
	tokenCacheFile  = "tokens.json" // every token, replaced whole by rename
	tokenCacheWrite = "tokens.lock" // held while tokens.json is read, changed and replaced
	tokenCacheFetch = "fetch-"      // + a hash of the key + ".lock": the key's fetch lock
)

// tokenWaitPoll and tokenWaitMax pace TokenCache.Wait, which polls the fetch lock
// of another process.
const (
	tokenWaitPoll = 10 * time.Millisecond
	tokenWaitMax  = 250 * time.Millisecond
)

// TokenCache is a transport.Store in a directory, for short-lived runs — cron jobs,
// the CLI — that would otherwise fetch a new access token every time they start:
// the next run on the same machine adopts the token while it is fresh. Give it to a
// provider's Config.Source.Store.
//
// Tokens are kept in one file, readable by its owner only (0600), replaced whole
// by an atomic rename so that a reader never sees a torn file. Processes that
// start together take an flock(2) fetch lock per credential, so that one fetches
// and the others adopt its token; a lock dies with its process. At most 64 tokens
// are kept, in a file of at most 256 KiB: a save that would exceed either drops
// expired tokens first, then those that expire soonest, and a larger file found
// in the directory counts as corrupt and is replaced. The directory must not be
// writable by others, and the file must belong to the user and be private to
// them: a cache someone else could write is refused, since a planted token names
// the hosts it is sent to. Neither the file nor a lock file is followed if it is
// a symbolic link.
//
// A Store key names a credential by provider, client id, business unit and scope,
// not by its secret or its endpoint. When one directory serves credentials that
// may share a client id — an emulator and the real endpoint, a sandbox and
// production, a rotated or mistyped secret — give each its own view with Bind.
type TokenCache struct {
	dir  string
	now  func() time.Time
	bind *[sha256.Size]byte // nil: keys are used as they come (see Bind)
}

var _ transport.Store = (*TokenCache)(nil)

// NewTokenCache returns a TokenCache in dir, creating dir (mode 0700) if it does not
// exist. It fails if dir is writable by others, or if the platform has no flock.
func NewTokenCache(dir string) (*TokenCache, error) {
	if !flockSupported {
		return nil, fmt.Errorf("store: a token cache needs flock(2), which %w on this platform", errors.ErrUnsupported)
	}
	if dir == "" {
		return nil, errors.New("store: the token cache needs a directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: token cache: %w", err)
	}
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("store: token cache: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("store: token cache %s is not a directory", dir)
	}
	if err := private(info, true); err != nil {
		return nil, fmt.Errorf("store: token cache %s: %w", dir, err)
	}
	return &TokenCache{dir: dir, now: time.Now}, nil
}

// Bind returns a view of the cache whose keys are also bound to parts — the
// token endpoint, the client secret, the refresh token: whatever besides the
// Store key makes a token valid — so that a token saved through one view is
// never loaded through a view bound to other parts. The parts never reach the
// directory: only a SHA-256 over them and each key names the token there. Binding
// a bound view binds it to both.
func (c *TokenCache) Bind(parts ...string) *TokenCache {
	h := sha256.New()
	h.Write([]byte("tokentrip token cache binding v1"))
	if c.bind != nil {
		h.Write(c.bind[:])
	}
	for _, p := range parts {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	sum := [sha256.Size]byte(h.Sum(nil))
	return &TokenCache{dir: c.dir, now: c.now, bind: &sum}
}

// fileKey is the name under which key's token is kept: key itself, or in a bound
// view a hash of the binding and key.
func (c *TokenCache) fileKey(key string) string {
	if c.bind == nil {
		return key
	}
	h := sha256.New()
	h.Write(c.bind[:])
	h.Write([]byte(key))
	return hex.EncodeToString(h.Sum(nil))
}

// cachedToken is a token in the file, as a Source saved it, and until when it is
// handed out.
type cachedToken struct {
	cachedFields
	Until int64 `json:"until"` // not handed out from here on
}

// cachedFields are the fields of internal/tokenwire's Token, under the file's
// names, so that the two convert into each other. Times are Unix nanoseconds, 0
// for none.
type cachedFields struct {
	AccessToken  string `json:"access_token"`
	Expiry       int64  `json:"expiry"`
	RefreshAfter int64  `json:"refresh_after,omitempty"`
	REST         string `json:"rest_instance_url,omitempty"`
	SOAP         string `json:"soap_instance_url,omitempty"`
	Scope        string `json:"scope,omitempty"`
	Fetched      int64  `json:"fetched"`
	Refresh      string `json:"-"` // a Source's token is tied to no refresh token
}

// tokenFile is the file's content; keys are the Store's keys.
type tokenFile struct {
	Version int                    `json:"version"`
	Tokens  map[string]cachedToken `json:"tokens"`
}

const tokenFileVersion = 1

// ErrNewerTokenCache is returned by a TokenCache whose file was written by a newer
// tokentrip, in a format this one does not know. It neither reads nor replaces
// that file, so that the newer version's tokens survive; its Source fetches alone.
var ErrNewerTokenCache = errors.New("store: the token cache was written by a newer tokentrip")

// valid reports whether t has what every saved token has.
func (t cachedToken) valid() bool { return t.AccessToken != "" && t.Expiry > 0 && t.Until > 0 }

// Load implements transport.Store: the token saved under key, unless it is past
// the time it was saved for. A file or an entry that cannot be read is an error
// wrapping transport.ErrCorruptValue; the next save replaces it.
func (c *TokenCache) Load(_ context.Context, key string) ([]byte, bool, error) {
	f, err := c.read()
	if err != nil {
		return nil, false, err
	}
	t, ok := f.Tokens[c.fileKey(key)]
	switch {
	case !ok:
		return nil, false, nil
	case !t.valid():
		return nil, false, fmt.Errorf("%w: a token cache entry without a token, an expiry or a lifetime", transport.ErrCorruptValue)
	case !c.now().Before(time.Unix(0, t.Until)):
		return nil, false, nil
	}
	return tokenwire.Token(t.cachedFields).Encode(), true, nil
}

// Put implements transport.Store: a TokenCache keeps tokens only, so it keeps
// nothing put (a Source's breaker state stays in its process).
func (c *TokenCache) Put(context.Context, string, []byte, time.Duration) error { return nil }

// Lock implements transport.Store with an flock on the key's lock file. It returns
// nil and no error when another process, or another Source of this one, holds it.
func (c *TokenCache) Lock(_ context.Context, key string) (transport.FetchLock, error) {
	key = c.fileKey(key)
	f, err := lockPath(c.fetchLockPath(key), false)
	if err != nil || f == nil {
		return nil, err
	}
	return &tokenCacheLock{c: c, key: key, f: f}, nil
}

// Wait implements transport.Store: it returns once key's fetch lock is free, or
// after a quarter of a second, or when ctx ends.
func (c *TokenCache) Wait(ctx context.Context, key string) error {
	deadline := time.Now().Add(tokenWaitMax)
	path := c.fetchLockPath(c.fileKey(key))
	for {
		free, err := lockFree(path)
		if err != nil || free || !time.Now().Before(deadline) {
			return err
		}
		t := time.NewTimer(tokenWaitPoll) // the holder is another process: poll it
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// tokenCacheLock is a held fetch lock.
type tokenCacheLock struct {
	c   *TokenCache
	key string   // the key in the file (fileKey)
	f   *os.File // nil after Unlock
}

// Save implements transport.FetchLock: it writes the token value holds into the
// file for ttl. A value that is not a token is refused.
func (l *tokenCacheLock) Save(_ context.Context, value []byte, ttl time.Duration) error {
	if l.f == nil {
		return transport.ErrLockLost
	}
	t, err := tokenwire.DecodeToken(value)
	if err != nil {
		return fmt.Errorf("store: a token cache keeps tokens only: %w", err)
	}
	c := l.c
	w, err := lockPath(filepath.Join(c.dir, tokenCacheWrite), true)
	if err != nil {
		return err
	}
	defer unlockFile(w)
	f, err := c.read()
	switch {
	case errors.Is(err, transport.ErrCorruptValue):
		f = tokenFile{} // an unreadable file is replaced
	case err != nil:
		return err // one that others could write, or a newer version's, is not
	}
	if f.Tokens == nil {
		f.Tokens = map[string]cachedToken{}
	}
	now := c.now()
	t.Refresh = ""
	f.Tokens[l.key] = cachedToken{cachedFields: cachedFields(t), Until: now.Add(ttl).UnixNano()}
	f.Version = tokenFileVersion
	data, err := c.prune(&f, now, l.key)
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(c.dir, tokenCacheFile), data)
}

// Unlock implements transport.FetchLock.
func (l *tokenCacheLock) Unlock(context.Context) error {
	if l.f == nil {
		return nil
	}
	unlockFile(l.f)
	l.f = nil
	return nil
}

// prune drops unreadable and expired tokens, then those that expire soonest
// until at most maxCachedTokens remain and the file fits in maxTokenCacheFile,
// with their lock files; keep stays. It returns the file's new content.
func (c *TokenCache) prune(f *tokenFile, now time.Time, keep string) ([]byte, error) {
	var drop, live []string
	for k, t := range f.Tokens {
		switch {
		case k == keep:
		case !t.valid() || !now.Before(time.Unix(0, t.Until)):
			drop = append(drop, k)
		default:
			live = append(live, k)
		}
	}
	// The soonest to expire first.
	slices.SortFunc(live, func(a, b string) int {
		return cmp.Or(cmp.Compare(f.Tokens[a].Until, f.Tokens[b].Until), cmp.Compare(a, b))
	})
	if over := len(live) + 1 - maxCachedTokens; over > 0 {
		drop, live = append(drop, live[:over]...), live[over:]
	}
	for _, k := range drop {
		delete(f.Tokens, k)
	}
	data, err := marshalTokens(f)
	// Each entry costs about its own encoding: drop entries by that estimate, then
	// encode again, until the file fits (keep alone always does).
	for err == nil && len(data) > maxTokenCacheFile && len(live) > 0 {
		excess := len(data) - maxTokenCacheFile
		for excess > 0 && len(live) > 0 {
			k := live[0]
			one, _ := json.Marshal(f.Tokens[k])
			excess -= len(one) + len(k) + 4
			delete(f.Tokens, k)
			drop, live = append(drop, k), live[1:]
		}
		data, err = marshalTokens(f)
	}
	for _, k := range drop {
		// A lock file is removed only while nobody holds it; lockPath notices a
		// file removed under a waiting holder and starts again.
		if lf, err := lockPath(c.fetchLockPath(k), false); err == nil && lf != nil {
			_ = os.Remove(lf.Name())
			unlockFile(lf)
		}
	}
	return data, err
}

// marshalTokens encodes f as the file holds it, with <, > and & as they are (the
// HTML escapes would make a token of those six times its size).
func marshalTokens(f *tokenFile) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// errNotPrivate marks a cache file that others could have written.
var errNotPrivate = errors.New("others may write it")

// read returns the file's tokens; a missing file holds none. A file that is too
// large or not a token file is an error wrapping transport.ErrCorruptValue; one
// of a newer version wraps ErrNewerTokenCache; one that is not private, or not a
// regular file (a symbolic link, a FIFO), wraps errNotPrivate.
func (c *TokenCache) read() (tokenFile, error) {
	path := filepath.Join(c.dir, tokenCacheFile)
	fh, err := os.OpenFile(path, os.O_RDONLY|openNoFollow, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return tokenFile{}, nil
	}
	if err != nil {
		if isSymlink(path) {
			return tokenFile{}, fmt.Errorf("store: token cache %s: %w: a symbolic link, not a regular file", path, errNotPrivate)
		}
		return tokenFile{}, fmt.Errorf("store: token cache: %w", err)
	}
	defer fh.Close()
	info, err := fh.Stat()
	if err != nil {
		return tokenFile{}, fmt.Errorf("store: token cache: %w", err)
	}
	if !info.Mode().IsRegular() {
		return tokenFile{}, fmt.Errorf("store: token cache %s: %w: not a regular file", path, errNotPrivate)
	}
	if err := private(info, false); err != nil {
		return tokenFile{}, fmt.Errorf("store: token cache %s: %w", path, err)
	}
	data, err := io.ReadAll(io.LimitReader(fh, maxTokenCacheFile+1))
	if err != nil {
		return tokenFile{}, fmt.Errorf("store: token cache: %w", err)
	}
	if len(data) > maxTokenCacheFile {
		return tokenFile{}, fmt.Errorf("%w: token cache %s is larger than %d bytes", transport.ErrCorruptValue, path, maxTokenCacheFile)
	}
	var head struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return tokenFile{}, fmt.Errorf("%w: token cache %s is not a token file", transport.ErrCorruptValue, path)
	}
	if head.Version > tokenFileVersion {
		return tokenFile{}, fmt.Errorf("%w (format %d, this one knows %d): %s is left as it is", ErrNewerTokenCache, head.Version, tokenFileVersion, path)
	}
	var f tokenFile
	if err := json.Unmarshal(data, &f); err != nil || f.Version != tokenFileVersion {
		return tokenFile{}, fmt.Errorf("%w: token cache %s is not a token file", transport.ErrCorruptValue, path)
	}
	return f, nil
}

// fetchLockPath is the lock file of key: named by a hash, whatever key holds.
func (c *TokenCache) fetchLockPath(key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(c.dir, tokenCacheFetch+hex.EncodeToString(sum[:12])+".lock")
}

// lockPath opens (creating) the lock file at path and takes an exclusive flock on
// it, waiting for it if wait is set. It returns nil and no error when the lock is
// held and wait is not set. If the file was removed while this process waited for
// it, the lock would guard nothing, so it starts again.
func lockPath(path string, wait bool) (*os.File, error) {
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|openNoFollow, 0o600)
		if err != nil {
			return nil, fmt.Errorf("store: token cache lock: %w", err)
		}
		ok, err := flock(f, true, wait)
		if err != nil || !ok {
			f.Close()
			return nil, err
		}
		held, err1 := f.Stat()
		named, err2 := os.Stat(path)
		if err1 == nil && err2 == nil && os.SameFile(held, named) {
			return f, nil
		}
		unlockFile(f)
	}
}

// lockFree reports whether nobody holds the lock file at path (missing: free).
func lockFree(path string) (bool, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openNoFollow, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: token cache lock: %w", err)
	}
	defer f.Close()
	ok, err := flock(f, false, false)
	return ok, err // closing f releases the shared lock
}

// isSymlink reports whether path is a symbolic link.
func isSymlink(path string) bool {
	info, err := os.Lstat(path)
	return err == nil && info.Mode()&fs.ModeSymlink != 0
}

// unlockFile releases the flock on f by closing it.
func unlockFile(f *os.File) { _ = f.Close() }
