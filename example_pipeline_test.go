package leaksafe_test

import (
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"

	"github.com/leaksafe/leaksafe"
)

// fileSum is the SHA-256 digest of one file.
type fileSum struct {
	path string
	sum  [sha256.Size]byte
}

// walkFiles yields the regular files under root in lexical order, and any error met on the way, until
// the consumer stops asking.
func walkFiles(root string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.Type().IsRegular() {
				return nil
			}
			if !yield(path, err) {
				return filepath.SkipAll // the consumer has stopped: end the walk
			}
			return nil
		})
	}
}

// hashFile returns the digest of the file at p, or the error that prevented it.
func hashFile(p leaksafe.Result[string]) leaksafe.Result[fileSum] {
	if p.Err != nil {
		return leaksafe.Result[fileSum]{Err: p.Err}
	}
	f, err := os.Open(p.Value)
	if err != nil {
		return leaksafe.Result[fileSum]{Err: err}
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return leaksafe.Result[fileSum]{Err: err}
	}
	s := fileSum{path: p.Value}
	h.Sum(s.sum[:0])
	return leaksafe.Result[fileSum]{Value: s}
}

// makeTree writes a small tree of files under a new temporary directory and returns its path.
func makeTree() (string, error) {
	root, err := os.MkdirTemp("", "leaksafe-example")
	if err != nil {
		return "", err
	}
	files := map[string]string{
		"a/notes.txt":  "remember the milk",
		"a/todo.txt":   "write the docs",
		"b/config.ini": "workers = 4",
		"b/secret.key": "hunter2",
		"c/readme.md":  "# c",
		"c/zzz.txt":    "the end",
	}
	for name, text := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			return "", err
		}
	}
	return root, nil
}

// List the files of a tree whose digest is on a deny list. The walk feeds four workers that hash the
// files; FilterMap keeps the matches, and every error, as paths relative to the root; Collect gathers
// them in walk order. The first error (a directory or a file that cannot be read) ends Collect, and
// closing done then stops the walk and the workers, so the rest of the tree is never read. Waiting
// for terminated makes sure that nothing is left running.
func Example_pipeline() {
	root, err := makeTree()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = os.RemoveAll(root) }()
	denied := map[[sha256.Size]byte]bool{
		sha256.Sum256([]byte("hunter2")):     true,
		sha256.Sum256([]byte("workers = 4")): true,
	}

	done := make(chan struct{})
	paths, t1 := leaksafe.FromSeq2(done, walkFiles(root))
	sums, t2 := leaksafe.ParallelMapOrdered(done, paths, 4, hashFile)
	hits, t3 := leaksafe.FilterMap(done, sums, func(r leaksafe.Result[fileSum]) (leaksafe.Result[string], bool) {
		rel, _ := filepath.Rel(root, r.Value.path)
		return leaksafe.Try(filepath.ToSlash(rel), r.Err), r.Err != nil || denied[r.Value.sum]
	})
	found, err := leaksafe.Collect(done, hits)
	close(done) // after an error, the walk and the workers are still running: stop them
	<-leaksafe.All(t1, t2, t3)

	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(found)
	// Output: [b/config.ini b/secret.key]
}
