package leaksafe

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/leaksafe/leaksafe/internal/site"
)

// Group is the owner that catches: it starts goroutines with [Group.Go], stops them all through
// one done channel, waits for them in [Group.Wait], and hands their first error or panic back to
// the goroutine that waits.
//
// The group's done channel, [Group.Done], is closed by the first of: [Group.Stop], the parent done
// closing, a function returning a non-nil error, panicking or calling runtime.Goexit, or Wait
// returning. Every function receives it and should return when it closes; once it is closed, Go
// starts no more functions. Wait must be called, once, by the owner.
//
// Group differs from golang.org/x/sync/errgroup so that it cannot start work it will not wait for:
// the first error stops new work (Go then starts nothing); every function is handed the done
// channel ([NewGroupContext] and [WithDone] give a context); and a panic is re-raised by Wait in
// the owner's goroutine instead of crashing the program.
//
// As with sync.WaitGroup.Add, Go from outside the group's functions must happen before Wait. Under
// [Group.SetLimit], a function that calls Go holds a slot while Go waits for one: from inside a
// limited group use [Group.TryGo], which never waits. The zero Group has no parent.
type Group struct {
	done     chan struct{} // made by NewGroup, or on first use of a zero Group; use doneChan
	initOnce sync.Once
	stopOnce sync.Once
	watcher  chan struct{} // closed when the goroutine watching the parent has ended; nil if none
	wg       sync.WaitGroup

	started atomic.Bool   // Go has been called
	waited  atomic.Bool   // Wait has returned: Go and TryGo panic
	sem     chan struct{} // a token per running function under a limit, set before the first Go

	failure firstFailure
	cancel  context.CancelFunc // cancels NewGroupContext's context when the group stops, or nil
}

// NewGroup returns a group whose done channel also closes when parent closes; a nil parent never
// closes. When parent is open, NewGroup starts one goroutine that watches it until the group is
// done; [Group.Wait] waits for it, so the owner must call Wait even if it never calls [Group.Go].
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
	spawn(func() {
		defer close(g.watcher)
		select {
		case <-parent:
			if ended != nil {
				ended()
			}
			g.Stop()
		case <-g.done:
		}
	})
}

// NewGroupContext returns a group whose parent done is ctx.Done(), and a context derived from ctx
// that is cancelled as soon as the group's done closes: errgroup.WithContext's shape, for work
// that takes a context. It starts one goroutine at most, as [NewGroup] does, whatever ctx's type;
// a nil ctx means [context.Background].
func NewGroupContext(ctx context.Context) (*Group, context.Context) {
	if ctx == nil {
		ctx = context.Background()
	}
	// the group's watcher is the only goroutine that waits for ctx
	w := &watchedParent{Context: ctx}
	gctx, cancel := context.WithCancel(w)
	g := &Group{done: make(chan struct{}), cancel: cancel}
	g.watch(ctx.Done(), w.ended)
	return g, gctx
}

// SetLimit limits the group to n functions running at once. It panics if n < 1 or if [Group.Go]
// has already been called.
func (g *Group) SetLimit(n int) {
	if n < 1 {
		panic(fmt.Sprintf("leaksafe: Group.SetLimit: n must be at least 1, got %d", n))
	}
	if g.started.Load() {
		panic("leaksafe: Group.SetLimit: called after Go")
	}
	g.sem = make(chan struct{}, n)
}

// Go calls fn in a new goroutine with the group's done channel, unless the group is done. Under a
// limit ([Group.SetLimit]) it waits for a slot, and gives up when the group is done. fn's first
// non-nil error stops the group and is returned by [Group.Wait]; a panic stops it and Wait re-
// raises it. Go panics if fn is nil or if Wait has returned.
func (g *Group) Go(fn func(done <-chan struct{}) error) {
	g.checkGo("Go", fn)
	g.start(fn, true)
}

// TryGo is [Group.Go] that never waits: it reports false, without starting fn, when the group is
// done or its limit is reached. It panics as Go does.
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
	at := site.Here()
	go func() { site.Run(at, true, runTask, task{g, fn, done, sem}) }()
	return true
}

// task is what the goroutine of a function started by Go needs; runTask runs it.
type task struct {
	g    *Group
	fn   func(done <-chan struct{}) error
	done <-chan struct{}
	sem  chan struct{}
}

func runTask(t task) { t.g.run(t.fn, t.done, t.sem) }

// run calls fn, records how it ended (an error, a panic, or runtime.Goexit), then frees fn's slot
// of the limit, if any, and marks it done for [Group.Wait].
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

// Done returns the group's done channel (see [Group] for what closes it).
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

// Stop closes the group's done channel, and so the context of [NewGroupContext]; it does not wait
// for the functions to return ([Group.Wait] does). Stop may be called any number of times.
func (g *Group) Stop() {
	g.stopOnce.Do(func() {
		close(g.doneChan())
		if g.cancel != nil {
			g.cancel()
		}
	})
}

// Wait blocks until every function of the group has returned, then stops the group and waits for
// its watching goroutine: when Wait returns, every goroutine of the group has done its last
// action (a goroutine may still be on its way out, as after any wait for one). It re-raises
// the first panic as a [*PanicError], or returns the first error, [ErrGoexit] if a function called
// runtime.Goexit, or nil.
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
// return normally: a panic, kept with the panicking goroutine's stack if it is the first, or, when
// r is nil, [ErrGoexit], since a function that neither returned nor panicked called
// runtime.Goexit.
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

// PanicError is the value with which [Group.Wait] and [ForEach] re-raise a panic: the value passed
// to panic and the stack of the goroutine that panicked, as runtime/debug.Stack formats it.
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

// First calls each of fns in a goroutine of its own, with a done channel that First closes when
// the race is decided, and returns the result of the first fn to return and true: replicated
// requests, where the fastest answer wins. It blocks until every fn has returned, so a fn must
// return soon after its done closes. When done closes first it returns false, keeping a result
// that was ready; if done is already closed, it calls no fn. For fns that can fail, use [FirstOK].
// First panics if fns is empty or holds a nil fn.
func First[T any](done <-chan struct{}, fns ...func(done <-chan struct{}) T) (result T, ok bool) {
	if len(fns) == 0 {
		panic("leaksafe: First: no fns")
	}
	for i, fn := range fns {
		if fn == nil {
			panic(fmt.Sprintf("leaksafe: First: fns[%d] is nil", i))
		}
	}
	if !isOpen(done) {
		return result, false
	}
	// room for every result: a fn that loses never waits to hand it in
	results := make(chan T, len(fns))
	stops := make([]chan struct{}, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		stop := make(chan struct{})
		stops[i] = stop
		wg.Add(1)
		spawn(func() {
			results <- fn(stop)
			wg.Done() // not deferred: First waits while a panic in fn crashes the program
		})
	}
	select {
	case result = <-results:
		ok = true
	case <-done:
		select { // a result that arrived before done closed still wins
		case result = <-results:
			ok = true
		default:
		}
	}
	for _, stop := range stops {
		close(stop)
	}
	wg.Wait()
	return result, ok
}

// FirstOK is [First] for fns that can fail: the first fn to return a nil error wins, so a replica
// that fails fast does not win over a slower healthy one (hedged requests). When every fn fails,
// it returns their errors joined with errors.Join in the order of fns; when done closes first, an
// error that matches [ErrStopped]. The results of the losers are discarded: a fn must release what
// it owns. FirstOK panics if fns is empty or holds a nil fn.
func FirstOK[T any](done <-chan struct{}, fns ...func(done <-chan struct{}) (T, error)) (T, error) {
	if len(fns) == 0 {
		panic("leaksafe: FirstOK: no fns")
	}
	for i, fn := range fns {
		if fn == nil {
			panic(fmt.Sprintf("leaksafe: FirstOK: fns[%d] is nil", i))
		}
	}
	var zero T
	if !isOpen(done) {
		return zero, ErrStopped
	}
	type outcome struct {
		i   int
		v   T
		err error
	}
	outcomes := make(chan outcome, len(fns)) // room for every outcome: a fn that loses never waits
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Add(1)
		spawn(func() {
			v, err := fn(stop)
			outcomes <- outcome{i, v, err}
			wg.Done() // not deferred: FirstOK waits while a panic in fn crashes the program
		})
	}
	defer wg.Wait()
	defer close(stop)
	errs := make([]error, len(fns))
	for range fns {
		var o outcome
		select {
		case o = <-outcomes:
		case <-done:
			for { // an outcome that arrived before done closed still counts
				select {
				case o = <-outcomes:
					if o.err == nil {
						return o.v, nil
					}
					continue
				default:
				}
				return zero, ErrStopped
			}
		}
		if o.err == nil {
			return o.v, nil
		}
		if !isOpen(done) {
			return zero, ErrStopped // a failure once done is closed is done's doing, as a context's
		}
		errs[o.i] = o.err
	}
	return zero, errors.Join(errs...)
}
