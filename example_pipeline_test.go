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
func walkFiles(root string) iter.Seq[leaksafe.Result[string]] {
	return func(yield func(leaksafe.Result[string]) bool) {
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.Type().IsRegular() {
				return nil
			}
			if !yield(leaksafe.Try(path, err)) {
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

// Hash the files of a tree on four workers, print the digests in walk order, and stop at the first
// file whose digest is the one we look for. Breaking out of the loop stops the walk, the workers and
// the hashing, and waits for all of them: nothing is left running, and the rest of the tree is never
// read.
func Example_pipeline() {
	root, err := makeTree()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = os.RemoveAll(root) }()
	want := sha256.Sum256([]byte("hunter2"))

	hashes := func(done <-chan struct{}) (<-chan leaksafe.Result[fileSum], <-chan struct{}) {
		paths, t1 := leaksafe.FromSeq(done, walkFiles(root))
		sums, t2 := leaksafe.ParallelMapOrdered(done, paths, 4, hashFile)
		return sums, leaksafe.All(t1, t2)
	}
	for r := range leaksafe.Range(nil, hashes) {
		if r.Err != nil {
			fmt.Println("error:", r.Err)
			continue
		}
		rel, _ := filepath.Rel(root, r.Value.path)
		fmt.Printf("%x  %s\n", r.Value.sum[:4], filepath.ToSlash(rel))
		if r.Value.sum == want {
			fmt.Println("found it")
			break // the pipeline is stopped and has exited before the loop statement completes
		}
	}
	// Output:
	// 0057061a  a/notes.txt
	// fb7dea74  a/todo.txt
	// 4288f736  b/config.ini
	// f52fbd32  b/secret.key
	// found it
}
