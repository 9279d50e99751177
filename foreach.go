package leaksafe

import "sync"

// ForEach starts workers goroutines that call fn for the values received from in, each value by
// exactly one of them, in no fixed order, and blocks until every one has returned. It is the
// blocking, error-aware form of [ParallelDoWork]: the caller is the owner, and nothing ForEach starts
// outlives the call.
//
// Each call of fn receives a done channel, the same for every call, which closes when the work is to
// stop: at the first call of fn that returns a non-nil error or panics, when the outer done closes,
// and at the latest when ForEach returns. Pass it on to the work, with [WithDone] for a context, so
// that a request in flight is cancelled too; whatever fn derives from it ends with the call. Once it
// has seen that done closed, ForEach starts no new call of fn and receives nothing more from in; it
// waits for the calls that are running and returns. A value that a worker received from in just as
// the outer done closed is dropped without a call of fn, as a stage drops the values it holds.
//
// ForEach returns nil when in closes and every call returned nil. It returns the first non-nil error
// that a call returned, or an error that matches [ErrStopped] (errors.Is) when the outer done closed
// first (errors that calls return once done is closed are taken for its effect); errors returned
// after that first cause are dropped. If a call of fn panicked, ForEach
// panics in the calling goroutine with a [*PanicError], after every call has returned; a call of
// runtime.Goexit in fn stops the work as an error does, and ForEach returns [ErrGoexit].
//
// ForEach does not close in and does not drain it: whatever feeds in is stopped by its own done. A
// nil in never delivers, so ForEach then blocks until done closes. ForEach panics if workers is not
// between 1 and 1<<20, or fn is nil. fn must be safe for concurrent use.
func ForEach[T any](done <-chan struct{}, in <-chan T, workers int, fn func(done <-chan struct{}, v T) error) error {
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
	goWorkers(workers, func(int) {
		returned := false
		defer func() {
			if !returned {
				failure.recordRecovered(recover())
				stopOnce.Do(func() { close(stop) })
			}
		}()
		for {
			v, ok := recv(stop, in)
			if !ok {
				break
			}
			if !isOpen(done) { // the caller closes stop when it sees done: look sooner
				stopWith(ErrStopped)
				break
			}
			if err := fn(stop, v); err != nil {
				if !isOpen(done) {
					err = ErrStopped // the error of work that done cut short, as a context cancels it
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
