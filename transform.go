package leaksafe

import "iter"

// FilterMap starts one goroutine that calls fn(v) for every value v received from in and sends on
// out, in order, the results for which fn reports true. It does in one stage what [Map] to a
// [Result], [Filter] and Map again do in three: parse a line and skip it if it is bad, say.
//
// The goroutine ends when in closes or when done closes. It then closes out, then terminated.
// FilterMap does not close in; its sender does. A nil in never delivers, so the goroutine runs until
// done closes.
//
// out holds as many values as in can (max(1, cap(in))). Every receive and send gives up when done
// closes, and fn is not called for a value received after done is seen closed. FilterMap panics if
// fn is nil. fn must not panic: a panic in fn is not recovered and crashes the program.
func FilterMap[T, U any](done <-chan struct{}, in <-chan T, fn func(T) (U, bool)) (out <-chan U, terminated <-chan struct{}) {
	if fn == nil {
		panic("leaksafe: FilterMap: nil fn")
	}
	ch := make(chan U, max(1, cap(in)))
	term := make(chan struct{})
	go func() {
		defer close(term)
		defer close(ch)
		for {
			v, ok := recv(done, in)
			if !ok {
				return
			}
			if u, keep := fn(v); keep && !send(done, ch, u) {
				return
			}
		}
	}()
	return ch, term
}

// FlatMap starts one goroutine that calls fn(v) for every value v received from in and sends on out,
// in order, every value of the sequence that fn returns. It is how a stream of slices is unbatched:
// FlatMap(done, batches, slices.Values) sends the values of each slice in turn.
//
// The goroutine ends when in closes or when done closes. It then closes out, then terminated.
// FlatMap does not close in; its sender does. A nil in never delivers, so the goroutine runs until
// done closes. Once done is seen closed, the sequence's yield returns false, so a well-behaved
// sequence stops at once and the rest of it is never produced; a nil sequence yields nothing.
//
// out holds as many values as in can (max(1, cap(in))). Every receive and send gives up when done
// closes. FlatMap panics if fn is nil. fn and the sequences it returns must not panic, and the
// sequences must stop when yield returns false, as every iterator must.
func FlatMap[T, U any](done <-chan struct{}, in <-chan T, fn func(T) iter.Seq[U]) (out <-chan U, terminated <-chan struct{}) {
	if fn == nil {
		panic("leaksafe: FlatMap: nil fn")
	}
	ch := make(chan U, max(1, cap(in)))
	term := make(chan struct{})
	go func() {
		defer close(term)
		defer close(ch)
		// One yield for every sequence, rather than a range over each, which would allocate its
		// loop body anew for every value of in.
		stopped := false
		yield := func(u U) bool {
			if !send(done, ch, u) {
				stopped = true // done is closed: the sequence is told to stop, and so is FlatMap
				return false
			}
			return true
		}
		for {
			v, ok := recv(done, in)
			if !ok {
				return
			}
			if seq := fn(v); seq != nil {
				seq(yield)
			}
			if stopped {
				return
			}
		}
	}()
	return ch, term
}

// Partition starts one goroutine that sends every value v of in, in order, on kept if keep(v) is
// true and on rest otherwise: each value goes to exactly one of the two.
//
// kept and rest are unbuffered, and Partition sends each value before it reads the next one, so, as
// with [Tee], an output that is not read stalls the other one until done closes: the owner must read
// both (a branch it does not want can be drained with a for range), or close done.
//
// The goroutine ends when in closes or when done closes. It then closes kept and rest, then
// terminated. Partition does not close in; its sender does. A nil in never delivers, so the
// goroutine runs until done closes. Every receive and send gives up when done closes. Partition
// panics if keep is nil. keep must not panic: a panic in keep is not recovered and crashes the
// program.
func Partition[T any](done <-chan struct{}, in <-chan T, keep func(T) bool) (kept, rest <-chan T, terminated <-chan struct{}) {
	if keep == nil {
		panic("leaksafe: Partition: nil keep")
	}
	yes := make(chan T)
	no := make(chan T)
	term := make(chan struct{})
	go func() {
		defer close(term)
		defer close(no)
		defer close(yes)
		for {
			v, ok := recv(done, in)
			if !ok {
				return
			}
			to := no
			if keep(v) {
				to = yes
			}
			if !send(done, to, v) {
				return
			}
		}
	}()
	return yes, no, term
}
