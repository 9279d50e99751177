package leaksafe_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaksafe/leaksafe"
)

// sendAt starts a test-owned producer that sends each value at its offset from now, then closes the
// channel at closeAt. It gives up when done closes.
func sendAt(done <-chan struct{}, at []time.Duration, closeAt time.Duration) <-chan int {
	t0 := time.Now()
	ch := make(chan int)
	go func() {
		defer close(ch)
		for i, d := range append(at, closeAt) {
			time.Sleep(time.Until(t0.Add(d)))
			if i == len(at) {
				return
			}
			select {
			case ch <- i:
			case <-done:
				return
			}
		}
	}()
	return ch
}

// received records what arrives on out and when, as offsets from now, until out closes.
type received[O any] struct {
	at     time.Duration
	values O
}

func receiveAll[O any](t *testing.T, out <-chan O) []received[O] {
	t.Helper()
	t0 := time.Now()
	var got []received[O]
	for v := range out {
		got = append(got, received[O]{time.Since(t0), v})
	}
	return got
}

func TestBatch(t *testing.T) {
	t.Run("batches end at size, at maxWait after their first value, and when in closes", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			in := sendAt(nil, atSeconds(0, 0, 0, 0.5, 1.2, 2, 2.1, 2.2, 5, 5.9, 7), 7300*time.Millisecond)
			out, terminated := leaksafe.Batch(nil, in, 3, time.Second)
			got := receiveAll(t, out)
			<-terminated
			assert.Equal(t, []received[[]int]{
				{0, []int{0, 1, 2}},                       // size reached at once
				{1500 * time.Millisecond, []int{3, 4}},    // maxWait after 3 arrived at 0.5s
				{2200 * time.Millisecond, []int{5, 6, 7}}, // size reached before maxWait
				{6 * time.Second, []int{8, 9}},            // maxWait after 8 arrived at 5s; no batch while idle
				{7300 * time.Millisecond, []int{10}},      // the partial batch, flushed when in closes
			}, got)
		})
	})
	t.Run("done drops the partial batch without waiting", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			done := make(chan struct{})
			in := make(chan int)
			out, terminated := leaksafe.Batch(done, in, 5, time.Second)
			in <- 1
			in <- 2
			close(done) // before maxWait, with no one reading out
			<-terminated
			assert.Empty(t, drain(t, out), "the partial batch is dropped")
		})
	})
	t.Run("size 1 sends each value on its own", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			out, terminated := leaksafe.Batch(nil, feed(nil, 3), 1, time.Second)
			assert.Equal(t, [][]int{{0}, {1}, {2}}, drain(t, out))
			<-terminated
		})
	})
	t.Run("batches do not share memory", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			out, terminated := leaksafe.Batch(nil, feed(nil, 4), 2, time.Second)
			got := drain(t, out)
			<-terminated
			require.Len(t, got, 2)
			got[0] = append(got[0], 99)
			assert.Equal(t, []int{2, 3}, got[1], "appending to one batch leaves the next alone")
		})
	})
}

func TestThrottle(t *testing.T) {
	t.Run("exactly burst + t/interval values in t", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			done := make(chan struct{})
			out, terminated := leaksafe.Throttle(done, feed(done, -1), time.Second, 3)
			time.AfterFunc(10*time.Second+time.Second/2, func() { close(done) })
			var at []time.Duration
			for _, r := range receiveAll(t, out) {
				at = append(at, r.at)
			}
			<-terminated
			assert.Equal(t, atSeconds(0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10), at)
			for secs := range 11 {
				n := 0
				for _, d := range at {
					if d <= time.Duration(secs)*time.Second {
						n++
					}
				}
				assert.Equal(t, 3+secs, n, "values received by %ds", secs)
			}
		})
	})
	t.Run("an idle bucket refills to burst and no further", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			in := sendAt(nil, atSeconds(0, 0, 0, 0, 0, 10, 10, 10, 10, 10), 10*time.Second)
			out, terminated := leaksafe.Throttle(nil, in, time.Second, 3)
			var at []time.Duration
			for _, r := range receiveAll(t, out) {
				at = append(at, r.at)
			}
			<-terminated
			assert.Equal(t, atSeconds(0, 0, 0, 1, 2, 10, 10, 10, 11, 12), at)
		})
	})
	t.Run("tokens add up while the consumer is slow", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			out, terminated := leaksafe.Throttle(nil, feed(nil, 6), time.Second, 3)
			t0 := time.Now()
			var at []time.Duration
			for v := range out {
				at = append(at, time.Since(t0))
				if v == 0 {
					time.Sleep(10 * time.Second)
				}
			}
			<-terminated
			assert.Equal(t, atSeconds(0, 10, 10, 10, 11, 12), at, "a burst, not more, after a pause")
		})
	})
	t.Run("burst 1 is one value per interval", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			out, terminated := leaksafe.Throttle(nil, feed(nil, 4), 250*time.Millisecond, 1)
			var at []time.Duration
			for _, r := range receiveAll(t, out) {
				at = append(at, r.at)
			}
			<-terminated
			assert.Equal(t, atSeconds(0, 0.25, 0.5, 0.75), at)
		})
	})
}

func TestBatchMisusePanics(t *testing.T) {
	in := closedChan[int]()
	cases := []struct {
		name string
		call func()
		want string
	}{
		{"Batch size 0", func() { leaksafe.Batch(nil, in, 0, time.Second) },
			"leaksafe: Batch: size must be at least 1, got 0"},
		{"Batch negative size", func() { leaksafe.Batch(nil, in, -2, time.Second) },
			"leaksafe: Batch: size must be at least 1, got -2"},
		{"Batch zero maxWait", func() { leaksafe.Batch(nil, in, 1, 0) },
			"leaksafe: Batch: maxWait must be greater than 0, got 0s"},
		{"Batch negative maxWait", func() { leaksafe.Batch(nil, in, 1, -time.Second) },
			"leaksafe: Batch: maxWait must be greater than 0, got -1s"},
		{"Throttle zero interval", func() { leaksafe.Throttle(nil, in, 0, 1) },
			"leaksafe: Throttle: interval must be greater than 0, got 0s"},
		{"Throttle negative interval", func() { leaksafe.Throttle(nil, in, -time.Millisecond, 1) },
			"leaksafe: Throttle: interval must be greater than 0, got -1ms"},
		{"Throttle burst 0", func() { leaksafe.Throttle(nil, in, time.Second, 0) },
			"leaksafe: Throttle: burst must be at least 1, got 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.PanicsWithValue(t, c.want, c.call, "the panic must name the package and the function")
		})
	}
}

// atSeconds returns the given numbers of seconds as durations, for comparing exact fake-clock times.
func atSeconds(secs ...float64) []time.Duration {
	d := make([]time.Duration, len(secs))
	for i, s := range secs {
		d[i] = time.Duration(s * float64(time.Second))
	}
	return d
}
