package leaksafe

import (
	"fmt"
	"time"
)

// DoWorkWithPulse starts one goroutine that calls fn for every value received from in, one at a time,
// in order, and pulses on heartbeat every pulseInterval while it is not inside fn: a heartbeat on a
// time interval, which tells whoever reads it that the goroutine is alive even when it has no work.
//
// The goroutine ends when in closes or when done closes. It then closes heartbeat, then terminated.
// DoWorkWithPulse does not close in; its sender does. A nil in never delivers: the goroutine waits
// and pulses until done closes, so with a nil in the owner must close done.
//
// The first pulse comes pulseInterval after the start. No pulse is sent while fn runs, so a call of fn
// that hangs leaves heartbeat silent: that silence is what a [Steward] watches for. After a call of fn
// that took longer than pulseInterval (any call during which a pulse fell due), one pulse is sent at
// once, before the next value is taken from in, so a busy worker never looks silent to a Steward.
// heartbeat holds at most one pulse, and a pulse is dropped when one is already waiting, so the
// goroutine never waits on an unread heartbeat and reading heartbeat is optional. With in and fn
// fixed, DoWorkWithPulse is a [Ward].
//
// fn is not called for a value received after done is seen closed, and no value is taken from in
// once done is seen closed; a call of fn that is running when done closes is not interrupted, and
// terminated closes after it returns. The goroutine's ticker is stopped when it ends.
//
// DoWorkWithPulse panics if pulseInterval <= 0 or fn is nil. fn must not panic: a panic in fn is not
// recovered and crashes the program.
func DoWorkWithPulse[T any](done <-chan struct{}, in <-chan T, pulseInterval time.Duration, fn func(T)) (heartbeat <-chan struct{}, terminated <-chan struct{}) {
	if pulseInterval <= 0 {
		panic(fmt.Sprintf("leaksafe: DoWorkWithPulse: pulseInterval must be greater than 0, got %v", pulseInterval))
	}
	if fn == nil {
		panic("leaksafe: DoWorkWithPulse: nil fn")
	}
	beat := make(chan struct{}, 1)
	term := make(chan struct{})
	go func() {
		defer close(term)
		defer close(beat)
		ticker := time.NewTicker(pulseInterval)
		defer ticker.Stop()
		for isOpen(done) { // checked first, so a worker told to stop during fn takes no further value
			// A tick that came while fn ran is pulsed before the next value is taken: when in is
			// already ready, a select between the two would skip the pulse about half the time.
			select {
			case <-ticker.C:
				pulse(beat)
			default:
			}
			select {
			case <-ticker.C:
				pulse(beat)
			case v, ok := <-in:
				if !ok || !isOpen(done) {
					return
				}
				fn(v)
			case <-done:
				return
			}
		}
	}()
	return beat, term
}

// DoWorkWithHeartbeat starts one goroutine that calls fn for every value received from in, one at a
// time, in order, and pulses on heartbeat once per value, just before fn is called: a heartbeat at the
// beginning of each unit of work, which tells whoever reads it that work has begun.
//
// The goroutine ends when in closes or when done closes. It then closes heartbeat, then terminated.
// DoWorkWithHeartbeat does not close in; its sender does. A nil in never delivers, so the goroutine
// runs, silent, until done closes: with a nil in, the owner must close done.
//
// heartbeat holds at most one pulse, and a pulse is dropped when one is already waiting, so the
// goroutine never waits on an unread heartbeat and reading heartbeat is optional. An idle worker does
// not pulse: to watch a worker that may wait a long time for work, as a [Steward] does, use
// [DoWorkWithPulse].
//
// fn is not called, and no pulse is sent, for a value received after done is seen closed; a call of fn
// that is running when done closes is not interrupted, and terminated closes after it returns.
//
// DoWorkWithHeartbeat panics if fn is nil. fn must not panic: a panic in fn is not recovered and
// crashes the program.
func DoWorkWithHeartbeat[T any](done <-chan struct{}, in <-chan T, fn func(T)) (heartbeat <-chan struct{}, terminated <-chan struct{}) {
	if fn == nil {
		panic("leaksafe: DoWorkWithHeartbeat: nil fn")
	}
	beat := make(chan struct{}, 1)
	term := make(chan struct{})
	go func() {
		defer close(term)
		defer close(beat)
		for {
			v, ok := recv(done, in)
			if !ok || !isOpen(done) {
				return
			}
			pulse(beat)
			fn(v)
		}
	}()
	return beat, term
}

// pulse sends a pulse on heartbeat without waiting: when a pulse is already waiting in heartbeat's
// buffer, the new one is dropped.
func pulse(heartbeat chan<- struct{}) {
	select {
	case heartbeat <- struct{}{}:
	default:
	}
}
