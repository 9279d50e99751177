package health_test

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/leaksafe/leaksafe/health"
)

// atSeconds returns the given numbers of seconds as durations, for comparing exact fake-clock times.
func atSeconds(secs ...float64) []time.Duration {
	d := make([]time.Duration, len(secs))
	for i, s := range secs {
		d[i] = time.Duration(s * float64(time.Second))
	}
	return d
}

// secondsUpTo returns 1s, 2s, … ns.
func secondsUpTo(n int) []time.Duration {
	d := make([]time.Duration, n)
	for i := range d {
		d[i] = time.Duration(i+1) * time.Second
	}
	return d
}

// pulseTimes starts a test-owned reader of heartbeat that records when each pulse arrives, as offsets
// from now. The returned function waits, under the deadline, for heartbeat to close and returns them.
func pulseTimes(heartbeat <-chan struct{}) func(t *testing.T) []time.Duration {
	t0 := time.Now()
	got := make(chan []time.Duration, 1)
	go func() {
		var times []time.Duration
		for range heartbeat {
			times = append(times, time.Since(t0))
		}
		got <- times
	}()
	return func(t *testing.T) []time.Duration {
		t.Helper()
		return receive(t, got)
	}
}

// beater is a worker with a heartbeat under test.
type beater struct {
	name  string
	start func(done <-chan struct{}, in <-chan int, fn func(int)) (heartbeat, terminated <-chan struct{})
}

var beaters = []beater{
	{"DoWorkWithPulse", func(done <-chan struct{}, in <-chan int, fn func(int)) (<-chan struct{}, <-chan struct{}) {
		return health.DoWorkWithPulse(done, in, time.Second, fn)
	}},
	{"DoWorkWithHeartbeat", health.DoWorkWithHeartbeat[int]},
}

// TestHeartbeatTermination runs both workers with a heartbeat through every way they can end, on the
// fake clock. Each case ends by receiving from terminated under a deadline and checks that heartbeat
// was closed before it.
func TestHeartbeatTermination(t *testing.T) {
	for _, b := range beaters {
		t.Run(b.name, func(t *testing.T) {
			ended := func(t *testing.T, heartbeat, terminated <-chan struct{}) {
				t.Helper()
				waitClosed(t, terminated, "terminated")
				drain(t, heartbeat) // at most one pulse waits; then heartbeat must already be closed
			}
			t.Run("input drained to the end", func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					var got []int
					heartbeat, terminated := b.start(nil, feed(nil, 10), func(v int) { got = append(got, v) })
					ended(t, heartbeat, terminated)
					assert.Equal(t, count(10), got, "fn sees every value in order")
				})
			})
			t.Run("done closed before any value", func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					done := make(chan struct{})
					close(done)
					var calls atomic.Int64
					heartbeat, terminated := b.start(done, feed(done, -1), func(int) { calls.Add(1) })
					ended(t, heartbeat, terminated)
					assert.Zero(t, calls.Load(), "fn is not called once done is closed")
				})
			})
			t.Run("done closed mid-stream", func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					done := make(chan struct{})
					seen := make(chan int)
					heartbeat, terminated := b.start(done, feed(done, -1), func(v int) {
						select {
						case seen <- v:
						case <-done:
						}
					})
					receive(t, seen)
					receive(t, seen)
					close(done)
					ended(t, heartbeat, terminated)
				})
			})
			t.Run("fn blocked then done closed", func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					done := make(chan struct{})
					started := make(chan struct{})
					heartbeat, terminated := b.start(done, feed(done, -1), func(int) {
						close(started)
						<-done // a well-behaved fn honours done too
					})
					waitClosed(t, started, "fn started")
					close(done)
					ended(t, heartbeat, terminated)
				})
			})
			t.Run("nil input runs until done", func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					done := make(chan struct{})
					heartbeat, terminated := b.start(done, nil, func(int) { t.Error("fn called with a nil input") })
					time.Sleep(time.Hour)
					synctest.Wait()
					assert.False(t, isClosed(terminated), "a nil input must not end the worker")
					close(done)
					ended(t, heartbeat, terminated)
				})
			})
			t.Run("closed input ends at once", func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					heartbeat, terminated := b.start(nil, closedChan[int](), func(int) { t.Error("fn called with a closed input") })
					ended(t, heartbeat, terminated)
				})
			})
		})
	}
}

func TestDoWorkWithPulse(t *testing.T) {
	t.Run("sixty pulses in a simulated minute", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			done := make(chan struct{})
			heartbeat, terminated := health.DoWorkWithPulse(done, (<-chan int)(nil), time.Second, func(int) {})
			pulses := pulseTimes(heartbeat)
			time.Sleep(time.Minute + time.Second/2)
			close(done)
			<-terminated
			assert.Equal(t, secondsUpTo(60), pulses(t), "one pulse every second while idle, the first after one second")
		})
	})
	t.Run("silent while fn runs, one pulse at once after", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			done := make(chan struct{})
			in := make(chan int)
			heartbeat, terminated := health.DoWorkWithPulse(done, in, time.Second, func(int) {
				time.Sleep(3 * time.Second) // from 2.5s to 5.5s
			})
			pulses := pulseTimes(heartbeat)
			time.Sleep(2500 * time.Millisecond)
			in <- 1
			time.Sleep(5 * time.Second)
			close(done)
			<-terminated
			assert.Equal(t, atSeconds(1, 2, 5.5, 6, 7), pulses(t))
		})
	})
	// in always holds the next value here, so only a pulse with priority over it keeps the promise.
	// Ticks come at 1s, 2s, …; a pulse comes at the end of each call during which one came.
	busy := []struct {
		name       string
		values     int
		call       time.Duration
		pulseAfter []int // the calls, from 1, at whose end a pulse comes
	}{
		{"calls slower than the interval pulse after each call", 9, 1700 * time.Millisecond,
			[]int{1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"calls faster than the interval pulse after the call a tick came in", 19, 350 * time.Millisecond,
			[]int{3, 6, 9, 12, 15, 18}}, // ticks at 1s in [0.70s, 1.05s], 2s in [1.75s, 2.10s], …
	}
	for _, c := range busy {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				calls := 0
				heartbeat, terminated := health.DoWorkWithPulse(nil, feed(nil, c.values), time.Second, func(int) {
					calls++
					time.Sleep(c.call)
				})
				pulses := pulseTimes(heartbeat)
				<-terminated // on the fake clock: a worker that never ends fails as a deadlock
				var want []time.Duration
				for _, k := range c.pulseAfter {
					want = append(want, time.Duration(k)*c.call)
				}
				assert.Equal(t, c.values, calls, "fn sees every value")
				assert.Equal(t, want, pulses(t), "a tick that came during a call is pulsed as soon as it returns")
			})
		})
	}
	t.Run("an unread heartbeat never blocks the worker", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var calls int
			heartbeat, terminated := health.DoWorkWithPulse(nil, feed(nil, 100), time.Millisecond, func(int) {
				calls++
				time.Sleep(10 * time.Millisecond) // many intervals pass while no one reads heartbeat
			})
			<-terminated
			assert.Equal(t, 100, calls)
			assert.Len(t, drain(t, heartbeat), 1, "pulses beyond the one waiting are dropped")
		})
	})
}

func TestDoWorkWithHeartbeat(t *testing.T) {
	t.Run("one pulse per value, before fn", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			in := make(chan int)
			var pulsed []bool
			var heartbeat <-chan struct{} // set before the first value is sent, so before fn reads it
			heartbeat, terminated := health.DoWorkWithHeartbeat(nil, in, func(int) {
				select {
				case <-heartbeat:
					pulsed = append(pulsed, true)
				default:
					pulsed = append(pulsed, false)
				}
			})
			for i := range 5 {
				in <- i
			}
			close(in)
			<-terminated
			assert.Equal(t, []bool{true, true, true, true, true}, pulsed, "each call of fn finds its pulse waiting")
			assert.Empty(t, drain(t, heartbeat), "no pulse without a value")
		})
	})
	t.Run("an idle worker is silent", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			done := make(chan struct{})
			heartbeat, terminated := health.DoWorkWithHeartbeat(done, (<-chan int)(nil), func(int) {})
			pulses := pulseTimes(heartbeat)
			time.Sleep(time.Minute)
			close(done)
			<-terminated
			assert.Empty(t, pulses(t))
		})
	})
	t.Run("an unread heartbeat never blocks the worker", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var calls int
			heartbeat, terminated := health.DoWorkWithHeartbeat(nil, feed(nil, 100), func(int) { calls++ })
			<-terminated
			assert.Equal(t, 100, calls)
			assert.Len(t, drain(t, heartbeat), 1, "pulses beyond the one waiting are dropped")
		})
	})
}

func TestHealthMisusePanics(t *testing.T) {
	in := closedChan[int]()
	nop := func(int) {}
	ward := func(<-chan struct{}, time.Duration) (<-chan struct{}, <-chan struct{}) { return nil, nil }
	cases := []struct {
		name string
		call func()
		want string
	}{
		{"DoWorkWithPulse zero interval", func() { health.DoWorkWithPulse(nil, in, 0, nop) },
			"health: DoWorkWithPulse: pulseInterval must be greater than 0, got 0s"},
		{"DoWorkWithPulse negative interval", func() { health.DoWorkWithPulse(nil, in, -time.Second, nop) },
			"health: DoWorkWithPulse: pulseInterval must be greater than 0, got -1s"},
		{"DoWorkWithPulse nil fn", func() { health.DoWorkWithPulse(nil, in, time.Second, nil) },
			"health: DoWorkWithPulse: nil fn"},
		{"DoWorkWithHeartbeat nil fn", func() { health.DoWorkWithHeartbeat(nil, in, nil) },
			"health: DoWorkWithHeartbeat: nil fn"},
		{"Steward zero timeout", func() { health.Steward(0, ward, nil) },
			"health: Steward: timeout must be greater than 0, got 0s"},
		{"Steward negative timeout", func() { health.Steward(-time.Millisecond, ward, nil) },
			"health: Steward: timeout must be greater than 0, got -1ms"},
		{"Steward nil ward", func() { health.Steward(time.Second, nil, nil) },
			"health: Steward: nil ward"},
		{"Steward started with a zero pulse interval", func() { health.Steward(time.Second, ward, nil)(nil, 0) },
			"health: Steward: pulseInterval must be greater than 0, got 0s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.PanicsWithValue(t, c.want, c.call, "the panic must name the package and the function")
		})
	}
}
