package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
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
	return writeAtomic(f.path, data)
}
