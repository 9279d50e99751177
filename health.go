package leaksafe

import (
	"fmt"
	"time"
)

// DoWorkWithPulse is [DoWork] that pulses on heartbeat every pulseInterval while it is not inside
// fn, so that silence means a call of fn hangs: what a [Steward] watches for. After a call during
// which a pulse fell due, it pulses at once. heartbeat holds one pulse and a pulse is dropped when
// one is waiting. With in and fn fixed it is a [Ward]. It panics if pulseInterval <= 0 or fn is
// nil. Ending, closing order and panics are as the package doc says.
func DoWorkWithPulse[T any](
	done <-chan struct{}, in <-chan T, pulseInterval time.Duration, fn func(T),
) (heartbeat <-chan struct{}, terminated <-chan struct{}) {
	if pulseInterval <= 0 {
		panic(fmt.Sprintf("leaksafe: DoWorkWithPulse: pulseInterval must be greater than 0, got %v",
			pulseInterval))
	}
	if fn == nil {
		panic("leaksafe: DoWorkWithPulse: nil fn")
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

// DoWorkWithHeartbeat is [DoWork] that pulses on heartbeat just before each call of fn, to tell
// whoever reads it that work has begun. heartbeat holds one pulse and a pulse is dropped when one
// is waiting, so reading it is optional. An idle worker does not pulse: to watch one that may wait
// long for work, as a [Steward] does, use [DoWorkWithPulse]. heartbeat closes before terminated.
// Ending, closing order and panics are as the package doc says.
func DoWorkWithHeartbeat[T any](
	done <-chan struct{}, in <-chan T, fn func(T),
) (heartbeat <-chan struct{}, terminated <-chan struct{}) {
	if fn == nil {
		panic("leaksafe: DoWorkWithHeartbeat: nil fn")
	}
	beat := make(chan struct{}, 1)
	return stage(beat, func() {
		each(done, in, func(v T) bool {
			if !isOpen(done) {
				return false
			}
			pulse(beat)
			fn(v)
			return true
		})
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
