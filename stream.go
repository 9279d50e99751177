package leaksafe

import (
	"fmt"
	"iter"
	"time"
)

// OrDone starts one goroutine that forwards every value of in to out, so that a consumer can range
// over out without selecting on done itself. Ending, closing order and panics are as the package
// doc says.
func OrDone[T any](done <-chan struct{}, in <-chan T) (out <-chan T, terminated <-chan struct{}) {
	ch := make(chan T, max(1, cap(in)))
	return stage(ch, func() {
		each(done, in, func(v T) bool { return send(done, ch, v) })
	})
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
	return stage(ch, func() {
		for range n {
			v, ok := recv(done, in)
			if !ok || !send(done, ch, v) {
				return
			}
		}
	})
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
	return stage(ch, func() {
		each(done, in, func(v T) bool { return send(done, ch, fn(v)) })
	})
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
	return stage(ch, func() {
		each(done, in, func(v T) bool { return !keep(v) || send(done, ch, v) })
	})
}

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
	return stage(ch, func() {
		each(done, in, func(v T) bool {
			u, keep := fn(v)
			return !keep || send(done, ch, u)
		})
	})
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
	return stage(ch, func() {
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
		each(done, in, func(v T) bool {
			if seq := fn(v); seq != nil {
				seq(yield)
			}
			return !stopped
		})
	})
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
	_, term := stage(ch2, func() {
		each(done, in, func(v T) bool {
			a, b := ch1, ch2 // a nil channel is never ready: each branch gets v once
			for a != nil || b != nil {
				select {
				case a <- v:
					a = nil
				case b <- v:
					b = nil
				case <-done:
					return false
				}
			}
			return true
		})
		close(ch1) // out1 closes, then stage closes out2 and terminated
	})
	return ch1, ch2, term
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
	_, term := stage(no, func() {
		each(done, in, func(v T) bool {
			to := no
			if keep(v) {
				to = yes
			}
			return send(done, to, v)
		})
		close(yes) // kept closes, then stage closes rest and terminated
	})
	return yes, no, term
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
	return stage(ch, func() {
		each(done, in, func(v T) bool { return send(done, ch, v) })
	})
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
	forward := func(v T) bool { return send(done, ch, v) }
	return stage(ch, func() {
		each(done, chans, func(stream <-chan T) bool {
			each(done, stream, forward)
			return isOpen(done) // stream closed or done: take the next one, or end
		})
	})
}

// Batch starts one goroutine that groups the values of in, in order, into batches of at most size
// values, and sends a batch on out as soon as it is full or maxWait after its first value arrived.
// When in closes, the partial batch is sent first; when done closes, it is dropped. Each batch is
// a new slice, never empty, owned by its receiver. out holds one batch, and in is not read while a
// batch waits to be sent. Batch panics if size < 1 or maxWait <= 0. Ending, closing order and
// panics are as the package doc says.
func Batch[T any](
	done <-chan struct{}, in <-chan T, size int, maxWait time.Duration,
) (out <-chan []T, terminated <-chan struct{}) {
	if size < 1 {
		panic(fmt.Sprintf("leaksafe: Batch: size must be at least 1, got %d", size))
	}
	if maxWait <= 0 {
		panic(fmt.Sprintf("leaksafe: Batch: maxWait must be greater than 0, got %v", maxWait))
	}
	ch := make(chan []T, 1)
	return stage(ch, func() {
		timer := time.NewTimer(maxWait) // the one timer: stopped until a batch starts
		timer.Stop()
		defer timer.Stop()
		var batch []T
		// timer.C while a batch is pending; nil, never ready, otherwise
		var expired <-chan time.Time
		for {
			select {
			case v, ok := <-in:
				if !ok {
					if len(batch) > 0 {
						send(done, ch, batch)
					}
					return
				}
				if batch == nil {
					batch = make([]T, 0, min(size, 1024)) // one allocation per batch, within reason
				}
				batch = append(batch, v)
				if len(batch) < size {
					if len(batch) == 1 {
						resetTimer(timer, maxWait)
						expired = timer.C
					}
					continue
				}
				timer.Stop()
			case <-expired:
			case <-done:
				return
			}
			expired = nil
			if !send(done, ch, batch) {
				return
			}
			batch = nil
		}
	})
}

// Throttle starts one goroutine that forwards the values of in to out, in order, at most burst at
// once and one more per interval after that: a token bucket of burst tokens, full at the start,
// one token per value, one added every interval. out is unbuffered, so a value counts when it is
// received. Throttle panics if interval <= 0 or burst < 1. Ending, closing order and panics are as
// the package doc says.
func Throttle[T any](
	done <-chan struct{}, in <-chan T, interval time.Duration, burst int,
) (out <-chan T, terminated <-chan struct{}) {
	if interval <= 0 {
		panic(fmt.Sprintf("leaksafe: Throttle: interval must be greater than 0, got %v", interval))
	}
	if burst < 1 {
		panic(fmt.Sprintf("leaksafe: Throttle: burst must be at least 1, got %d", burst))
	}
	ch := make(chan T)
	return stage(ch, func() {
		timer := time.NewTimer(interval) // the one timer: stopped until the bucket runs empty
		timer.Stop()
		defer timer.Stop()
		tokens, refilled := burst, time.Now()
		// refill adds one token for every interval since refilled, up to burst. A full bucket gains
		// nothing, so its clock starts again from now.
		refill := func() {
			now := time.Now()
			n := int(now.Sub(refilled) / interval)
			if n >= burst-tokens {
				tokens, refilled = burst, now
				return
			}
			tokens += n
			refilled = refilled.Add(time.Duration(n) * interval)
		}
		each(done, in, func(v T) bool {
			for refill(); tokens == 0; refill() {
				resetTimer(timer, time.Until(refilled.Add(interval)))
				select {
				case <-timer.C:
				case <-done:
					return false
				}
			}
			if !send(done, ch, v) {
				return false
			}
			refill() // tokens only grew while the consumer was awaited: take one as of now
			tokens--
			return true
		})
	})
}
