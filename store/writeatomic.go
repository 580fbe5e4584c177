package store

import (
	"fmt"
	"os"
	"path/filepath"
)

// writeAtomic replaces path with data, readable by its owner only: a temporary
// file in the same directory, synced, renamed over path, and the directory
// synced, so that a crash leaves either the old content or the new, never a torn
// file. File and TokenCache write through it.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tokentrip-*")
	if err != nil {
		return fmt.Errorf("store: writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("store: writing %s: %w", path, err)
	}
	if dir, err := os.Open(filepath.Dir(path)); err == nil {
		_ = dir.Sync() // make the rename itself durable
		dir.Close()
	}
	return nil
}
