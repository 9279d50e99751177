package leaksafe

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrStopped is the error of a blocking call that returned because its done channel closed before
// the work was complete: [ForEach], [FirstOK], and the calls that read a stream to its end,
// [Reduce] and [Collect]. Test for it with errors.Is.
var ErrStopped = errors.New("leaksafe: stopped")

// WithDone returns a context that carries the values and the deadline of parent and is cancelled when
// parent is, or when done closes; its Err is then [context.Canceled]. It is how a function that is
// given a done channel passes the stop on to the work it does, such as an HTTP request:
//
//	src := func(done <-chan struct{}) (<-chan Page, <-chan struct{}) {
//		ctx := leaksafe.WithDone(ctx, done) // cancelled when the loop over the pipeline ends
//		return leaksafe.ParallelMap(done, urls, 8, func(u string) Page { return fetch(ctx, u) })
//	}
//
// A nil parent means [context.Background]; a nil done never closes, and WithDone then returns
// parent.
//
// WithDone starts no goroutine when parent can never be cancelled (its Done returns nil) or done is
// already closed. Otherwise it starts one, which ends when parent is cancelled or done closes,
// whichever comes first. So with a done that always closes, such as the one that [Range], [ForEach]
// or a [Group] gives its functions, it leaves nothing behind; with a done that never closes and a
// parent that is never cancelled, that goroutine runs as long as the parent lives.
func WithDone(parent context.Context, done <-chan struct{}) context.Context {
	if parent == nil {
		parent = context.Background()
	}
	if done == nil {
		return parent
	}
	if !isOpen(done) {
		ctx, cancel := context.WithCancel(parent)
		cancel()
		return ctx
	}
	if parent.Done() == nil {
		return doneContext{parent, done} // done is the only way it ends: no goroutine to merge two
	}
	ctx, cancel := context.WithCancel(parent)
	go func() {
		defer cancel()
		select {
		case <-done:
		case <-ctx.Done():
		}
	}()
	return ctx
}

// doneContext is the context that [WithDone] returns for a parent that can never be cancelled: its
// Done channel is done itself.
type doneContext struct {
	parent context.Context // never cancelled: parent.Done() == nil
	done   <-chan struct{}
}

func (c doneContext) Deadline() (time.Time, bool) { return c.parent.Deadline() }
func (c doneContext) Done() <-chan struct{}       { return c.done }
func (c doneContext) Value(key any) any           { return c.parent.Value(key) }

func (c doneContext) Err() error {
	if isOpen(c.done) {
		return nil
	}
	return context.Canceled
}

func (c doneContext) String() string { return fmt.Sprint(c.parent) + ".WithDone" }
