package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// File is a RefreshTokens kept in one JSON file, readable by its owner only (0600).
// Every change is written to a temporary file, synced and renamed over the old one,
// so a crash leaves either the old token or the new one, never a torn file. Use one
// File per path in a process; across processes use store/redis.
type File struct {
	path string
	mu   sync.Mutex
}

// NewFile returns a File store at path. The file is created on the first save; its
// directory must exist.
func NewFile(path string) *File { return &File{path: path} }

// String shows the path, never the tokens.
func (f *File) String() string { return "store.File{" + f.path + "}" }

// Load implements RefreshTokens.
func (f *File) Load(_ context.Context, key string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.read()
	return m[key], err
}

// CompareAndSwap implements RefreshTokens.
func (f *File) CompareAndSwap(_ context.Context, key, prev, next string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.read()
	if err != nil {
		return err
	}
	if m[key] != prev {
		return ErrConflict
	}
	m[key] = next
	return f.write(m)
}

func (f *File) read() (map[string]string, error) {
	data, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: reading %s: %w", f.path, err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("store: %s is not a refresh-token file: %w", f.path, err)
	}
	return m, nil
}

func (f *File) write(m map[string]string) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.path), ".tokentrip-*")
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("store: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("store: writing %s: %w", f.path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("store: syncing %s: %w", f.path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if err := os.Rename(tmp.Name(), f.path); err != nil {
		return fmt.Errorf("store: replacing %s: %w", f.path, err)
	}
	if dir, err := os.Open(filepath.Dir(f.path)); err == nil {
		_ = dir.Sync() // make the rename itself durable
		dir.Close()
	}
	return nil
}
