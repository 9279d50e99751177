package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaksafe/leaksafe/leaktest"
)

// TestMain fails the test binary if the program's tests leave a goroutine running, or one that the
// runtime's goroutine leak profile proves leaked, where the toolchain has it.
func TestMain(m *testing.M) {
	leaktest.VerifyTestMain(m)
}

// tree writes files named by their contents under a temporary directory and returns its path and the
// lines run must print for them, in walk order.
func tree(t *testing.T, names ...string) (string, []string) {
	t.Helper()
	root := t.TempDir()
	var lines []string
	for _, name := range names {
		p := filepath.Join(root, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(name), 0o600))
		lines = append(lines, fmt.Sprintf("%x  %s", sha256.Sum256([]byte(name)), p))
	}
	return root, lines
}

func runPipeline(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func lines(s string) []string {
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

func TestRun(t *testing.T) {
	names := []string{"a/1", "a/2", "b/3", "b/c/4", "d/5", "e"}
	root, want := tree(t, names...)

	t.Run("every file in walk order", func(t *testing.T) {
		for _, workers := range []string{"1", "3", "8"} {
			code, out, errOut := runPipeline(context.Background(), "-workers", workers, root)
			require.Equal(t, 0, code, errOut)
			assert.Equal(t, want, lines(out))
			assert.Contains(t, errOut, "goroutines after")
		}
	})
	t.Run("stops after -n results", func(t *testing.T) {
		code, out, _ := runPipeline(context.Background(), "-n", "2", root)
		require.Equal(t, 0, code)
		assert.Equal(t, want[:2], lines(out))
	})
	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		code, out, errOut := runPipeline(ctx, root)
		assert.Equal(t, 130, code)
		assert.Empty(t, out)
		assert.Contains(t, errOut, "interrupted")
	})
	t.Run("missing directory", func(t *testing.T) {
		code, out, errOut := runPipeline(context.Background(), filepath.Join(root, "missing"))
		assert.Equal(t, 1, code)
		assert.Empty(t, out)
		assert.Contains(t, errOut, "no such file or directory")
	})
	t.Run("a file, not a directory", func(t *testing.T) {
		code, _, errOut := runPipeline(context.Background(), filepath.Join(root, "e"))
		assert.Equal(t, 1, code)
		assert.Contains(t, errOut, "is not a directory")
	})
	t.Run("bad flags", func(t *testing.T) {
		for _, args := range [][]string{{"-workers", "0", root}, {"-n", "-1", root}, {root, root}, {"-bogus"}} {
			code, _, errOut := runPipeline(context.Background(), args...)
			assert.Equal(t, 2, code, "args %q", args)
			assert.Contains(t, errOut, "usage", "args %q", args)
		}
	})
	t.Run("an unreadable file is reported and skipped", func(t *testing.T) {
		root, want := tree(t, "a", "c")
		require.NoError(t, os.Symlink(filepath.Join(root, "nowhere"), filepath.Join(root, "b")))
		code, out, errOut := runPipeline(context.Background(), root)
		assert.Equal(t, 0, code)
		assert.Equal(t, want, lines(out))
		assert.Contains(t, errOut, "skipped")
		assert.Contains(t, errOut, "1 files could not be read")
	})
}
