package leaksafe

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// Group is the owner that catches: it starts goroutines with [Group.Go], stops them all through one
// done channel, waits for them in [Group.Wait], and hands their first error or panic back to the
// goroutine that waits.
//
// The group's done channel, [Group.Done], is closed by the first of: [Group.Stop], the parent done
// given to [NewGroup] closing, a function returning a non-nil error, a function panicking, or Wait
// returning. Every function started by Go receives it and should return when it closes; once it is
// closed, Go starts no more functions.
//
// Wait must be called, once, by the owner. It is what joins the goroutines, what re-raises a panic,
// and what returns the first error; and when the parent done is not nil, the group runs a goroutine
// that watches it until Wait returns.
//
// Group differs from golang.org/x/sync/errgroup in three ways, each so that a group cannot start work
// it will not wait for or leave work running that nobody asked for:
//
//   - The first error stops new work: once Done is closed, Go starts nothing and returns at once (and
//     [Group.TryGo] reports false), where errgroup goes on starting functions after an error. A group
//     is for work that is worth nothing once one part has failed.
//   - Every function is handed the done channel, so stopping reaches it without a context; for
//     work that needs one, [NewGroupContext] has errgroup.WithContext's shape, and [WithDone] turns
//     the done channel into a context.
//   - A panic is recovered and re-raised by Wait in the owner's goroutine, with the stack of the
//     goroutine that panicked, instead of crashing the program from a goroutine nobody waits for.
//
// As with sync.WaitGroup.Add, a call of Go from outside the group's functions must happen before
// Wait is called; Go from a function running in the group may come at any time before Wait
// returns. With a limit ([Group.SetLimit]), a function that calls Go holds a slot while Go waits
// for one, so when every slot is held by such callers (with a limit of 1, at once) Go waits until
// the group is done: from inside a limited group, use [Group.TryGo], which never waits.
//
// The zero Group is a group with no parent, as NewGroup(nil) makes. A Group must not be copied after
// first use.
type Group struct {
	done     chan struct{} // made by NewGroup, or on first use of a zero Group; use doneChan
	initOnce sync.Once
	stopOnce sync.Once
	watcher  chan struct{} // closed when the goroutine watching the parent done has ended; nil if none
	wg       sync.WaitGroup

	started atomic.Bool   // Go has been called
	waited  atomic.Bool   // Wait has returned: Go and TryGo panic
	sem     chan struct{} // one token per running function when a limit is set; nil if none; set before the first Go

	failure firstFailure
	cancel  context.CancelFunc // cancels the context of NewGroupContext when the group stops; nil if none
}

// ErrGoexit is returned by [Group.Wait] when the first function started by [Group.Go] to fail did so
// by calling runtime.Goexit (as testing.T.FailNow does) and no function panicked. A Goexit stops the
// group, as an error does.
var ErrGoexit = errors.New("leaksafe: Group: a function called runtime.Goexit")

// NewGroup returns a group whose done channel closes when parent closes, among the other causes that
// [Group] lists. A nil parent never closes.
//
// When parent is not nil and not yet closed, NewGroup starts one goroutine that watches it; that
// goroutine ends when the group's done closes, and [Group.Wait] waits for it. So the owner must call
// Wait even if it never calls [Group.Go].
func NewGroup(parent <-chan struct{}) *Group {
	g := &Group{done: make(chan struct{})}
	g.watch(parent, nil)
	return g
}

// watch makes parent's closing stop the group: at once if it is already closed, else through a
// goroutine that ends when the group is done, and that calls ended, if not nil, before it stops the
// group. A nil parent never closes.
func (g *Group) watch(parent <-chan struct{}, ended func()) {
	if parent == nil {
		return
	}
	if !isOpen(parent) {
		g.Stop()
		return
	}
	g.watcher = make(chan struct{})
	go func() {
		defer close(g.watcher)
		select {
		case <-parent:
			if ended != nil {
				ended()
			}
			g.Stop()
		case <-g.done:
		}
	}()
}

// NewGroupContext returns a group whose parent done is ctx.Done(), and a context derived from ctx that
// is cancelled as soon as the group's done closes: on the first error or panic, [Group.Stop], ctx
// being cancelled, or [Group.Wait] returning. It has the shape of errgroup.WithContext, for work
// that takes a context: requests made with the returned context are cancelled when the group stops.
//
// It starts a goroutine only as [NewGroup] does, one at most, when ctx can be cancelled, whatever
// the type of ctx; Wait waits for it. A nil ctx means [context.Background].
func NewGroupContext(ctx context.Context) (*Group, context.Context) {
	if ctx == nil {
		ctx = context.Background()
	}
	w := &watchedParent{Context: ctx} // the group's watcher is the only goroutine that waits for ctx
	gctx, cancel := context.WithCancel(w)
	g := &Group{done: make(chan struct{}), cancel: cancel}
	g.watch(ctx.Done(), w.ended)
	return g, gctx
}

// SetLimit limits the group to n functions running at once: [Group.Go] then waits for a running one
// to return before it starts another. It must be called before the first call of Go.
//
// SetLimit panics if n < 1 or if Go has already been called.
func (g *Group) SetLimit(n int) {
	if n < 1 {
		panic(fmt.Sprintf("leaksafe: Group.SetLimit: n must be at least 1, got %d", n))
	}
	if g.started.Load() {
		panic("leaksafe: Group.SetLimit: called after Go")
	}
	g.sem = make(chan struct{}, n)
}

// Go starts fn in a new goroutine, passing it the group's done channel, unless the group is done: once
// [Group.Done] is closed, Go returns without starting fn (and fn is never called). [Group.TryGo]
// reports whether it started fn.
//
// When a limit is set with [Group.SetLimit] and that many functions are running, Go blocks until one
// returns or until the group is done, in which case it returns without starting fn.
//
// The first non-nil error returned by a function closes the group's done and is returned by
// [Group.Wait]. A panic in fn is recovered: it closes the group's done, and Wait re-raises it as a
// [*PanicError] in the waiting goroutine. A call of runtime.Goexit in fn closes the group's done too.
//
// Go may be called from several goroutines at once, and from functions running in the group (see
// [Group] for Go under a limit). Go panics if fn is nil, or if it is called after Wait has
// returned: a group that has been waited for can start nothing that anyone will wait for.
func (g *Group) Go(fn func(done <-chan struct{}) error) {
	g.checkGo("Go", fn)
	g.start(fn, true)
}

// TryGo starts fn in a new goroutine, as [Group.Go] does, only if that needs no wait: it reports
// false, without starting fn, when the group is done or when a limit set with [Group.SetLimit] is
// reached. It never blocks.
//
// TryGo panics if fn is nil, or if it is called after Wait has returned, as Go does.
func (g *Group) TryGo(fn func(done <-chan struct{}) error) bool {
	g.checkGo("TryGo", fn)
	return g.start(fn, false)
}

// checkGo panics, naming the method, if fn is nil or Wait has returned.
func (g *Group) checkGo(method string, fn func(done <-chan struct{}) error) {
	if fn == nil {
		panic("leaksafe: Group." + method + ": nil fn")
	}
	if g.waited.Load() {
		panic("leaksafe: Group." + method + ": called after Wait returned")
	}
}

// start starts fn unless the group is done, first taking a slot of the limit, if any: waiting for
// one until the group is done if wait is true, or giving up at once if not. It reports whether fn
// was started.
func (g *Group) start(fn func(done <-chan struct{}) error, wait bool) bool {
	if !g.started.Load() {
		g.started.Store(true)
	}
	done, sem := g.doneChan(), g.sem
	if sem != nil {
		if wait {
			if !send(done, sem, struct{}{}) {
				return false
			}
		} else {
			select {
			case sem <- struct{}{}:
			default:
				return false
			}
		}
	}
	if !isOpen(done) {
		if sem != nil {
			<-sem
		}
		return false
	}
	g.wg.Add(1)
	go g.run(fn, done, sem)
	return true
}

// run calls fn, records how it ended (an error, a panic, or runtime.Goexit), then frees fn's slot of
// the limit, if any, and marks it done for [Group.Wait].
func (g *Group) run(fn func(done <-chan struct{}) error, done <-chan struct{}, sem chan struct{}) {
	returned := false
	defer func() {
		if !returned {
			g.failure.recordRecovered(recover())
			g.Stop()
		}
		if sem != nil {
			<-sem
		}
		g.wg.Done()
	}()
	if err := fn(done); err != nil {
		g.failure.record(err)
		g.Stop()
	}
	returned = true
}

// Done returns the group's done channel. It is closed by [Group.Stop], by the parent done closing, by
// the first error or panic of a function, or when [Group.Wait] returns.
func (g *Group) Done() <-chan struct{} {
	return g.doneChan()
}

// doneChan returns the group's done channel, making it on first use of a zero Group.
func (g *Group) doneChan() chan struct{} {
	g.initOnce.Do(func() {
		if g.done == nil {
			g.done = make(chan struct{})
		}
	})
	return g.done
}

// Stop closes the group's done channel, telling every running function to return, cancels the
// context that [NewGroupContext] returned, if any, and stops [Group.Go] from starting more. It does
// not wait for the functions to return; [Group.Wait] does. Stop may be called any number of times,
// from any goroutine.
func (g *Group) Stop() {
	g.stopOnce.Do(func() {
		close(g.doneChan())
		if g.cancel != nil {
			g.cancel()
		}
	})
}

// Wait blocks until every function started by [Group.Go] has returned, then closes the group's done
// channel and waits for the goroutine that watches the parent done, if there is one. When Wait
// returns, no goroutine of the group is running.
//
// If a function panicked, Wait panics in the calling goroutine with a [*PanicError] that carries the
// first panic's value and the stack of the goroutine that panicked. Otherwise it returns the first
// non-nil error returned by a function, or [ErrGoexit] if a function called runtime.Goexit, or nil.
func (g *Group) Wait() error {
	g.wg.Wait()
	g.Stop()
	if g.watcher != nil {
		<-g.watcher
	}
	g.waited.Store(true)
	return g.failure.result()
}

// firstFailure records how the first of a set of goroutines failed: the first error, and the first
// panic, which wins over any error.
type firstFailure struct {
	mu       sync.Mutex
	err      error
	panicErr *PanicError
}

// record keeps err if it is the first error.
func (f *firstFailure) record(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
	}
}

// recordRecovered records what recover returned in a deferred call of a function that did not
// return normally: a panic, kept with the panicking goroutine's stack if it is the first, or, when r
// is nil, [ErrGoexit], since a function that neither returned nor panicked called runtime.Goexit.
func (f *firstFailure) recordRecovered(r any) {
	if r == nil {
		f.record(ErrGoexit)
		return
	}
	p := &PanicError{Value: r, Stack: debug.Stack()}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.panicErr == nil {
		f.panicErr = p
	}
}

// result re-raises the first panic, or returns the first error.
func (f *firstFailure) result() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.panicErr != nil {
		panic(f.panicErr)
	}
	return f.err
}

// PanicError is the value with which [Group.Wait] re-raises a panic of a function started by
// [Group.Go]: the value passed to panic and the stack of the goroutine that panicked, as
// runtime/debug.Stack formats it.
type PanicError struct {
	Value any
	Stack []byte
}

// Error returns the panic value and the stack of the goroutine that panicked.
func (p *PanicError) Error() string {
	return fmt.Sprintf("panic: %v\n\ngoroutine stack:\n%s", p.Value, p.Stack)
}

// Unwrap returns the panic value if it is an error, so that errors.Is and errors.As see through a
// *PanicError; otherwise it returns nil.
func (p *PanicError) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}
