package leaksafe

// DoWork starts one goroutine that calls fn for every value received from in, one at a time, in
// order. It is the leak-safe form of the doWork program that this package grew from.
//
// The goroutine ends when in closes or when done closes, and then closes terminated. DoWork does not
// close in; its sender does. A nil in never delivers, so the goroutine runs until done closes: with a
// nil in, the owner must close done. fn is not called for a value received after done is seen closed;
// a call of fn that is running when done closes is not interrupted, and terminated closes after it
// returns.
//
// DoWork panics if fn is nil. fn must not panic: a panic in fn is not recovered and crashes the
// program.
func DoWork[T any](done <-chan struct{}, in <-chan T, fn func(T)) (terminated <-chan struct{}) {
	if fn == nil {
		panic("leaksafe: DoWork: nil fn")
	}
	term := make(chan struct{})
	go func() {
		defer close(term)
		for {
			v, ok := recv(done, in)
			if !ok {
				return
			}
			fn(v)
		}
	}()
	return term
}
