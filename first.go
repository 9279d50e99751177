package leaksafe

import (
	"errors"
	"fmt"
	"sync"
)

// First starts one goroutine per fn, which calls fn with a done channel of its own, and returns the
// result of the first fn to return: replicated requests, where the fastest answer wins. First is a
// blocking call, not a constructor: it returns only once every goroutine it started has ended, so
// none outlives the call, and it has no terminated to return.
//
// As soon as one fn returns, or done closes, First closes the done channel of every fn, then waits
// for every fn to return, and then returns. It returns the first result and true. If done closes
// first, it returns the zero value of T and false; a result that was ready before done closed is
// returned, never lost. If done is already closed, First calls no fn. A nil done never closes, so
// First then waits for the first fn to return.
//
// Each fn should return soon after its done closes: a fn that ignores its done delays First until it
// returns, and a fn that never returns blocks First forever. The results of the fns that lose are
// discarded. Every call of fn has returned before First returns.
//
// First is for fns that cannot fail, or whose failure should win the race too. To hedge requests,
// where a replica that fails fast must not win over a healthy one, use [FirstOK].
//
// First panics if fns is empty or any of fns is nil. The fns must not panic: a panic in fn is not
// recovered and crashes the program.
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
	results := make(chan T, len(fns)) // room for every result: a fn that loses never waits to hand it in
	stops := make([]chan struct{}, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		stop := make(chan struct{})
		stops[i] = stop
		wg.Go(func() { results <- fn(stop) })
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

// FirstOK starts one goroutine per fn, which calls fn with a done channel that FirstOK closes when the
// race is decided, and returns the
// result of the first fn to succeed (return a nil error): hedged requests, where a replica that fails
// fast does not win over a healthy one that is slower. Like [First], it is a blocking call: it returns
// only once every goroutine it started has ended.
//
// As soon as one fn succeeds, or done closes, FirstOK closes the fns' done channel, waits for
// every fn to return, and returns the winner's value and nil. When every fn fails, it returns the zero
// value of T and the errors of all of them, joined with errors.Join in the order of fns. When done
// closes first, it returns an error that matches [ErrStopped]; a success that was ready before done
// closed is returned, never lost. If done is already closed, FirstOK calls no fn. A nil done never
// closes.
//
// Each fn should return soon after its done closes; a fn that ignores it delays FirstOK until it
// returns. The results of the fns that lose are discarded: a value that owns a resource must be
// released by its fn, not returned.
//
// FirstOK panics if fns is empty or any of fns is nil. The fns must not panic: a panic in fn is not
// recovered and crashes the program.
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
		wg.Go(func() {
			v, err := fn(stop)
			outcomes <- outcome{i, v, err}
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
