package leaksafe

import (
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
// The zero Group is a group with no parent, as NewGroup(nil) makes. A Group must not be copied after
// first use.
type Group struct {
	done     chan struct{} // made by NewGroup, or on first use of a zero Group; use doneChan
	initOnce sync.Once
	stopOnce sync.Once
	watcher  chan struct{} // closed when the goroutine watching the parent done has ended; nil if none
	wg       sync.WaitGroup

	started atomic.Bool   // Go has been called
	sem     chan struct{} // one token per running function when a limit is set; nil if none; set before the first Go

	mu       sync.Mutex
	err      error       // the first error
	panicked *PanicError // the first panic
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
	if parent == nil {
		return g
	}
	if !isOpen(parent) {
		g.Stop()
		return g
	}
	g.watcher = make(chan struct{})
	go func() {
		defer close(g.watcher)
		select {
		case <-parent:
			g.Stop()
		case <-g.done:
		}
	}()
	return g
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
// [Group.Done] is closed, Go returns without starting fn (and fn is never called).
//
// When a limit is set with [Group.SetLimit] and that many functions are running, Go blocks until one
// returns or until the group is done, in which case it returns without starting fn.
//
// The first non-nil error returned by a function closes the group's done and is returned by
// [Group.Wait]. A panic in fn is recovered: it closes the group's done, and Wait re-raises it as a
// [*PanicError] in the waiting goroutine. A call of runtime.Goexit in fn closes the group's done too.
//
// Go may be called from several goroutines at once, and from functions running in the group. It must
// not be called after Wait has returned. Go panics if fn is nil.
func (g *Group) Go(fn func(done <-chan struct{}) error) {
	if fn == nil {
		panic("leaksafe: Group.Go: nil fn")
	}
	if !g.started.Load() {
		g.started.Store(true)
	}
	done, sem := g.doneChan(), g.sem
	if sem != nil && !send(done, sem, struct{}{}) {
		return
	}
	if !isOpen(done) {
		if sem != nil {
			<-sem
		}
		return
	}
	g.wg.Add(1)
	go g.run(fn, done, sem)
}

// run calls fn, records how it ended (an error, a panic, or runtime.Goexit), then frees fn's slot of
// the limit, if any, and marks it done for [Group.Wait].
func (g *Group) run(fn func(done <-chan struct{}) error, done <-chan struct{}, sem chan struct{}) {
	returned := false
	defer func() {
		if !returned {
			if r := recover(); r != nil {
				g.fail(nil, &PanicError{Value: r, Stack: debug.Stack()})
			} else {
				g.fail(ErrGoexit, nil) // neither returned nor panicked: runtime.Goexit
			}
		}
		if sem != nil {
			<-sem
		}
		g.wg.Done()
	}()
	if err := fn(done); err != nil {
		g.fail(err, nil)
	}
	returned = true
}

// fail records the first error and the first panic, then stops the group.
func (g *Group) fail(err error, p *PanicError) {
	g.mu.Lock()
	if p != nil && g.panicked == nil {
		g.panicked = p
	}
	if err != nil && g.err == nil {
		g.err = err
	}
	g.mu.Unlock()
	g.Stop()
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

// Stop closes the group's done channel, telling every running function to return, and stops
// [Group.Go] from starting more. It does not wait for the functions to return; [Group.Wait] does.
// Stop may be called any number of times, from any goroutine.
func (g *Group) Stop() {
	g.stopOnce.Do(func() { close(g.doneChan()) })
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
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.panicked != nil {
		panic(g.panicked)
	}
	return g.err
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
