package docs_test

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// readme returns the checkout's README.
func readme(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// checkoutRoot returns the absolute path of the checkout under test.
func checkoutRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// goBin is the bin directory of the toolchain running the tests, which holds its
// go command.
func goBin() string {
	//lint:ignore SA1019 under go test, runtime.GOROOT is the GOROOT of the running toolchain.
	return filepath.Join(runtime.GOROOT(), "bin")
}
