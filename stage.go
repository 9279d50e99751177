package leaksafe

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/leaksafe/leaksafe/internal/site"
)

// Copy this file with any primitive: every primitive is its own exported function plus the helpers
// here and the package internal/site, which every goroutine runs first. Every single-goroutine
// stage and source runs its loop in stage; every wait goes through send and recv, which check done
// first, so a primitive that has seen done closed sends and receives nothing more, then try the
// operation without waiting, which is cheaper when a value or room is already there, and only then
// wait on the channel and done together, so that no wait outlasts done.

// spawn starts f in a new goroutine that runs [site.Run] first, as every goroutine of the package
// does: it takes the labels that name the primitive and the user's line that started it, and
// follows the package's rule for runtime.Goexit. The goroutines started often (a stage's, a
// worker's, a Group task's) have their own go statement, so that the closure of the go statement
// is their only allocation; all others start here.
//
//go:noinline
func spawn(f func()) {
	at := site.Here()
	go func() { site.Run(at, false, call, f) }()
}

// call calls f: [site.Run]'s run for a closure.
func call(f func()) { f() }

// spawnWith is spawn for a goroutine started often, without a closure of its own: run is a
// function, not a closure (nor a generic function, whose value would be one), and arg what a
// closure would capture.
//
//go:noinline
func spawnWith[A any](run func(A), arg A) {
	at := site.Here()
	go func() { site.Run(at, false, run, arg) }()
}

// stage starts the one goroutine of a single-goroutine stage or source: it runs loop, then closes
// out (unless out is nil: a stage without output) and, as its last action, terminated. loop closes
// any further output when it returns, so that it too is closed before out and terminated.
//
// Nothing closes with defer: when a function given to the primitive panics (or calls
// runtime.Goexit, which site.Run turns into a panic), the outputs stay open while the program
// crashes, so that no consumer takes a stream cut short for a whole one and goes on, and a
// program cannot exit normally before the crash.
//
//go:noinline
func stage[T any](out chan T, loop func()) (<-chan T, <-chan struct{}) {
	term := make(chan struct{})
	at := site.Here()
	go func() {
		site.Run(at, false, call, loop)
		if out != nil {
			close(out)
		}
		close(term)
	}()
	return out, term
}

// each calls f with every value received from in, in order, until in closes, done closes or f
// reports false: the loop of a stage that reads one input. A value received as done closed is
// dropped, not given to f: no call of the user's function starts once done is seen closed, and a
// stage could not send its result anyway.
func each[T any](done <-chan struct{}, in <-chan T, f func(T) bool) {
	for {
		v, ok := recv(done, in)
		if !ok || !isOpen(done) || !f(v) {
			return
		}
	}
}

// isOpen reports whether done is still open (not yet closed); a nil done is always open.
func isOpen(done <-chan struct{}) bool {
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// send sends v on out and reports true, or reports false without sending once done is closed. It
// tries a send that does not wait before it waits on out and done together, which is cheaper when
// out has room or a waiting receiver.
func send[T any](done <-chan struct{}, out chan<- T, v T) bool {
	if !isOpen(done) {
		return false
	}
	select {
	case out <- v:
		return true
	default:
	}
	select {
	case out <- v:
		return true
	case <-done:
		return false
	}
}

// recv receives a value from in and reports true, or reports false when in is closed or done is
// closed. Like send, it tries a receive that does not wait before it waits on in and done together.
func recv[T any](done <-chan struct{}, in <-chan T) (v T, ok bool) {
	if !isOpen(done) {
		return v, false
	}
	select {
	case v, ok = <-in:
		return v, ok
	default:
	}
	select {
	case v, ok = <-in:
		return v, ok
	case <-done:
		return v, false
	}
}

// goWorkers starts n goroutines, the i-th running work(i). The last one to return then runs last,
// so that closing the outputs and terminated is the last action of the last goroutine started.
// catchesGoexit says that work records a runtime.Goexit itself (see [site.Run]) and recovers its
// panics: a worker then counts as returned however work ends. Otherwise a worker whose work
// panics never counts, so, as with [stage], last does not run while the program crashes.
//
//go:noinline
func goWorkers(n int, catchesGoexit bool, work func(i int), last func()) {
	at := site.Here() // once for all the workers
	var running atomic.Int64
	running.Store(int64(n))
	finish := func() {
		if running.Add(-1) == 0 {
			last()
		}
	}
	for i := range n {
		go func() {
			if catchesGoexit {
				defer finish() // after a Goexit that work recorded, too
			}
			site.Run(at, catchesGoexit, work, i)
			if !catchesGoexit {
				finish()
			}
		}()
	}
}

// maxWorkers is the most workers that [ParallelMap], [ParallelMapOrdered] and [ForEach] accept:
// each worker is a goroutine, and a parallel stage's output and window are sized by the number of
// workers, so a larger number is a mistake, not a wish.
const maxWorkers = 1 << 20

// checkWorkers panics, naming the function, if workers is not between 1 and 1<<20 or the
// function argument is nil.
func checkWorkers(name string, workers int, nilFn bool) {
	if workers < 1 {
		panic(fmt.Sprintf("leaksafe: %s: workers must be at least 1, got %d", name, workers))
	}
	if workers > maxWorkers {
		panic(fmt.Sprintf("leaksafe: %s: workers must be at most %d (1<<20), got %d",
			name, maxWorkers, workers))
	}
	if nilFn {
		panic(fmt.Sprintf("leaksafe: %s: nil fn", name))
	}
}

// resetTimer makes t fire after d, whether it is running, stopped or has fired. It discards a value
// that t sent and nobody received, so a stale value is never received after the reset, whichever
// timer behaviour the program's GODEBUG selects.
func resetTimer(t *time.Timer, d time.Duration) {
	if !t.Stop() {
		select {
		case <-t.C:
		default:
		}
	}
	t.Reset(d)
}
