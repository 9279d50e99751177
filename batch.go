package leaksafe

import (
	"fmt"
	"time"
)

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
	term := make(chan struct{})
	go labeled(func() {
		defer close(term)
		defer close(ch)
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
	})()
	return ch, term
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
	term := make(chan struct{})
	go labeled(func() {
		defer close(term)
		defer close(ch)
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
		for {
			v, ok := recv(done, in)
			if !ok {
				return
			}
			for refill(); tokens == 0; refill() {
				resetTimer(timer, time.Until(refilled.Add(interval)))
				select {
				case <-timer.C:
				case <-done:
					return
				}
			}
			if !send(done, ch, v) {
				return
			}
			refill() // tokens only grew while the consumer was awaited: take one as of now
			tokens--
		}
	})()
	return ch, term
}

// resetTimer makes t fire after d, whether it is running, stopped or has fired. It discards a value
// that t sent and nobody received, so a stale value is never received after the reset, whichever
// timer behaviour the program's GODEBUG selects.
func resetTimer(t *time.Timer, d time.Duration) {
	if !t.Stop() {
		select {
		case <-t.C:
		default:
		}
	}
	t.Reset(d)
}
