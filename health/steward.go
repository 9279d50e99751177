package health

import (
	"fmt"
	"slices"
	"time"
)

// Ward starts a goroutine that a [Steward] can watch and restart, with a done channel of its own
// and a pulse interval, and returns its heartbeat and terminated. A healthy ward pulses at least
// once every pulseInterval without waiting on an unread heartbeat, and stops when done closes. The
// function itself must not block.
type Ward func(
	done <-chan struct{}, pulseInterval time.Duration,
) (heartbeat <-chan struct{}, terminated <-chan struct{})

// Steward returns a [Ward] that, each time it is started, starts one goroutine that starts ward
// and restarts it whenever its heartbeat has been silent for timeout: it closes that ward's done,
// calls onRestart (if not nil) with the count of restarts, and starts a fresh ward. The steward
// pulses every pulseInterval, so a steward can watch another.
//
// When done closes, it closes the current ward's done and its heartbeat, waits for every ward it
// started, then closes terminated. It does not wait for an unhealthy ward before replacing it: a
// ward that ignores its done keeps terminated open, which reports the leak instead of hiding it.
// ward and onRestart run on the steward's goroutine and must not block or panic. Steward panics if
// timeout <= 0 or ward is nil.
func Steward(timeout time.Duration, ward Ward, onRestart func(restarts int)) Ward {
	if timeout <= 0 {
		panic(fmt.Sprintf("health: Steward: timeout must be greater than 0, got %v", timeout))
	}
	if ward == nil {
		panic("health: Steward: nil ward")
	}
	wardPulse := max(timeout/2, time.Nanosecond)
	return func(
		done <-chan struct{}, pulseInterval time.Duration,
	) (heartbeat <-chan struct{}, terminated <-chan struct{}) {
		if pulseInterval <= 0 {
			panic(fmt.Sprintf("health: Steward: pulseInterval must be greater than 0, got %v",
				pulseInterval))
		}
		beat := make(chan struct{}, 1)
		term := make(chan struct{})
		spawn(func() {
			// the terminated of every ward started and not yet seen to end
			var wards []<-chan struct{}
			// This returns once done closes; a panic in ward or onRestart skips the closes below.
			func() {
				var wardDone chan struct{}
				var wardBeat <-chan struct{}
				// start starts a fresh ward, or reports false and starts none once done is closed.
				start := func() bool {
					if !isOpen(done) {
						return false
					}
					ended := func(t <-chan struct{}) bool { return !isOpen(t) }
					wards = slices.DeleteFunc(wards, ended)
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
							// the ward has ended: it stays silent until it is restarted
							wardBeat = nil
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
			close(beat)
			for _, t := range wards {
				<-t
			}
			close(term)
		})
		return beat, term
	}
}
