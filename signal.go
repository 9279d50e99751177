package leaksafe

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"
)

// The package's errors. Test for them with errors.Is.
var (
	// ErrStopped is the error of a blocking call that done cut short: [ForEach], [FirstOK],
	// [Reduce] and [Collect].
	ErrStopped = errors.New("leaksafe: stopped")

	// ErrGoexit is returned by [Group.Wait] and [ForEach] when a function called runtime.Goexit
	// (as testing.T.FailNow does) and none panicked. A Goexit stops the work as an error does.
	ErrGoexit = errors.New("leaksafe: a function called runtime.Goexit")
)

// Or returns a channel that is closed when any of signals is closed. It starts at most one
// goroutine, which ends as soon as one signal is closed, and none when a signal is already closed
// or there is only one (Or returns it). Or() returns nil, which never closes, and a nil signal is
// ignored: if no signal ever closes, the goroutine never ends, so pass one that will, such as the
// owner's done.
func Or(signals ...<-chan struct{}) <-chan struct{} {
	live := make([]<-chan struct{}, 0, len(signals))
	for _, s := range signals {
		if s == nil {
			continue
		}
		if !isOpen(s) {
			return s
		}
		live = append(live, s)
	}
	switch len(live) {
	case 0:
		return nil
	case 1:
		return live[0]
	}
	orDone := make(chan struct{})
	spawnWith(waitAny, anySignal{live, orDone})
	return orDone
}

// anySignal is what the goroutine of [Or] waits for, and the channel it closes.
type anySignal struct {
	signals []<-chan struct{}
	orDone  chan struct{}
}

// waitAny waits for one signal of a to close, then closes a.orDone: the goroutine of [Or].
func waitAny(a anySignal) {
	defer close(a.orDone)
	if len(a.signals) == 2 {
		select {
		case <-a.signals[0]:
		case <-a.signals[1]:
		}
		return
	}
	cases := make([]reflect.SelectCase, len(a.signals))
	for i, s := range a.signals {
		cases[i] = reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(s)}
	}
	reflect.Select(cases)
}

// All returns a channel that is closed when every one of signals is closed: <-All(t1, t2) waits
// for both. It starts at most one goroutine, which ends as soon as every signal is closed, and
// none when every signal is already closed or there is only one (All returns it). All() is already
// closed. A signal that never closes (nil, say) keeps All and its goroutine open forever.
func All(signals ...<-chan struct{}) <-chan struct{} {
	if len(signals) == 1 {
		return signals[0]
	}
	var few [allFew]<-chan struct{} // the signals still open, when there are few: no allocation
	pending := few[:0]
	for _, s := range signals {
		if s == nil || isOpen(s) {
			pending = append(pending, s)
		}
	}
	allDone := make(chan struct{})
	switch n := len(pending); {
	case n == 0:
		close(allDone)
	case n <= allFew:
		// pending is few[:n]: the goroutine gets a copy of the array, with no closure of its own
		spawnWith(waitFew, fewSignals{few, n, allDone})
	default:
		many := slices.Clone(pending)
		spawn(func() {
			defer close(allDone)
			for _, s := range many {
				<-s
			}
		})
	}
	return allDone
}

// allFew is how many open signals [All] copies into its goroutine without allocating a slice.
const allFew = 8

// fewSignals are the open signals of [All] when there are few, and the channel it closes.
type fewSignals struct {
	signals [allFew]<-chan struct{}
	n       int
	allDone chan struct{}
}

// waitFew waits for every signal of f, then closes f.allDone: the goroutine of [All].
func waitFew(f fewSignals) {
	defer close(f.allDone)
	for _, s := range f.signals[:f.n] {
		<-s
	}
}

// WithDone returns a context that carries parent's values and deadline and is cancelled when
// parent is or when done closes: its Err is parent's error if parent ended first, and
// [context.Canceled] if done did. Inside a [Source], ctx := WithDone(ctx, done) cancels the
// requests in flight when the loop over the pipeline ends. A nil parent means
// [context.Background]; with a nil done WithDone returns parent.
//
// It starts no goroutine when parent can never be cancelled (its Done is nil) or when done or
// parent has already ended; otherwise exactly one, whatever parent's type, which ends when parent
// or done does. So with a done that always closes, as [Range], [ForEach] and [Group] give, it
// leaves nothing behind.
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
	spawn(func() {
		defer cancel()
		select {
		case <-done:
		case <-parent.Done():
			w.ended()
		case <-ctx.Done():
		}
	})
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

// AfterFunc arranges for f to run once the parent has ended; stop unregisters it and reports
// whether it did so before f ran. The context package calls it from context.WithCancel.
func (w *watchedParent) AfterFunc(f func()) (stop func() bool) {
	w.mu.Lock()
	if w.over {
		w.mu.Unlock()
		spawn(f) // as context.AfterFunc does for a context that has already ended
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
