package leaksafe

import (
	"fmt"
	"time"
)

// Batch starts one goroutine that groups the values of in, in order, into batches and sends each
// batch on out: a batch is sent as soon as it holds size values, or maxWait after its first value
// arrived, whichever comes first.
//
// The goroutine ends when in closes or when done closes. When in closes, the partial batch, if any, is
// sent first; when done closes, the partial batch is dropped and nothing more is sent, so the
// goroutine stops without waiting for the consumer. It then closes out, then terminated. Batch does
// not close in; its sender does. A nil in never delivers, so the goroutine runs until done closes.
//
// A batch is never empty and never holds more than size values. Each batch is a new slice, owned by
// whoever receives it. out holds at most one batch; while a batch waits to be sent, in is not read,
// so a slow consumer slows the producer rather than growing a batch. Batch uses one timer, reset for
// each batch and stopped when the goroutine ends. Every receive and send gives up when done closes.
//
// Batch groups values that reach it one at a time, so each value still costs one channel hand-off on
// its way in. Past that rate, batch at the source instead: [FromSeq] over slices.Chunk sends a whole
// slice per hand-off.
//
// Batch panics if size < 1 or maxWait <= 0.
func Batch[T any](done <-chan struct{}, in <-chan T, size int, maxWait time.Duration) (out <-chan []T, terminated <-chan struct{}) {
	if size < 1 {
		panic(fmt.Sprintf("leaksafe: Batch: size must be at least 1, got %d", size))
	}
	if maxWait <= 0 {
		panic(fmt.Sprintf("leaksafe: Batch: maxWait must be greater than 0, got %v", maxWait))
	}
	ch := make(chan []T, 1)
	term := make(chan struct{})
	go func() {
		defer close(term)
		defer close(ch)
		timer := time.NewTimer(maxWait) // the one timer: stopped until a batch starts
		timer.Stop()
		defer timer.Stop()
		var batch []T
		var expired <-chan time.Time // timer.C while a batch is pending; nil, never ready, otherwise
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
	}()
	return ch, term
}

// Throttle starts one goroutine that forwards the values of in to out, in order, at a rate limited by
// a token bucket: the bucket holds up to burst tokens and starts full, each value sent takes one
// token, and one token is added every interval. So at most burst values go out at once, and in any
// stretch of time t at most burst + t/interval values (t/interval rounded down) are received from out.
//
// The goroutine ends when in closes or when done closes. It then closes out, then terminated.
// Throttle does not close in; its sender does. A nil in never delivers, so the goroutine runs until
// done closes.
//
// out is unbuffered, so a value is counted when the consumer receives it, and tokens keep adding up,
// to at most burst, while no value is wanted or the consumer is slow. The goroutine holds at most one
// value of in while it waits for a token or for the consumer. Every wait, for a value, a token or
// the consumer, gives up when done closes. Throttle uses one timer, reset for each wait for a token
// and stopped when the goroutine ends.
//
// Throttle panics if interval <= 0 or burst < 1.
func Throttle[T any](done <-chan struct{}, in <-chan T, interval time.Duration, burst int) (out <-chan T, terminated <-chan struct{}) {
	if interval <= 0 {
		panic(fmt.Sprintf("leaksafe: Throttle: interval must be greater than 0, got %v", interval))
	}
	if burst < 1 {
		panic(fmt.Sprintf("leaksafe: Throttle: burst must be at least 1, got %d", burst))
	}
	ch := make(chan T)
	term := make(chan struct{})
	go func() {
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
	}()
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
