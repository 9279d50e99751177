package leaksafe

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// DoWork starts one goroutine that calls fn for every value received from in, one at a time, in
// order, and closes terminated when in or done closes. With a nil in, the owner must close done.
// Ending, closing order and panics are as the package doc says.
func DoWork[T any](done <-chan struct{}, in <-chan T, fn func(T)) (terminated <-chan struct{}) {
	if fn == nil {
		panic("leaksafe: DoWork: nil fn")
	}
	_, term := stage[struct{}](nil, func() {
		each(done, in, func(v T) bool {
			fn(v)
			return true
		})
	})
	return term
}

// ForEach calls fn for the values of in on workers goroutines, each value once, and blocks until
// every call has returned. Each call gets a done channel that closes at the first error or panic
// of a call, when the outer done closes, or when ForEach returns: whatever fn derives from it
// ([WithDone]) ends with the call. ForEach returns nil when in closes and every call succeeded,
// the first error, or an error that matches [ErrStopped] when the outer done closed first. A panic
// in fn is re-raised as a [*PanicError] after every call has returned, and a runtime.Goexit makes
// it return [ErrGoexit]. It never drains in; a value taken as done closes is dropped. ForEach
// panics if workers is not between 1 and 1<<20 or fn is nil.
func ForEach[T any](
	done <-chan struct{}, in <-chan T, workers int, fn func(done <-chan struct{}, v T) error,
) error {
	checkWorkers("ForEach", workers, fn == nil)
	if !isOpen(done) {
		return ErrStopped
	}
	var (
		failure  firstFailure
		stop     = make(chan struct{})
		stopOnce sync.Once
		finished = make(chan struct{})
	)
	stopWith := func(err error) { // keeps the first cause
		failure.record(err)
		stopOnce.Do(func() { close(stop) })
	}
	goWorkers(workers, true, func(int) {
		returned := false
		defer func() {
			if !returned {
				failure.recordRecovered(recover())
				stopOnce.Do(func() { close(stop) })
			}
		}()
		for {
			v, ok := recv(stop, in)
			if !ok || !isOpen(stop) { // no call starts once fn's done is seen closed
				break
			}
			if !isOpen(done) { // the caller closes stop when it sees done: look sooner
				stopWith(ErrStopped)
				break
			}
			if err := fn(stop, v); err != nil {
				if !isOpen(done) {
					// the error of work that done cut short, as a context cancels it
					err = ErrStopped
				}
				stopWith(err)
				break
			}
		}
		returned = true
	}, func() { close(finished) })
	select {
	case <-finished:
	case <-done:
		if isOpen(finished) {
			stopWith(ErrStopped)
		}
		<-finished
	}
	stopOnce.Do(func() { close(stop) }) // nothing that fn derived from its done outlives the call
	return failure.result()
}

// FanIn starts one goroutine per input that forwards that input's values to out, so that out
// carries the values of every input, interleaved in no fixed order, and closes once every input
// has closed. With no inputs, out and terminated are closed at once. out holds as many values as
// the largest input can, and at least one. Ending, closing order and panics are as the package doc
// says.
func FanIn[T any](
	done <-chan struct{}, ins ...<-chan T,
) (out <-chan T, terminated <-chan struct{}) {
	size := 1
	for _, in := range ins {
		size = max(size, cap(in))
	}
	ch := make(chan T, size)
	term := make(chan struct{})
	if len(ins) == 0 {
		close(ch)
		close(term)
		return ch, term
	}
	goWorkers(len(ins), false, func(i int) {
		each(done, ins[i], func(v T) bool { return send(done, ch, v) })
	}, func() {
		close(ch)
		close(term)
	})
	return ch, term
}

// ParallelMap starts workers goroutines that each receive values from in and send fn(v) on out, so
// that up to workers calls of fn run at once. Every value is delivered exactly once, in no fixed
// order; [ParallelMapOrdered] keeps the order of in. ParallelMap panics if workers is not between
// 1 and 1<<20 or fn is nil; fn must be safe for concurrent use. Ending, closing order and panics
// are as the package doc says.
func ParallelMap[T, U any](
	done <-chan struct{}, in <-chan T, workers int, fn func(T) U,
) (out <-chan U, terminated <-chan struct{}) {
	checkWorkers("ParallelMap", workers, fn == nil)
	return parallelMap(done, in, workers, fn)
}

// parallelMap is [ParallelMap] after its arguments are checked; with one worker it is also
// [ParallelMapOrdered], since a single worker keeps the order of in.
func parallelMap[T, U any](
	done <-chan struct{}, in <-chan T, workers int, fn func(T) U,
) (out <-chan U, terminated <-chan struct{}) {
	ch := make(chan U, max(workers, cap(in)))
	term := make(chan struct{})
	goWorkers(workers, false, func(int) {
		each(done, in, func(v T) bool { return send(done, ch, fn(v)) })
	}, func() {
		close(ch)
		close(term)
	})
	return ch, term
}

// ParallelMapOrdered is [ParallelMap] that sends the results on out in the order of in.
//
// The workers share a reorder window of 2×c values, where c = max(workers, cap(in)) is what out
// holds: a worker takes a new value only while fewer than 2×c values are taken and not yet sent.
// So while one slow call holds back the head, at most 2×c-1 finished results wait in the window
// and c in out, however long in is. When fn is cheap (under a microsecond) and in is buffered, a
// worker takes up to cap(in)/(2×workers) consecutive values per turn; a slow call puts it back to
// one. Ending, closing order and panics are as the package doc says.
func ParallelMapOrdered[T, U any](
	done <-chan struct{}, in <-chan T, workers int, fn func(T) U,
) (out <-chan U, terminated <-chan struct{}) {
	checkWorkers("ParallelMapOrdered", workers, fn == nil)
	if workers == 1 {
		return parallelMap(done, in, 1, fn) // one worker keeps the order: no window needed
	}
	size := max(workers, cap(in)) // out's capacity; the window holds twice as many values
	w := &reorderWindow[T, U]{
		in:      in,
		done:    done,
		fn:      fn,
		out:     make(chan U, size),
		workers: workers,
		maxTake: max(1, cap(in)/(2*workers)),
		inWake:  make(chan struct{}, 1),
		space:   make(chan struct{}, 1),
		results: make([]U, 2*size),
		ready:   make([]bool, 2*size),
	}
	term := make(chan struct{})
	goWorkers(workers, false, func(int) {
		own := orderedWorker[T, U]{take: 1}
		for w.step(&own) {
		}
	}, func() {
		close(w.out)
		close(term)
	})
	return w.out, term
}

// cheapCall is how long a timed call of fn may take for a worker of [ParallelMapOrdered] to take
// several values per turn at the input. A turn (a lock and a receive) costs about a tenth of that,
// so for slower calls taking more per turn would save little and would only hold values back from
// idle workers.
const cheapCall = time.Microsecond

// probeEvery is how often, in turns at the input, a worker of [ParallelMapOrdered] times a call of
// fn to decide how many values its next turns take.
const probeEvery = 8

// reorderWindow is the state that the workers of [ParallelMapOrdered] share. A value's sequence
// number is the order in which it was received from in; its result waits in results[seq%len] until
// every earlier result has been sent.
type reorderWindow[T, U any] struct {
	in      <-chan T
	done    <-chan struct{}
	fn      func(T) U
	out     chan U
	workers int
	maxTake int // the most values a worker takes in one turn at the input

	// inMu serializes receiving from in with numbering the values received. A worker takes it only
	// with TryLock and otherwise waits on inWake, which gets a token, without waiting, each time
	// inMu is unlocked; so a worker waiting for its turn also gives up when done closes, and
	// counts as durably blocked in a synctest bubble, which a goroutine blocked in sync.Mutex.Lock
	// does not.
	inMu   sync.Mutex
	inWake chan struct{}
	next   uint64 // sequence number of the next value received; guarded by inMu

	// sent counts the results sent on out. A worker takes a value from in only while next-sent is
	// less than the window, len(results); otherwise it sets spaceWanted and waits on space, which
	// gets a token, without waiting, when sent grows while spaceWanted is set. Only the worker
	// holding inMu waits for space, and it checks sent again after setting spaceWanted and after
	// every wake-up, so one token is enough and none is lost.
	sent        atomic.Uint64
	space       chan struct{}
	spaceWanted atomic.Bool

	mu       sync.Mutex
	results  []U    // finished results by seq % len(results)
	ready    []bool // ready[i] reports whether results[i] holds a finished result not yet sent
	head     uint64 // sequence number of the next result to send
	emitting bool   // a worker is sending results on out
}

// orderedWorker is what one worker of [ParallelMapOrdered] keeps to itself between turns, so that
// a turn allocates nothing.
type orderedWorker[T, U any] struct {
	take  int // how many values to take in the next turn: 1, or maxTake while calls are cheap
	turns int
	vals  []T // the values of this turn
	run   []U // consecutive finished results taken from the window to send
}

// step takes up to own.take values in one turn at the input, computes their results and puts
// them in the window, sending every consecutive finished result when one of them is at the head.
// It reports false when the worker should stop.
func (w *reorderWindow[T, U]) step(own *orderedWorker[T, U]) bool {
	if !w.lockIn() {
		return false
	}
	if !w.waitSpace() {
		w.unlockIn()
		return false
	}
	v, ok := recv(w.done, w.in)
	if !ok {
		w.unlockIn()
		return false
	}
	seq := w.next
	vals := append(own.vals[:0], v)
	if own.take > 1 {
		// Take more only from a backlog, and only a share of it, so that no worker idles while
		// this one works through values it could have run.
		room := uint64(len(w.results)) - (w.next - w.sent.Load())
		limit := int(min(uint64(own.take), room, uint64(1+len(w.in)/w.workers)))
	more:
		for len(vals) < limit {
			select {
			case v, ok := <-w.in:
				if !ok {
					break more
				}
				vals = append(vals, v)
			default:
				break more
			}
		}
	}
	w.next += uint64(len(vals))
	w.unlockIn()

	// Now and then, time the turn's first call: cheap calls make the next turns take several
	// values, slow ones one value.
	measure := w.maxTake > 1 && own.turns%probeEvery == 0
	own.turns++
	for i, v := range vals {
		if !isOpen(w.done) { // no call starts once done is seen closed
			own.drop(vals)
			return false
		}
		var r U
		if measure && i == 0 {
			start := time.Now()
			r = w.fn(v)
			own.take = 1
			if time.Since(start) < cheapCall {
				own.take = w.maxTake
			}
		} else {
			r = w.fn(v)
		}
		if !w.finish(seq+uint64(i), r, &own.run) {
			own.drop(vals)
			return false
		}
	}
	own.drop(vals)
	return true
}

// finish puts r, the result of the value numbered seq, in the window and, if it is at the head of
// the window and no other worker is sending, sends every consecutive finished result, a run at a
// time. It reports false once done is closed.
func (w *reorderWindow[T, U]) finish(seq uint64, r U, run *[]U) bool {
	w.mu.Lock()
	size := uint64(len(w.results))
	w.results[seq%size], w.ready[seq%size] = r, true
	if w.emitting || seq != w.head {
		w.mu.Unlock() // the worker holding the head, or the one sending, sends this result later
		return true
	}
	w.emitting = true
	for {
		batch := (*run)[:0]
		for w.ready[w.head%size] {
			slot := w.head % size
			batch = append(batch, w.results[slot])
			var zero U
			w.results[slot], w.ready[slot] = zero, false
			w.head++
		}
		*run = batch
		if len(batch) == 0 {
			break
		}
		w.mu.Unlock()
		for _, r := range batch {
			if !send(w.done, w.out, r) {
				clear(batch)
				return false // done: the window is abandoned, and so is emitting
			}
			w.sent.Add(1)
			if w.spaceWanted.Load() {
				select { // make room in the window known, without waiting
				case w.space <- struct{}{}:
				default:
				}
			}
		}
		clear(batch)
		w.mu.Lock()
	}
	w.emitting = false
	w.mu.Unlock()
	return true
}

// lockIn locks inMu, or reports false once done is closed.
func (w *reorderWindow[T, U]) lockIn() bool {
	for spins := 0; !w.inMu.TryLock(); spins++ {
		if spins < 2 {
			runtime.Gosched() // the holder is usually about to unlock: cheaper than parking
			continue
		}
		if _, ok := recv(w.done, w.inWake); !ok {
			return false
		}
	}
	return true
}

// waitSpace waits, holding inMu, until the window has room for one more value, or reports false
// once done is closed.
func (w *reorderWindow[T, U]) waitSpace() bool {
	size := uint64(len(w.results))
	for w.next-w.sent.Load() >= size {
		w.spaceWanted.Store(true)
		if w.next-w.sent.Load() < size {
			w.spaceWanted.Store(false)
			return true
		}
		_, ok := recv(w.done, w.space)
		w.spaceWanted.Store(false)
		if !ok {
			return false
		}
	}
	return true
}

// unlockIn unlocks inMu and wakes a worker waiting for it, if any.
func (w *reorderWindow[T, U]) unlockIn() {
	w.inMu.Unlock()
	select {
	case w.inWake <- struct{}{}:
	default:
	}
}

// drop clears the values of a turn, so that they are not kept from the collector, and keeps the
// slice for the next turn.
func (own *orderedWorker[T, U]) drop(vals []T) {
	clear(vals)
	own.vals = vals[:0]
}
