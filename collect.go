package leaksafe

// Reduce folds the values of in into acc, in order: acc = fn(acc, v) for each value v. It starts no
// goroutine: it reads in in the caller's goroutine and blocks until in closes or done closes.
//
// When in closes, Reduce returns the final accumulator and nil. Once it has seen done closed, it
// reads nothing more and returns the accumulator so far and [ErrStopped]; a value that was ready
// at the moment done closed may or may not have been folded in. A nil in never delivers, so Reduce
// on a nil in returns only when done closes (never, with a nil done).
//
// Reduce does not close in and does not stop whatever sends on it: after an early return, the owner
// of the pipeline closes done, as [Range] does. Reduce panics if fn is nil. fn runs in the caller's
// goroutine, so a panic in fn goes up to the caller like any other.
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

// Collect returns the values of a stream of [Result], in order, up to the first error. It starts no
// goroutine: it reads in in the caller's goroutine and blocks until in closes, an error arrives or
// done closes.
//
// When in closes with no error on the way, Collect returns every value and nil. When a Result
// carries an error, Collect returns the values before it and that error, and reads nothing after
// it. Once it has seen done closed, it reads nothing more and returns the values so far and
// [ErrStopped]. The slice is nil when no value came before the end, the error or done.
//
// Collect does not drain in and does not stop whatever sends on it: after an error or done, the
// owner of the pipeline closes done, as [Range] does, so that the stages before it stop. A nil in
// never delivers, so Collect on a nil in returns only when done closes (never, with a nil done).
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
