package leaksafe

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrStopped is the error of a blocking call that returned because its done channel closed before
// the work was complete: [ForEach], [FirstOK], and the calls that read a stream to its end,
// [Reduce] and [Collect]. Test for it with errors.Is.
var ErrStopped = errors.New("leaksafe: stopped")

// WithDone returns a context that carries the values and the deadline of parent and is cancelled when
// parent is, or when done closes. Its Err is then what a context derived from parent with
// [context.WithCancel] would say: parent's error if parent ended first (such as
// [context.DeadlineExceeded]), and [context.Canceled] if done closed first. It is how a function
// that is given a done channel passes the stop on to the work it does, such as an HTTP request:
//
//	src := func(done <-chan struct{}) (<-chan Page, <-chan struct{}) {
//		ctx := leaksafe.WithDone(ctx, done) // cancelled when the loop over the pipeline ends
//		return leaksafe.ParallelMap(done, urls, 8, func(u string) Page { return fetch(ctx, u) })
//	}
//
// A nil parent means [context.Background]; a nil done never closes, and WithDone then returns
// parent.
//
// WithDone starts no goroutine when parent can never be cancelled (its Done returns nil) or when
// done or parent has already ended. Otherwise it starts exactly one, whatever the type of parent,
// which ends when parent is cancelled or done closes, whichever comes first. So with a done that
// always closes, such as the one that [Range], [ForEach] or a [Group] gives its functions, it leaves
// nothing behind; with a done that never closes and a parent that is never cancelled, that goroutine
// runs as long as the parent lives.
func WithDone(parent context.Context, done <-chan struct{}) context.Context {
	if parent == nil {
		parent = context.Background()
	}
	if done == nil {
		return parent
	}
	if parent.Done() == nil {
		return doneContext{parent, done} // done is the only way it ends: no goroutine to merge two
	}
	w := &watchedParent{Context: parent}
	ctx, cancel := context.WithCancel(w)
	if !isOpen(done) {
		cancel()
		return ctx
	}
	if ctx.Err() != nil { // parent has ended already
		cancel()
		return ctx
	}
	go func() {
		defer cancel()
		select {
		case <-done:
		case <-parent.Done():
			w.ended()
		case <-ctx.Done():
		}
	}()
	return ctx
}

// watchedParent is a parent context whose end one goroutine of leaksafe already waits for: given to
// [context.WithCancel], it hands the context package that wait, through AfterFunc, for a parent
// whose type the package does not know (a custom Context, or a [WithDone] context), so that no
// goroutine of the context package's own waits beside it. For a parent the package knows, the
// package registers the child with it directly and AfterFunc is not called.
//
// Invariant: the goroutine that watches parent calls ended once parent.Done is closed, unless the
// child was cancelled first; every function registered and not stopped by then runs in ended.
type watchedParent struct {
	context.Context
	mu    sync.Mutex
	funcs map[*func()]struct{} // registered by AfterFunc and not yet stopped
	over  bool                 // ended has run: AfterFunc now runs f at once
}

// AfterFunc arranges for f to run once the parent has ended; stop unregisters it and reports whether
// it did so before f ran. The context package calls it from context.WithCancel.
func (w *watchedParent) AfterFunc(f func()) (stop func() bool) {
	w.mu.Lock()
	if w.over {
		w.mu.Unlock()
		go f() // as context.AfterFunc does for a context that has already ended
		return func() bool { return false }
	}
	if w.funcs == nil {
		w.funcs = make(map[*func()]struct{})
	}
	key := &f
	w.funcs[key] = struct{}{}
	w.mu.Unlock()
	return func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		_, registered := w.funcs[key]
		delete(w.funcs, key)
		return registered
	}
}

// String names the parent, as the context package names the contexts it derives.
func (w *watchedParent) String() string { return fmt.Sprint(w.Context) + ".WithDone" }

// ended runs the functions registered with AfterFunc: the goroutine watching the parent calls it
// once parent.Done is closed.
func (w *watchedParent) ended() {
	w.mu.Lock()
	funcs := w.funcs
	w.funcs, w.over = nil, true
	w.mu.Unlock()
	for f := range funcs {
		(*f)()
	}
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
