//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package store_test

import "errors"

func mkfifo(string) error { return errors.ErrUnsupported }
