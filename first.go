package leaksafe

import (
	"errors"
	"fmt"
	"sync"
)

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
		wg.Go(labeled(func() { results <- fn(stop) }))
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
// it owns.
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
		wg.Go(labeled(func() {
			v, err := fn(stop)
			outcomes <- outcome{i, v, err}
		}))
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
