package leaksafe

import "iter"

// FilterMap starts one goroutine that calls fn(v) for every value v of in and sends on out, in
// order, the results for which fn reports true: what Map to a Result, Filter and Map do in three
// stages, such as parsing a line and skipping it if it is bad. FilterMap panics if fn is nil.
// Ending, closing order and panics are as the package doc says.
func FilterMap[T, U any](
	done <-chan struct{}, in <-chan T, fn func(T) (U, bool),
) (out <-chan U, terminated <-chan struct{}) {
	if fn == nil {
		panic("leaksafe: FilterMap: nil fn")
	}
	ch := make(chan U, max(1, cap(in)))
	term := make(chan struct{})
	go labeled(func() {
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
	})()
	return ch, term
}

// FlatMap starts one goroutine that calls fn(v) for every value v of in and sends on out, in
// order, every value of the sequence fn returns: FlatMap(done, batches, slices.Values) unbatches a
// stream of slices. Once done is seen closed, the sequence's yield returns false. FlatMap panics
// if fn is nil; the sequences must stop when yield returns false, as every iterator must. Ending,
// closing order and panics are as the package doc says.
func FlatMap[T, U any](
	done <-chan struct{}, in <-chan T, fn func(T) iter.Seq[U],
) (out <-chan U, terminated <-chan struct{}) {
	if fn == nil {
		panic("leaksafe: FlatMap: nil fn")
	}
	ch := make(chan U, max(1, cap(in)))
	term := make(chan struct{})
	go labeled(func() {
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
	})()
	return ch, term
}

// Partition starts one goroutine that sends every value v of in, in order, on kept if keep(v) is
// true and on rest otherwise. kept and rest are unbuffered and each value is sent before the next
// is read, so, as with [Tee], an output that is not read stalls the other until done closes: read
// both, or close done. Partition panics if keep is nil. Ending, closing order and panics are as
// the package doc says.
func Partition[T any](
	done <-chan struct{}, in <-chan T, keep func(T) bool,
) (kept, rest <-chan T, terminated <-chan struct{}) {
	if keep == nil {
		panic("leaksafe: Partition: nil keep")
	}
	yes := make(chan T)
	no := make(chan T)
	term := make(chan struct{})
	go labeled(func() {
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
	})()
	return yes, no, term
}
