package leaksafe

import (
	"fmt"
	"slices"
	"time"
)

// Ward starts a goroutine that a [Steward] can watch and restart: it starts the goroutine with a done
// channel of its own and a pulse interval, and returns its heartbeat and terminated.
//
// A healthy ward pulses on heartbeat at least once every pulseInterval, without ever waiting on an
// unread heartbeat. It stops when done closes, then closes heartbeat, then terminated. The function
// itself must not block: it starts the goroutine and returns.
//
// [DoWorkWithPulse] with its input and fn fixed is a Ward, and so is every Ward that [Steward]
// returns: a steward can watch another steward.
type Ward func(done <-chan struct{}, pulseInterval time.Duration) (heartbeat <-chan struct{}, terminated <-chan struct{})

// Steward returns a [Ward] that, each time it is started, starts one goroutine, the steward, which
// starts ward and restarts it whenever its heartbeat has been silent for timeout: a goroutine that
// heals the goroutine it watches.
//
// The steward starts ward with a done channel of its own and a pulse interval of timeout/2 (at least
// 1ns). When no pulse has come from the ward for timeout since it was started or since its last pulse,
// the steward closes that ward's done, calls onRestart, if it is not nil, with the number of restarts
// so far (1, 2, … for each start of the steward), and then starts a fresh ward. A ward that ends by
// itself falls silent and is restarted in the same way, timeout after its last pulse, so a steward
// runs until done closes.
//
// The steward pulses on its own heartbeat every pulseInterval, which is what makes it a Ward. Its
// heartbeat holds at most one pulse; a pulse is dropped when one is already waiting, so the steward
// never waits on an unread heartbeat.
//
// The steward ends only when done closes; with a nil done, it never ends. It then closes the current
// ward's done and its own heartbeat, waits for every ward it has started to close its terminated, and
// then closes terminated. It starts no ward once it has seen done closed, and none at all if done is
// already closed when it starts.
//
// The steward does not wait for an unhealthy ward to stop before it starts a fresh one: it closes the
// unhealthy ward's done and leaves it. A ward that ignores its done goes on running beside its
// replacement and keeps the steward's terminated open until it ends, and forever if it never does:
// the steward cannot stop such a goroutine, and its terminated reports the leak instead of hiding it.
//
// Steward panics if timeout <= 0 or ward is nil, and the Ward it returns panics if pulseInterval <= 0.
// ward and onRestart are called from the steward's goroutine, which neither pulses nor watches while
// they run: they must not block and must not panic, and ward must return a terminated that closes once
// the ward has stopped.
func Steward(timeout time.Duration, ward Ward, onRestart func(restarts int)) Ward {
	if timeout <= 0 {
		panic(fmt.Sprintf("leaksafe: Steward: timeout must be greater than 0, got %v", timeout))
	}
	if ward == nil {
		panic("leaksafe: Steward: nil ward")
	}
	wardPulse := max(timeout/2, time.Nanosecond)
	return func(done <-chan struct{}, pulseInterval time.Duration) (heartbeat <-chan struct{}, terminated <-chan struct{}) {
		if pulseInterval <= 0 {
			panic(fmt.Sprintf("leaksafe: Steward: pulseInterval must be greater than 0, got %v", pulseInterval))
		}
		beat := make(chan struct{}, 1)
		term := make(chan struct{})
		go func() {
			var wards []<-chan struct{} // the terminated of every ward started and not yet seen to end
			defer close(term)
			defer func() {
				for _, t := range wards {
					<-t
				}
			}()
			defer close(beat)
			var wardDone chan struct{}
			var wardBeat <-chan struct{}
			// start starts a fresh ward, or reports false and starts none once done is closed.
			start := func() bool {
				if !isOpen(done) {
					return false
				}
				wards = slices.DeleteFunc(wards, func(t <-chan struct{}) bool { return !isOpen(t) })
				wardDone = make(chan struct{})
				var wardTerm <-chan struct{}
				wardBeat, wardTerm = ward(wardDone, wardPulse)
				wards = append(wards, wardTerm)
				return true
			}
			if !start() {
				return
			}
			ticker := time.NewTicker(pulseInterval)
			defer ticker.Stop()
			silence := time.NewTimer(timeout)
			defer silence.Stop()
			for restarts := 0; ; {
				select {
				case <-ticker.C:
					pulse(beat)
				case _, ok := <-wardBeat:
					if !ok {
						wardBeat = nil // the ward has ended: it stays silent until it is restarted
						continue
					}
					resetTimer(silence, timeout)
				case <-silence.C:
					close(wardDone)
					if !isOpen(done) {
						return
					}
					restarts++
					if onRestart != nil {
						onRestart(restarts)
					}
					if !start() {
						return
					}
					resetTimer(silence, timeout)
				case <-done:
					close(wardDone)
					return
				}
			}
		}()
		return beat, term
	}
}
