package leaksafe

import (
	"iter"
)

// Values returns an iterator over the values received from in; it starts no goroutine. The loop
// ends when in closes, when done closes, or when the loop body leaves it. Values stops nothing
// that sends on in: to consume a pipeline and stop it when the loop ends, use [Range].
func Values[T any](done <-chan struct{}, in <-chan T) iter.Seq[T] {
	return func(yield func(T) bool) {
		each(done, in, yield)
	}
}

// Source is a pipeline that can be started with a done channel: a constructor such as
// [NewRandStream], or a closure that chains stages on the done it is given and returns the last
// output and a terminated that closes after every goroutine it started ([All]). [Range] runs one.
type Source[T any] func(done <-chan struct{}) (out <-chan T, terminated <-chan struct{})

// Range returns an iterator that starts src with a done channel of its own and yields the values
// src sends. When the loop ends for any reason (src's output closes, break, return, a panic in the
// loop body, or the outer done closing), Range closes that done and waits for src's terminated
// before the loop statement completes: nothing is left running and nothing is drained. Each
// iteration starts src afresh. Range panics if src is nil; src must return a terminated that
// closes once its goroutines have stopped, and a nil one panics before the first value.
func Range[T any](done <-chan struct{}, src Source[T]) iter.Seq[T] {
	if src == nil {
		panic("leaksafe: Range: nil src")
	}
	return func(yield func(T) bool) {
		stop := make(chan struct{})
		var out <-chan T
		var terminated <-chan struct{}
		defer func() {
			close(stop) // also stops whatever src started if src itself panicked
			if terminated != nil {
				<-terminated
			}
		}()
		out, terminated = src(stop)
		if terminated == nil {
			panic("leaksafe: Range: src returned a nil terminated")
		}
		each(done, out, yield)
	}
}

// Reduce folds the values of in into acc, in order, in the caller's goroutine: acc = fn(acc, v).
// It returns the final accumulator and nil when in closes, or the accumulator so far and
// [ErrStopped] once it has seen done closed. It does not drain in: the owner of the pipeline
// closes done. A panic in fn goes up to the caller. Reduce panics if fn is nil.
func Reduce[T, A any](done <-chan struct{}, in <-chan T, acc A, fn func(A, T) A) (A, error) {
	if fn == nil {
		panic("leaksafe: Reduce: nil fn")
	}
	for {
		v, ok := recv(done, in)
		if !ok {
			if !isOpen(done) {
				return acc, ErrStopped
			}
			return acc, nil
		}
		acc = fn(acc, v)
	}
}

// Collect reads in, in the caller's goroutine, and returns its values in order up to the first
// error: every value and nil when in closes, the values before an error and that error, or the
// values so far and [ErrStopped] once it has seen done closed. It reads nothing after an error and
// does not drain in: the owner of the pipeline closes done, as [Range] does.
func Collect[T any](done <-chan struct{}, in <-chan Result[T]) ([]T, error) {
	var values []T
	for {
		r, ok := recv(done, in)
		if !ok {
			if !isOpen(done) {
				return values, ErrStopped
			}
			return values, nil
		}
		if r.Err != nil {
			return values, r.Err
		}
		values = append(values, r.Value)
	}
}

// Result carries a value, or the error that took its place, through a stream. A value dropped when
// done closes is never released, so a Result must not own a resource (an *http.Response, an open
// file): do the resource's whole life inside fn and send what it yields.
type Result[T any] struct {
	Value T
	Err   error
}

// Try makes a [Result] from the two results of a call, so that a function returning (T, error)
// feeds a stream: ParallelMap(done, urls, 8, func(u string) Result[[]byte] { return Try(fetch(ctx,
// u)) }), where fetch reads and closes the body with a ctx from [WithDone].
func Try[T any](v T, err error) Result[T] {
	return Result[T]{Value: v, Err: err}
}
