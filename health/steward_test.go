package health_test

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaksafe/leaksafe/health"
)

// script says how one start of a recorded ward behaves.
type script struct {
	beats   int           // pulses, one per pulse interval, before it falls silent; -1 pulses until done
	quit    bool          // after its beats, it ends by itself instead of waiting for done
	release chan struct{} // if not nil, after its beats it ignores done and ends when release closes
}

var healthy = script{beats: -1}

// wardRecorder is a test ward whose n-th start (from 0) follows script(n). It records, as offsets
// from t0, when each start began and ended (-1 while running), and every call of onRestart.
type wardRecorder struct {
	t0     time.Time
	script func(n int) script

	mu       sync.Mutex
	started  []time.Duration
	ended    []time.Duration
	restarts []restart
}

type restart struct {
	n  int
	at time.Duration
}

func newWardRecorder(script func(n int) script) *wardRecorder {
	return &wardRecorder{t0: time.Now(), script: script}
}

func (r *wardRecorder) ward(done <-chan struct{}, pulseInterval time.Duration) (<-chan struct{}, <-chan struct{}) {
	r.mu.Lock()
	n := len(r.started)
	r.started = append(r.started, time.Since(r.t0))
	r.ended = append(r.ended, -1)
	r.mu.Unlock()
	s := r.script(n)
	heartbeat := make(chan struct{}, 1)
	terminated := make(chan struct{})
	go func() {
		defer close(terminated)
		defer func() {
			r.mu.Lock()
			r.ended[n] = time.Since(r.t0)
			r.mu.Unlock()
		}()
		defer close(heartbeat)
		ticker := time.NewTicker(pulseInterval)
		defer ticker.Stop()
		for i := 0; s.beats < 0 || i < s.beats; i++ {
			select {
			case <-ticker.C:
				select {
				case heartbeat <- struct{}{}:
				default:
				}
			case <-done:
				return
			}
		}
		switch {
		case s.quit:
		case s.release != nil:
			<-s.release
		default:
			<-done
		}
	}()
	return heartbeat, terminated
}

func (r *wardRecorder) onRestart(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.restarts = append(r.restarts, restart{n, time.Since(r.t0)})
}

// record returns copies of what r has recorded so far.
func (r *wardRecorder) record() (started, ended []time.Duration, restarts []restart) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.started...), append([]time.Duration(nil), r.ended...),
		append([]restart(nil), r.restarts...)
}

func TestSteward(t *testing.T) {
	const timeout = 10 * time.Second // so wards pulse every 5s
	t.Run("a healthy ward is never restarted", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newWardRecorder(func(int) script { return healthy })
			done := make(chan struct{})
			_, terminated := health.Steward(timeout, r.ward, r.onRestart)(done, time.Second)
			time.Sleep(10 * time.Minute)
			close(done)
			<-terminated
			started, ended, restarts := r.record()
			assert.Equal(t, atSeconds(0), started)
			assert.Equal(t, atSeconds(600), ended, "the ward is stopped when done closes")
			assert.Empty(t, restarts)
		})
	})
	t.Run("a busy healthy DoWorkWithPulse is never restarted", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var mu sync.Mutex
			calls, starts := 0, 0
			busy := func(done <-chan struct{}, pulseInterval time.Duration) (<-chan struct{}, <-chan struct{}) {
				mu.Lock()
				starts++
				mu.Unlock()
				// in always holds the next value, and each call takes 0.6×timeout, longer than the
				// pulse interval: the pulse after each call is all that keeps the ward alive.
				return health.DoWorkWithPulse(done, feed(done, -1), pulseInterval, func(int) {
					mu.Lock()
					calls++
					mu.Unlock()
					time.Sleep(timeout * 6 / 10)
				})
			}
			var restarts []int
			done := make(chan struct{})
			_, terminated := health.Steward(timeout, busy, func(n int) { restarts = append(restarts, n) })(done, time.Hour)
			time.Sleep(200 * timeout)
			close(done)
			<-terminated
			assert.Empty(t, restarts, "a ward that pulses after every call is healthy")
			assert.Equal(t, 1, starts, "the ward is started once")
			assert.Equal(t, 334, calls, "calls start every 6s, the last at 1998s runs to its end")
		})
	})
	t.Run("a ward that hangs is restarted after exactly timeout", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newWardRecorder(func(n int) script {
				if n == 0 {
					return script{beats: 3} // pulses at 5s, 10s and 15s, then hangs until done
				}
				return healthy
			})
			done := make(chan struct{})
			_, terminated := health.Steward(timeout, r.ward, r.onRestart)(done, time.Second)
			time.Sleep(2 * time.Minute)
			close(done)
			<-terminated
			started, ended, restarts := r.record()
			assert.Equal(t, atSeconds(0, 25), started, "restarted timeout after the last pulse")
			assert.Equal(t, atSeconds(25, 120), ended, "the hung ward's done is closed when it is replaced")
			assert.Equal(t, []restart{{1, 25 * time.Second}}, restarts)
		})
	})
	t.Run("a ward that never pulses is restarted every timeout", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newWardRecorder(func(int) script { return script{beats: 0} })
			done := make(chan struct{})
			_, terminated := health.Steward(timeout, r.ward, r.onRestart)(done, time.Second)
			time.Sleep(time.Minute + 5*time.Second)
			close(done)
			<-terminated
			started, _, restarts := r.record()
			assert.Equal(t, atSeconds(0, 10, 20, 30, 40, 50, 60), started)
			assert.Equal(t, []restart{{1, 10 * time.Second}, {2, 20 * time.Second}, {3, 30 * time.Second},
				{4, 40 * time.Second}, {5, 50 * time.Second}, {6, 60 * time.Second}}, restarts,
				"onRestart counts the restarts")
		})
	})
	t.Run("a ward that ends by itself is restarted timeout after its last pulse", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newWardRecorder(func(n int) script {
				if n == 0 {
					return script{beats: 2, quit: true} // pulses at 5s and 10s, then ends
				}
				return healthy
			})
			done := make(chan struct{})
			_, terminated := health.Steward(timeout, r.ward, r.onRestart)(done, time.Second)
			time.Sleep(time.Minute)
			close(done)
			<-terminated
			started, ended, _ := r.record()
			assert.Equal(t, atSeconds(0, 20), started)
			assert.Equal(t, atSeconds(10, 60), ended)
		})
	})
	t.Run("a ward that ignores its done keeps terminated open until it ends", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			release := make(chan struct{})
			r := newWardRecorder(func(n int) script {
				if n == 0 {
					return script{beats: 0, release: release}
				}
				return healthy
			})
			done := make(chan struct{})
			heartbeat, terminated := health.Steward(timeout, r.ward, r.onRestart)(done, time.Second)
			time.Sleep(30 * time.Second)
			close(done)
			synctest.Wait()
			drain(t, heartbeat) // the steward has stopped watching: its heartbeat is closed
			assert.False(t, isClosed(terminated), "terminated closed while a ward it started still runs")
			time.Sleep(10 * time.Second)
			close(release)
			<-terminated
			started, ended, restarts := r.record()
			assert.Equal(t, atSeconds(0, 10), started, "the stuck ward was replaced without waiting for it")
			assert.Equal(t, atSeconds(40, 30), ended, "terminated waits for the ward that ignored done")
			assert.Equal(t, []restart{{1, 10 * time.Second}}, restarts)
		})
	})
	t.Run("the steward pulses every pulse interval", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newWardRecorder(func(int) script { return script{beats: 0} })
			done := make(chan struct{})
			heartbeat, terminated := health.Steward(timeout, r.ward, nil)(done, time.Second)
			pulses := pulseTimes(heartbeat)
			time.Sleep(time.Minute + time.Second/2)
			close(done)
			<-terminated
			assert.Equal(t, secondsUpTo(60), pulses(t), "restarts do not disturb the steward's own pulse")
		})
	})
	t.Run("done closed before the start starts no ward", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newWardRecorder(func(int) script { return healthy })
			done := make(chan struct{})
			close(done)
			heartbeat, terminated := health.Steward(timeout, r.ward, r.onRestart)(done, time.Second)
			<-terminated
			assert.Empty(t, drain(t, heartbeat))
			started, _, _ := r.record()
			assert.Empty(t, started)
		})
	})
	t.Run("each start counts its own restarts", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var mu sync.Mutex
			var counts []int
			steward := health.Steward(timeout, newWardRecorder(func(int) script { return script{beats: 0} }).ward,
				func(n int) {
					mu.Lock()
					defer mu.Unlock()
					counts = append(counts, n)
				})
			for range 2 {
				done := make(chan struct{})
				_, terminated := steward(done, time.Second)
				time.Sleep(25 * time.Second)
				close(done)
				<-terminated
			}
			assert.Equal(t, []int{1, 2, 1, 2}, counts)
		})
	})
}

func TestStewardsStack(t *testing.T) {
	t.Run("the inner steward heals its ward, the outer one sees a healthy steward", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newWardRecorder(func(n int) script {
				if n == 0 {
					return script{beats: 3} // pulses at 5s, 10s, 15s, then hangs
				}
				return healthy
			})
			var outerRestarts []int
			inner := health.Steward(10*time.Second, r.ward, r.onRestart)
			outer := health.Steward(time.Minute, inner, func(n int) { outerRestarts = append(outerRestarts, n) })
			done := make(chan struct{})
			_, terminated := outer(done, time.Second)
			time.Sleep(5 * time.Minute)
			close(done)
			<-terminated
			started, ended, restarts := r.record()
			assert.Equal(t, atSeconds(0, 25), started)
			assert.Equal(t, atSeconds(25, 300), ended, "closing the outer done stops everything")
			assert.Equal(t, []restart{{1, 25 * time.Second}}, restarts)
			assert.Empty(t, outerRestarts, "the inner steward pulsed all along")
		})
	})
	t.Run("the outer steward restarts an inner steward that stops pulsing", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			release := make(chan struct{})
			r := newWardRecorder(func(n int) script {
				if n == 0 {
					return script{beats: 0} // the inner steward restarts it at 10s
				}
				return healthy
			})
			var mu sync.Mutex
			var innerRestarts []restart
			inner := health.Steward(10*time.Second, r.ward, func(n int) {
				mu.Lock()
				innerRestarts = append(innerRestarts, restart{n, time.Since(r.t0)})
				hang := len(innerRestarts) == 1
				mu.Unlock()
				if hang {
					<-release // the first inner steward hangs here, and falls silent
				}
			})
			var outerRestarts []restart
			outer := health.Steward(time.Minute, inner, func(n int) {
				outerRestarts = append(outerRestarts, restart{n, time.Since(r.t0)})
			})
			done := make(chan struct{})
			_, terminated := outer(done, time.Second)
			time.Sleep(2 * time.Minute)
			close(done)
			synctest.Wait()
			assert.False(t, isClosed(terminated), "the hung inner steward has not ended")
			close(release)
			<-terminated
			started, ended, _ := r.record()
			// Start 0 belongs to the first inner steward, which hung in onRestart at 10s and never
			// started another; start 1 belongs to the inner steward that replaced it at 60s, when the
			// first had been silent for the outer timeout.
			require.Equal(t, atSeconds(0, 60), started)
			assert.Equal(t, atSeconds(10, 120), ended)
			assert.Equal(t, []restart{{1, 60 * time.Second}}, outerRestarts)
			assert.Equal(t, []restart{{1, 10 * time.Second}}, innerRestarts)
		})
	})
}
