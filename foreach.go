package leaksafe

import "sync"

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
