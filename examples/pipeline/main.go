// Command pipeline hashes the files of a directory tree with bounded parallelism and prints their
// SHA-256 digests in walk order as they become ready.
//
//	go run ./examples/pipeline [-workers N] [-n N] [dir]
//
// dir defaults to the current directory and -workers to GOMAXPROCS. The program stops early after
// -n results, or on Ctrl-C, and prints the number of goroutines before and after the pipeline to
// show that nothing is left running. A file that cannot be read is reported and skipped; a
// directory that cannot be walked at all is an error, and the exit status is 1.
package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"time"

	"github.com/leaksafe/leaksafe"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// fileSum is the digest of one file, or the error that prevented it.
type fileSum struct {
	path string
	sum  [sha256.Size]byte
}

// run parses args, runs the pipeline until it ends, -n results are printed or ctx is done, and
// returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("pipeline", flag.ContinueOnError)
	flags.SetOutput(stderr)
	workers := flags.Int("workers", runtime.GOMAXPROCS(0), "files hashed at once (at least 1)")
	limit := flags.Int("n", 0, "stop after this many results (0: no limit)")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: pipeline [-workers N] [-n N] [dir]")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if flags.NArg() > 1 || *workers < 1 || *limit < 0 {
		flags.Usage()
		return 2
	}
	root := "."
	if flags.NArg() == 1 {
		root = flags.Arg(0)
	}
	if info, err := os.Stat(root); err != nil {
		fmt.Fprintln(stderr, "pipeline:", err)
		return 1
	} else if !info.IsDir() {
		fmt.Fprintf(stderr, "pipeline: %s is not a directory\n", root)
		return 1
	}

	before := runtime.NumGoroutine()
	fmt.Fprintf(stderr, "goroutines before: %d\n", before)

	hashes := func(done <-chan struct{}) (<-chan leaksafe.Result[fileSum], <-chan struct{}) {
		paths, t1 := leaksafe.FromSeq(done, walkFiles(root))
		sums, t2 := leaksafe.ParallelMapOrdered(done, paths, *workers, hashFile)
		return sums, leaksafe.All(t1, t2)
	}
	code, printed, unreadable := 0, 0, 0
	for r := range leaksafe.Range(ctx.Done(), hashes) {
		var walkErr *walkError
		switch {
		case errors.As(r.Err, &walkErr):
			fmt.Fprintln(stderr, "pipeline:", walkErr.err)
			code = 1
		case r.Err != nil:
			fmt.Fprintln(stderr, "pipeline: skipped:", r.Err) // one unreadable file: go on
			unreadable++
			continue
		default:
			fmt.Fprintf(stdout, "%x  %s\n", r.Value.sum, r.Value.path)
		}
		if code != 0 {
			break
		}
		if printed++; printed == *limit {
			break // stops the walk and the workers, and waits for them
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "pipeline: interrupted")
		code = 130
	}
	if unreadable > 0 {
		fmt.Fprintf(stderr, "pipeline: %d files could not be read\n", unreadable)
	}
	fmt.Fprintf(stderr, "goroutines after: %d\n", settled(before))
	return code
}

// walkError is an error of the walk itself, as opposed to one file that could not be read.
type walkError struct{ err error }

func (e *walkError) Error() string { return e.err.Error() }

// walkFiles yields the regular files under root in lexical order, with an error for each file or
// directory that cannot be read, until the consumer stops asking.
func walkFiles(root string) iter.Seq[leaksafe.Result[string]] {
	return func(yield func(leaksafe.Result[string]) bool) {
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			switch {
			case err != nil && path == root:
				err = &walkError{err} // the root itself: nothing can be walked
			case err == nil && !d.Type().IsRegular() && d.Type()&fs.ModeSymlink == 0:
				return nil // directories, devices, sockets: nothing to hash
			}
			if !yield(leaksafe.Try(path, err)) {
				return filepath.SkipAll
			}
			return nil
		})
	}
}

// hashFile returns the SHA-256 digest of the file at p, or the error that prevented it.
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
		return leaksafe.Result[fileSum]{Err: fmt.Errorf("read %s: %w", p.Value, err)}
	}
	s := fileSum{path: p.Value}
	h.Sum(s.sum[:0])
	return leaksafe.Result[fileSum]{Value: s}
}

// settled returns the goroutine count, read again for a moment while it is above before: a
// goroutine that has closed its terminated channel may still be on its way out of the scheduler.
func settled(before int) int {
	n := runtime.NumGoroutine()
	for i := 0; n > before && i < 100; i++ {
		time.Sleep(time.Millisecond)
		n = runtime.NumGoroutine()
	}
	return n
}
