package leaksafe

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
