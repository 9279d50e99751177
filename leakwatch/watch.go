package leakwatch

import (
	"fmt"
	"time"
)

// Watch checks the process periodically, as [Watcher.Watch] does for the Watcher of the
// package-level functions.
func Watch(
	done <-chan struct{}, interval time.Duration,
) (reports <-chan Report, terminated <-chan struct{}) {
	return std.Watch(done, interval)
}

// Watch starts one goroutine that checks the process, then again every interval, and sends each
// report on reports. The first check runs at once unless a recent [Watcher.Snapshot] or
// [Watcher.Handler] check leaves the budget no room yet; it then runs as soon as the budget allows.
// Each report says how every site moved since the previous check of w (its Previous count, or New).
// When done closes, the goroutine stops, closes reports, then terminated. A nil done never closes:
// the goroutine then runs for the life of the process.
//
// The goroutine keeps the checks under w's CPU budget: when a check cost c, the next begins no
// sooner than c divided by the budget after it, even if interval is shorter, and not before a check
// that [Watcher.Handler] or [Watcher.Snapshot] ran allows. A report's Next says when its next check
// is due, and Stretched says that the budget, not interval, set it. A check that fails sends a
// report that has the error in its Error field and no sites.
//
// reports is unbuffered: the goroutine waits for each report to be received (or for done) before it
// waits for the next check, so a slow reader slows the checks, and no report is dropped or stale.
//
// Watch panics if interval is not positive.
func (w *Watcher) Watch(
	done <-chan struct{}, interval time.Duration,
) (reports <-chan Report, terminated <-chan struct{}) {
	if interval <= 0 {
		panic(fmt.Sprintf("leakwatch: Watch: interval must be positive, got %v", interval))
	}
	out := make(chan Report)
	term := make(chan struct{})
	go func() {
		defer close(term)
		defer close(out)
		timer := time.NewTimer(0)
		defer timer.Stop()
		for {
			select {
			case <-done:
				return
			case <-timer.C:
			}
			select {
			case <-done: // closed while the timer fired too: no check after done
				return
			default:
			}
			if wait := w.untilNext(); wait > 0 { // another caller checked since
				timer.Reset(wait)
				continue
			}
			begin := time.Now()
			r, err := w.do()
			if err != nil {
				r = Report{Time: begin, Error: err.Error(), Next: r.Next}
			}
			r.Stretched = r.Next > interval
			r.Next = max(r.Next, interval)
			select {
			case out <- r:
			case <-done:
				return
			}
			timer.Reset(time.Until(begin.Add(r.Next)))
		}
	}()
	return out, term
}

// untilNext returns how long until a new check may begin under the budget.
func (w *Watcher) untilNext() time.Duration {
	w.lmu.Lock()
	defer w.lmu.Unlock()
	return time.Until(w.next)
}
