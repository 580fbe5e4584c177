//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package store

import (
	"errors"
	"os"
)

// flockSupported says whether TokenCache can lock across processes here: not
// without flock(2), so NewTokenCache refuses.
const flockSupported = false

// openNoFollow adds nothing to an open here; NewTokenCache refuses anyway.
const openNoFollow = 0

func flock(*os.File, bool, bool) (bool, error) { return false, errors.ErrUnsupported }

func private(os.FileInfo, bool) error { return nil }
