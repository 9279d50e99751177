package leaksafe

import (
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
