// Package health watches goroutines that must stay alive: workers that pulse on a heartbeat while
// they are well, and a [Steward] that restarts a worker whose heartbeat falls silent.
//
// The words and rules are those of [github.com/leaksafe/leaksafe]: every function that starts
// goroutines takes a done channel first and returns a terminated channel, closed as the last
// action of the last goroutine it started; a heartbeat is an output, closed before terminated; a
// function passed in must not panic.
package health

import (
	"fmt"
	"time"

	"github.com/leaksafe/leaksafe/internal/site"
)

// DoWorkWithPulse is [github.com/leaksafe/leaksafe.DoWork] that pulses on heartbeat every
// pulseInterval while it is not inside fn, so that silence means a call of fn hangs: what a
// [Steward] watches for. After a call during which a pulse fell due, it pulses at once. heartbeat
// holds one pulse and a pulse is dropped when one is waiting. With in and fn fixed it is a [Ward].
// It panics if pulseInterval <= 0 or fn is nil. Ending, closing order and panics are as the
// leaksafe package doc says.
func DoWorkWithPulse[T any](
	done <-chan struct{}, in <-chan T, pulseInterval time.Duration, fn func(T),
) (heartbeat <-chan struct{}, terminated <-chan struct{}) {
	if pulseInterval <= 0 {
		panic(fmt.Sprintf("health: DoWorkWithPulse: pulseInterval must be greater than 0, got %v",
			pulseInterval))
	}
	if fn == nil {
		panic("health: DoWorkWithPulse: nil fn")
	}
	beat := make(chan struct{}, 1)
	return stage(beat, func() {
		ticker := time.NewTicker(pulseInterval)
		defer ticker.Stop()
		// checked first, so a worker told to stop during fn takes no further value
		for isOpen(done) {
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
	})
}

// DoWorkWithHeartbeat is [github.com/leaksafe/leaksafe.DoWork] that pulses on heartbeat just
// before each call of fn, to tell whoever reads it that work has begun. heartbeat holds one pulse
// and a pulse is dropped when one is waiting, so reading it is optional. An idle worker does not
// pulse: to watch one that may wait long for work, as a [Steward] does, use [DoWorkWithPulse].
// heartbeat closes before terminated. Ending, closing order and panics are as the leaksafe package
// doc says.
func DoWorkWithHeartbeat[T any](
	done <-chan struct{}, in <-chan T, fn func(T),
) (heartbeat <-chan struct{}, terminated <-chan struct{}) {
	if fn == nil {
		panic("health: DoWorkWithHeartbeat: nil fn")
	}
	beat := make(chan struct{}, 1)
	return stage(beat, func() {
		for {
			v, ok := recv(done, in)
			if !ok || !isOpen(done) {
				return
			}
			pulse(beat)
			fn(v)
		}
	})
}

// pulse sends a pulse on heartbeat without waiting: when a pulse is already waiting in heartbeat's
// buffer, the new one is dropped.
func pulse(heartbeat chan<- struct{}) {
	select {
	case heartbeat <- struct{}{}:
	default:
	}
}

// spawn starts f in a new goroutine that runs site.Run first, as the leaksafe package's do, so
// that its goroutines carry the same labels and follow the same rule for runtime.Goexit.
//
//go:noinline
func spawn(f func()) {
	at := site.Here()
	go func() { site.Run(at, false, call, f) }()
}

// call calls f: site.Run's run for a closure.
func call(f func()) { f() }

// stage starts one goroutine that runs loop, then closes out and, as its last action, terminated.
// Neither closes when a function given to the worker panics: the program crashes with them open,
// as in the root package.
func stage(out chan struct{}, loop func()) (<-chan struct{}, <-chan struct{}) {
	term := make(chan struct{})
	spawn(func() {
		loop()
		close(out)
		close(term)
	})
	return out, term
}

// isOpen reports whether done is still open (not yet closed); a nil done is always open.
func isOpen(done <-chan struct{}) bool {
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// recv receives a value from in and reports true, or reports false when in is closed or done is
// closed. It tries a receive that does not wait before it waits on in and done together.
func recv[T any](done <-chan struct{}, in <-chan T) (v T, ok bool) {
	if !isOpen(done) {
		return v, false
	}
	select {
	case v, ok = <-in:
		return v, ok
	default:
	}
	select {
	case v, ok = <-in:
		return v, ok
	case <-done:
		return v, false
	}
}

// resetTimer makes t fire after d, whether it is running, stopped or has fired, and discards a
// value that t sent and nobody received.
func resetTimer(t *time.Timer, d time.Duration) {
	if !t.Stop() {
		select {
		case <-t.C:
		default:
		}
	}
	t.Reset(d)
}
