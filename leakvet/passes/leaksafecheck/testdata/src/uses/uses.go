package uses

import (
	"context"
	"errors"

	"github.com/leaksafe/leaksafe"
)

func double(v int) int { return 2 * v }

// LD: done is not closed on the early return.
func notClosed(err error) {
	done := make(chan struct{})
	out, terminated := leaksafe.Generate(done, 1, 2, 3) // want `done is not closed when the function returns at line 17`
	if err != nil {
		return
	}
	<-out
	close(done)
	<-terminated
}

// No LD: closed on every path.
func deferClosed() {
	done := make(chan struct{})
	defer close(done)
	out, _ := leaksafe.Generate(done, 1, 2, 3)
	<-out
}

// LT: everything discarded.
func discarded(done <-chan struct{}) {
	leaksafe.Generate(done, 1, 2)     // want `every result of leaksafe.Generate, terminated too, is discarded`
	_, _ = leaksafe.Generate(done, 1) // want `every result of leaksafe.Generate`
}

// No LT: out is read, terminated joined.
func joined(done <-chan struct{}) {
	out, t1 := leaksafe.Generate(done, 1, 2)
	m, t2 := leaksafe.Map(done, out, double)
	<-m
	<-leaksafe.All(t1, t2)
}

// LG: a group not waited for on the error path.
func groupNoWait(ctx context.Context, err error) error {
	g, ctx := leaksafe.NewGroupContext(ctx) // want `the group g is not waited for when the function returns at line 51`
	g.Go(func(done <-chan struct{}) error { <-done; return nil })
	if err != nil {
		return err
	}
	_ = ctx
	return g.Wait()
}

// No LG: waited for on every path.
func groupWaited(parent <-chan struct{}) error {
	g := leaksafe.NewGroup(parent)
	defer g.Wait()
	g.Go(func(done <-chan struct{}) error { return errors.New("x") })
	return nil
}

// LS: a Source that never uses done.
func ignoresDone(done <-chan struct{}) {
	for v := range leaksafe.Range(done, func(d <-chan struct{}) (<-chan int, <-chan struct{}) { // want `this Source never uses its done`
		return leaksafe.Generate[int](nil, 1, 2)
	}) {
		_ = v
	}
}

// No LS: done reaches the stage.
func usesDone(done <-chan struct{}) {
	for v := range leaksafe.Range(done, func(d <-chan struct{}) (<-chan int, <-chan struct{}) {
		return leaksafe.Generate(d, 1, 2)
	}) {
		_ = v
	}
}

// LS through a named function.
func source(_ <-chan struct{}) (<-chan int, <-chan struct{}) { // want `this Source never uses its done`
	return nil, nil
}

func namedSource(done <-chan struct{}) {
	for range leaksafe.Range(done, source) {
	}
}

// The directive silences a report.
func ignored(done <-chan struct{}) {
	//leakvet:ignore the stream is drained by the caller of this test function
	leaksafe.Generate(done, 1)
}
