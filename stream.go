package leaksafe

import (
	"fmt"
	"iter"
	"reflect"
	"slices"
)

// OrDone starts one goroutine that forwards every value of in to out, so that a consumer can range
// over out without selecting on done itself. Ending, closing order and panics are as the package
// doc says.
func OrDone[T any](done <-chan struct{}, in <-chan T) (out <-chan T, terminated <-chan struct{}) {
	ch := make(chan T, max(1, cap(in)))
	term := make(chan struct{})
	go labeled(func() {
		defer close(term)
		defer close(ch)
		for {
			v, ok := recv(done, in)
			if !ok || !send(done, ch, v) {
				return
			}
		}
	})()
	return ch, term
}

// Take starts one goroutine that forwards the first n values of in to out, then ends without
// reading more: whatever feeds in is released when done closes, or at once under [Range]. With
// n == 0 it ends without reading. Take panics if n < 0. Ending, closing order and panics are as
// the package doc says.
func Take[T any](
	done <-chan struct{}, in <-chan T, n int,
) (out <-chan T, terminated <-chan struct{}) {
	if n < 0 {
		panic(fmt.Sprintf("leaksafe: Take: n must be at least 0, got %d", n))
	}
	ch := make(chan T, max(1, cap(in)))
	term := make(chan struct{})
	go labeled(func() {
		defer close(term)
		defer close(ch)
		for range n {
			v, ok := recv(done, in)
			if !ok || !send(done, ch, v) {
				return
			}
		}
	})()
	return ch, term
}

// Map starts one goroutine that sends fn(v) on out for every value v received from in, in order.
// Map panics if fn is nil. Ending, closing order and panics are as the package doc says.
func Map[T, U any](
	done <-chan struct{}, in <-chan T, fn func(T) U,
) (out <-chan U, terminated <-chan struct{}) {
	if fn == nil {
		panic("leaksafe: Map: nil fn")
	}
	ch := make(chan U, max(1, cap(in)))
	term := make(chan struct{})
	go labeled(func() {
		defer close(term)
		defer close(ch)
		for {
			v, ok := recv(done, in)
			if !ok || !send(done, ch, fn(v)) {
				return
			}
		}
	})()
	return ch, term
}

// Filter starts one goroutine that forwards to out, in order, the values v of in for which keep(v)
// is true. Filter panics if keep is nil. Ending, closing order and panics are as the package doc
// says.
func Filter[T any](
	done <-chan struct{}, in <-chan T, keep func(T) bool,
) (out <-chan T, terminated <-chan struct{}) {
	if keep == nil {
		panic("leaksafe: Filter: nil keep")
	}
	ch := make(chan T, max(1, cap(in)))
	term := make(chan struct{})
	go labeled(func() {
		defer close(term)
		defer close(ch)
		for {
			v, ok := recv(done, in)
			if !ok {
				return
			}
			if keep(v) && !send(done, ch, v) {
				return
			}
		}
	})()
	return ch, term
}

// Tee starts one goroutine that sends every value of in on both out1 and out2, in either order,
// before it reads the next. The outputs are unbuffered, so a branch that is not read stalls the
// other until done closes: read both, or close done. Ending, closing order and panics are as the
// package doc says.
func Tee[T any](
	done <-chan struct{}, in <-chan T,
) (out1, out2 <-chan T, terminated <-chan struct{}) {
	ch1 := make(chan T)
	ch2 := make(chan T)
	term := make(chan struct{})
	go labeled(func() {
		defer close(term)
		defer close(ch2)
		defer close(ch1)
		for {
			v, ok := recv(done, in)
			if !ok {
				return
			}
			a, b := ch1, ch2 // a nil channel is never ready: each branch gets v once
			for a != nil || b != nil {
				select {
				case a <- v:
					a = nil
				case b <- v:
					b = nil
				case <-done:
					return
				}
			}
		}
	})()
	return ch1, ch2, term
}

// FanIn starts one goroutine per input that forwards that input's values to out, so that out
// carries the values of every input, interleaved in no fixed order, and closes once every input
// has closed. With no inputs, out and terminated are closed at once. out holds as many values as
// the largest input can, and at least one. Ending, closing order and panics are as the package doc
// says.
func FanIn[T any](
	done <-chan struct{}, ins ...<-chan T,
) (out <-chan T, terminated <-chan struct{}) {
	size := 1
	for _, in := range ins {
		size = max(size, cap(in))
	}
	ch := make(chan T, size)
	term := make(chan struct{})
	if len(ins) == 0 {
		close(ch)
		close(term)
		return ch, term
	}
	goWorkers(len(ins), func(i int) {
		for {
			v, ok := recv(done, ins[i])
			if !ok || !send(done, ch, v) {
				return
			}
		}
	}, func() {
		close(ch)
		close(term)
	})
	return ch, term
}

// Bridge starts one goroutine that flattens a channel of channels: it drains each inner channel in
// turn, in the order they arrive on chans, and forwards their values to out. It ends when chans
// closes after its last inner channel, or when done closes; a nil inner channel blocks it until
// done closes. out holds max(1, cap(chans)) values. Ending, closing order and panics are as the
// package doc says.
func Bridge[T any](
	done <-chan struct{}, chans <-chan (<-chan T),
) (out <-chan T, terminated <-chan struct{}) {
	ch := make(chan T, max(1, cap(chans)))
	term := make(chan struct{})
	go labeled(func() {
		defer close(term)
		defer close(ch)
		for {
			stream, ok := recv(done, chans)
			if !ok {
				return
			}
			for {
				v, ok := recv(done, stream)
				if !ok {
					if !isOpen(done) {
						return
					}
					break // stream closed: take the next one
				}
				if !send(done, ch, v) {
					return
				}
			}
		}
	})()
	return ch, term
}

// Buffer starts one goroutine that forwards the values of in to out, which holds size values, so
// that a producer can run ahead of a slow consumer by that many values. The stages after Buffer
// keep that capacity, so one Buffer near the source lets a whole pipeline hand over many values
// per wake-up; past that rate, send slices ([slices.Chunk]). Buffer panics if size < 1. Ending,
// closing order and panics are as the package doc says.
func Buffer[T any](
	done <-chan struct{}, in <-chan T, size int,
) (out <-chan T, terminated <-chan struct{}) {
	if size < 1 {
		panic(fmt.Sprintf("leaksafe: Buffer: size must be at least 1, got %d", size))
	}
	ch := make(chan T, size)
	term := make(chan struct{})
	go labeled(func() {
		defer close(term)
		defer close(ch)
		for {
			v, ok := recv(done, in)
			if !ok || !send(done, ch, v) {
				return
			}
		}
	})()
	return ch, term
}

// Or returns a channel that is closed when any of signals is closed. It starts at most one
// goroutine, which ends as soon as one signal is closed, and none when a signal is already closed
// or there is only one (Or returns it). Or() returns nil, which never closes, and a nil signal is
// ignored: if no signal ever closes, the goroutine never ends, so pass one that will, such as the
// owner's done.
func Or(signals ...<-chan struct{}) <-chan struct{} {
	live := make([]<-chan struct{}, 0, len(signals))
	for _, s := range signals {
		if s == nil {
			continue
		}
		if !isOpen(s) {
			return s
		}
		live = append(live, s)
	}
	switch len(live) {
	case 0:
		return nil
	case 1:
		return live[0]
	}
	orDone := make(chan struct{})
	go labeled(func() {
		defer close(orDone)
		if len(live) == 2 {
			select {
			case <-live[0]:
			case <-live[1]:
			}
			return
		}
		cases := make([]reflect.SelectCase, len(live))
		for i, s := range live {
			cases[i] = reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(s)}
		}
		reflect.Select(cases)
	})()
	return orDone
}

// All returns a channel that is closed when every one of signals is closed: <-All(t1, t2) waits
// for both. It starts at most one goroutine, which ends as soon as every signal is closed, and
// none when every signal is already closed or there is only one (All returns it). All() is already
// closed. A signal that never closes (nil, say) keeps All and its goroutine open forever.
func All(signals ...<-chan struct{}) <-chan struct{} {
	if len(signals) == 1 {
		return signals[0]
	}
	var few [allFew]<-chan struct{} // the signals still open, when there are few: no allocation
	pending := few[:0]
	for _, s := range signals {
		if s == nil || isOpen(s) {
			pending = append(pending, s)
		}
	}
	allDone := make(chan struct{})
	switch n := len(pending); {
	case n == 0:
		close(allDone)
	case n <= allFew:
		few := few // pending is few[:n]: the goroutine gets a copy of the array, in its closure
		go labeled(func() {
			defer close(allDone)
			for i := range n {
				<-few[i]
			}
		})()
	default:
		many := slices.Clone(pending)
		go labeled(func() {
			defer close(allDone)
			for _, s := range many {
				<-s
			}
		})()
	}
	return allDone
}

// allFew is how many open signals [All] copies into its goroutine without allocating a slice.
const allFew = 8

// Values returns an iterator over the values received from in; it starts no goroutine. The loop
// ends when in closes, when done closes, or when the loop body leaves it. Values stops nothing
// that sends on in: to consume a pipeline and stop it when the loop ends, use [Range].
func Values[T any](done <-chan struct{}, in <-chan T) iter.Seq[T] {
	return func(yield func(T) bool) {
		for {
			v, ok := recv(done, in)
			if !ok || !yield(v) {
				return
			}
		}
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
		for {
			v, ok := recv(done, out)
			if !ok || !yield(v) {
				return
			}
		}
	}
}
