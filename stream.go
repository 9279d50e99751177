package leaksafe

import (
	"fmt"
	"iter"
	"reflect"
	"slices"
)

// OrDone starts one goroutine that forwards every value of in to out, so that a consumer can range
// over out without selecting on done itself.
//
// The goroutine ends when in closes or when done closes. It then closes out, then terminated. OrDone
// does not close in; its sender does. A nil in never delivers, so the goroutine runs until done
// closes.
//
// out holds as many values as in can, and at least one: max(1, cap(in)). Every receive from in and
// every send on out gives up when done closes.
func OrDone[T any](done <-chan struct{}, in <-chan T) (out <-chan T, terminated <-chan struct{}) {
	ch := make(chan T, max(1, cap(in)))
	term := make(chan struct{})
	go func() {
		defer close(term)
		defer close(ch)
		for {
			v, ok := recv(done, in)
			if !ok || !send(done, ch, v) {
				return
			}
		}
	}()
	return ch, term
}

// Take starts one goroutine that forwards the first n values of in to out, then stops reading.
//
// The goroutine ends when it has sent n values, when in closes, or when done closes. It then closes
// out, then terminated. With n == 0 it ends at once without reading. Take does not read the value
// after the n-th and does not drain in: whatever feeds in is released when done closes, or at once
// when the pipeline runs under [Range].
//
// out holds as many values as in can, and at least one: max(1, cap(in)). Take panics if n < 0.
func Take[T any](done <-chan struct{}, in <-chan T, n int) (out <-chan T, terminated <-chan struct{}) {
	if n < 0 {
		panic(fmt.Sprintf("leaksafe: Take: n must be at least 0, got %d", n))
	}
	ch := make(chan T, max(1, cap(in)))
	term := make(chan struct{})
	go func() {
		defer close(term)
		defer close(ch)
		for range n {
			v, ok := recv(done, in)
			if !ok || !send(done, ch, v) {
				return
			}
		}
	}()
	return ch, term
}

// Map starts one goroutine that sends fn(v) on out for every value v received from in, in order.
//
// The goroutine ends when in closes or when done closes. It then closes out, then terminated. Map
// does not close in; its sender does. A nil in never delivers, so the goroutine runs until done
// closes.
//
// out holds as many values as in can, and at least one: max(1, cap(in)), so a buffer upstream
// flows on. Every receive and send gives up when done closes, and fn is not called for a value
// received after done is seen closed. Map panics if fn is nil. fn must not panic: a panic in fn is
// not recovered and crashes the program.
func Map[T, U any](done <-chan struct{}, in <-chan T, fn func(T) U) (out <-chan U, terminated <-chan struct{}) {
	if fn == nil {
		panic("leaksafe: Map: nil fn")
	}
	ch := make(chan U, max(1, cap(in)))
	term := make(chan struct{})
	go func() {
		defer close(term)
		defer close(ch)
		for {
			v, ok := recv(done, in)
			if !ok || !send(done, ch, fn(v)) {
				return
			}
		}
	}()
	return ch, term
}

// Filter starts one goroutine that forwards to out, in order, the values v of in for which keep(v)
// is true.
//
// The goroutine ends when in closes or when done closes. It then closes out, then terminated. Filter
// does not close in; its sender does. A nil in never delivers, so the goroutine runs until done
// closes.
//
// out holds as many values as in can, and at least one: max(1, cap(in)). Every receive and send
// gives up when done closes. Filter panics if keep is nil. keep must not panic: a panic in keep is
// not recovered and crashes the program.
func Filter[T any](done <-chan struct{}, in <-chan T, keep func(T) bool) (out <-chan T, terminated <-chan struct{}) {
	if keep == nil {
		panic("leaksafe: Filter: nil keep")
	}
	ch := make(chan T, max(1, cap(in)))
	term := make(chan struct{})
	go func() {
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
	}()
	return ch, term
}

// Tee starts one goroutine that sends every value of in on both out1 and out2.
//
// Tee sends each value to both outputs, in either order, before it reads the next one. out1 and
// out2 are unbuffered, whatever in holds, so a branch that is not read stalls the other one until
// done closes: the owner must read both, or close done.
//
// The goroutine ends when in closes or when done closes. It then closes out1 and out2, then
// terminated. Tee does not close in; its sender does.
func Tee[T any](done <-chan struct{}, in <-chan T) (out1, out2 <-chan T, terminated <-chan struct{}) {
	ch1 := make(chan T)
	ch2 := make(chan T)
	term := make(chan struct{})
	go func() {
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
	}()
	return ch1, ch2, term
}

// FanIn starts one goroutine per input that forwards the values of that input to out, so that out
// carries the values of every input, interleaved in no fixed order.
//
// Each goroutine ends when its input closes or when done closes. The last one to end closes out, then
// terminated, so out closes once every input has closed (or done has closed). With no inputs, out and
// terminated are closed at once. FanIn does not close its inputs. A nil input never delivers: its
// goroutine runs until done closes.
//
// out holds as many values as the largest of ins can, and at least one. Every receive and send gives
// up when done closes.
func FanIn[T any](done <-chan struct{}, ins ...<-chan T) (out <-chan T, terminated <-chan struct{}) {
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
// turn, in the order they arrive on chans, and forwards their values to out.
//
// The goroutine ends when chans closes after its last inner channel has been drained, or when done
// closes. It then closes out, then terminated. Bridge closes neither chans nor the inner channels:
// their senders do. A nil inner channel never delivers, so the goroutine waits on it until done
// closes.
//
// out holds as many values as chans can, and at least one: max(1, cap(chans)), since the inner
// channels are not known when out is made. Every receive and send gives up when done closes.
func Bridge[T any](done <-chan struct{}, chans <-chan (<-chan T)) (out <-chan T, terminated <-chan struct{}) {
	ch := make(chan T, max(1, cap(chans)))
	term := make(chan struct{})
	go func() {
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
	}()
	return ch, term
}

// Buffer starts one goroutine that forwards the values of in to out, where out holds up to size
// values, so that a fast producer can run ahead of a slow consumer by that many values.
//
// The goroutine ends when in closes or when done closes. It then closes out, then terminated; values
// still in out's buffer can be received after out is closed. Buffer does not close in; its sender
// does. A nil in never delivers, so the goroutine runs until done closes.
//
// out holds size values, whatever in holds, and the stages after Buffer keep that capacity: one
// Buffer near the source lets every stage after it hand over many values per wake-up instead of
// one. Every receive and send gives up when done closes. Every value still crosses each channel one
// at a time; to move more values per second than that allows, send slices instead: [FromSeq] over
// slices.Chunk, then stages over the chunks.
//
// Buffer panics if size < 1.
func Buffer[T any](done <-chan struct{}, in <-chan T, size int) (out <-chan T, terminated <-chan struct{}) {
	if size < 1 {
		panic(fmt.Sprintf("leaksafe: Buffer: size must be at least 1, got %d", size))
	}
	ch := make(chan T, size)
	term := make(chan struct{})
	go func() {
		defer close(term)
		defer close(ch)
		for {
			v, ok := recv(done, in)
			if !ok || !send(done, ch, v) {
				return
			}
		}
	}()
	return ch, term
}

// Or returns a channel that is closed when any of signals is closed.
//
// Or starts at most one goroutine, which ends as soon as one of signals is closed. It starts none
// when a signal is already closed, when there is only one signal (Or returns it), or when there are
// none: Or with no signals returns nil, a channel that never closes. A nil signal never closes and is
// ignored.
//
// If none of signals ever closes, the goroutine never ends: pass at least one signal that will close,
// such as the owner's done.
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
	go func() {
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
	}()
	return orDone
}

// All returns a channel that is closed when every one of signals is closed. It joins the terminated
// channels of several calls: <-All(t1, t2) waits for both.
//
// All starts at most one goroutine, which ends as soon as every signal is closed. It starts none when
// every signal is already closed or when there is only one signal (All returns it). All with no
// signals returns a channel that is already closed.
//
// A nil signal never closes, so All with a nil signal never closes, and its goroutine never ends; so
// it is with any signal that never closes.
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
		go func() {
			defer close(allDone)
			for i := range n {
				<-few[i]
			}
		}()
	default:
		many := slices.Clone(pending)
		go func() {
			defer close(allDone)
			for _, s := range many {
				<-s
			}
		}()
	}
	return allDone
}

// allFew is how many open signals [All] copies into its goroutine without allocating a slice.
const allFew = 8

// Values returns an iterator over the values received from in, for use in a for range loop. It starts
// no goroutine.
//
// The iteration ends when in closes, when done closes, or when the loop ends. Values does not close in
// and does not stop whatever sends on in: it is for a channel whose owner is the caller. To consume a
// pipeline and stop it when the loop ends, use [Range].
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
// [NewRandStream], or a closure that chains several stages on the done it is given and returns the
// last output and a terminated that closes after every goroutine it started.
//
//	var evens leaksafe.Source[int] = func(done <-chan struct{}) (<-chan int, <-chan struct{}) {
//		nums, t1 := leaksafe.NewRandStream(done)
//		out, t2 := leaksafe.Filter(done, nums, func(n int) bool { return n%2 == 0 })
//		return out, leaksafe.All(t1, t2)
//	}
type Source[T any] func(done <-chan struct{}) (out <-chan T, terminated <-chan struct{})

// Range returns an iterator that starts src with a done channel of its own and yields the values
// src sends, for use in a for range loop.
//
// Each iteration starts src afresh. When the loop ends for any reason (src's output closes, break,
// return, a panic in the loop body, or done closing), Range closes the done channel it gave src and
// waits for src's terminated before the loop statement completes: nothing of src is left running and
// nothing is drained. A panic in the loop body goes on unwinding after src has stopped; if src itself
// panics, whatever it started with the done channel is stopped too.
//
// done is the outer done: when it closes, Range stops the pipeline and ends the loop the next time the
// loop waits for a value. A nil done never closes.
//
// Range panics if src is nil. src must return a terminated that closes once its goroutines have
// stopped, or the loop never completes; when src returns a nil terminated, which could not be waited
// for, the loop panics before it yields a value, after closing the done channel it gave src.
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
