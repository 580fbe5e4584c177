//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package store

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// flockSupported says whether TokenCache can lock across processes here.
const flockSupported = true

// openNoFollow makes an open of a cache file fail on a symbolic link, and return
// at once on a FIFO (whose Stat then shows it is not a regular file) instead of
// waiting for a writer.
const openNoFollow = syscall.O_NOFOLLOW | syscall.O_NONBLOCK

// flock takes a shared or exclusive flock(2) on f, waiting for it if wait is set.
// It reports false, and no error, when the lock is held and wait is not set. The
// lock lasts until f is closed, or until the process dies.
func flock(f *os.File, exclusive, wait bool) (bool, error) {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if !wait {
		how |= syscall.LOCK_NB
	}
	for {
		err := syscall.Flock(int(f.Fd()), how)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EINTR):
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		default:
			return false, fmt.Errorf("store: token cache lock: %w", err)
		}
	}
}

// private checks that info, a file or directory of the cache, belongs to this
// user and that no one else may write it (nor, for a file, read it).
func private(info os.FileInfo, dir bool) error {
	if st, ok := info.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return fmt.Errorf("%w: it belongs to another user", errNotPrivate)
	}
	perm := info.Mode().Perm()
	switch {
	case dir && perm&0o022 != 0:
		return fmt.Errorf("%w: the directory is writable by others (mode %v); chmod go-w it", errNotPrivate, perm)
	case !dir && perm&0o077 != 0:
		return fmt.Errorf("%w: the file is open to others (mode %v), not 0600", errNotPrivate, perm)
	}
	return nil
}
