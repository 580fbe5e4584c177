//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package store_test

import "syscall"

// mkfifo makes a FIFO at path, private to the user.
func mkfifo(path string) error { return syscall.Mkfifo(path, 0o600) }
