package leakwatch

import (
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeCheck makes w's checks return a report that cost cost, or err, and counts them.
func fakeCheck(w *Watcher, cost time.Duration, err error) *atomic.Int32 {
	var calls atomic.Int32
	w.check = func() (Report, error) {
		n := calls.Add(1)
		if err != nil {
			return Report{}, err
		}
		return Report{Time: time.Now(), Mode: ModeProfile, Goroutines: int(n), Cost: cost, Sites: []Site{}}, nil
	}
	return &calls
}

// receive returns the next report, or fails t if reports is closed or nothing comes.
func receive(t *testing.T, reports <-chan Report) Report {
	t.Helper()
	select {
	case r, ok := <-reports:
		require.True(t, ok, "reports closed, want a report")
		return r
	case <-time.After(time.Hour): // synctest's clock: an hour passes only when nothing else can happen
		require.FailNow(t, "no report within an hour")
		return Report{}
	}
}

// ended requires that Watch has closed reports, then terminated.
func ended(t *testing.T, reports <-chan Report, terminated <-chan struct{}) {
	t.Helper()
	synctest.Wait()
	select {
	case <-terminated:
	default:
		require.FailNow(t, "terminated not closed")
	}
	_, ok := <-reports
	assert.False(t, ok, "reports closed")
}

func TestWatchKeepsToTheBudget(t *testing.T) {
	tests := []struct {
		name      string
		cost      time.Duration
		interval  time.Duration
		wantEvery time.Duration
		stretched bool
	}{
		{"checks cheap enough for the interval", 10 * time.Millisecond, 10 * time.Second, 10 * time.Second, false},
		{"a check that costs 1% of the interval", 100 * time.Millisecond, 10 * time.Second, 10 * time.Second, false},
		{"checks too costly for the interval", time.Second, 10 * time.Second, 100 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := New()
				calls := fakeCheck(w, tt.cost, nil)
				done := make(chan struct{})
				reports, terminated := w.Watch(done, tt.interval)
				start := time.Now()
				for i := range 3 {
					r := receive(t, reports)
					assert.Equal(t, time.Duration(i)*tt.wantEvery, time.Since(start), "report %d", i)
					assert.Equal(t, i+1, r.Goroutines, "report %d comes from check %d", i, i+1)
					assert.Equal(t, tt.wantEvery, r.Next, "report %d: when the next check is", i)
					assert.Equal(t, tt.stretched, r.Stretched, "report %d: stretched", i)
				}
				close(done)
				ended(t, reports, terminated)
				assert.EqualValues(t, 3, calls.Load(), "no check after done closed")
			})
		})
	}
}

func TestWatchBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := New(Budget(0.5)) // a check of 1s may run every 2s
		fakeCheck(w, time.Second, nil)
		done := make(chan struct{})
		reports, terminated := w.Watch(done, time.Second)
		r := receive(t, reports)
		assert.Equal(t, 2*time.Second, r.Next)
		assert.True(t, r.Stretched)
		assert.Contains(t, r.String(), "next check in 2s to stay under the CPU budget")
		close(done)
		ended(t, reports, terminated)
	})
}

func TestWatchWaitsForTheChecksOfOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := New()
		calls := fakeCheck(w, 100*time.Millisecond, nil) // one check every 10s at most
		done := make(chan struct{})
		reports, terminated := w.Watch(done, 10*time.Second)
		start := time.Now()
		receive(t, reports)
		time.Sleep(5 * time.Second)
		_, err := w.Snapshot() // allows the next check at 15s only
		require.NoError(t, err)
		receive(t, reports)
		assert.Equal(t, 15*time.Second, time.Since(start))
		assert.EqualValues(t, 3, calls.Load())
		close(done)
		ended(t, reports, terminated)
	})
}

func TestWatchEnds(t *testing.T) {
	tests := []struct {
		name      string
		run       func(t *testing.T, done chan struct{}, reports <-chan Report)
		wantCalls int32
	}{
		{
			name:      "done already closed",
			run:       func(*testing.T, chan struct{}, <-chan Report) {},
			wantCalls: 0,
		},
		{
			name: "done closed while waiting for the next check",
			run: func(t *testing.T, done chan struct{}, reports <-chan Report) {
				t.Helper()
				receive(t, reports)
				time.Sleep(time.Second)
			},
			wantCalls: 1,
		},
		{
			name: "done closed while a report waits to be read",
			run: func(t *testing.T, done chan struct{}, reports <-chan Report) {
				t.Helper()
				synctest.Wait()
			},
			wantCalls: 1,
		},
		{
			name: "done closed after reports were read",
			run: func(t *testing.T, done chan struct{}, reports <-chan Report) {
				t.Helper()
				receive(t, reports)
				receive(t, reports)
			},
			wantCalls: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := New()
				calls := fakeCheck(w, time.Millisecond, nil)
				done := make(chan struct{})
				if tt.wantCalls == 0 {
					close(done)
				}
				reports, terminated := w.Watch(done, time.Minute)
				tt.run(t, done, reports)
				if tt.wantCalls > 0 {
					close(done)
				}
				ended(t, reports, terminated)
				assert.Equal(t, tt.wantCalls, calls.Load())
			})
		})
	}
}

func TestWatchReportsAFailedCheck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := New()
		fakeCheck(w, 0, errors.New("leakwatch: writing the goroutine leak profile: boom"))
		done := make(chan struct{})
		reports, terminated := w.Watch(done, time.Minute)
		r := receive(t, reports)
		assert.Equal(t, "leakwatch: writing the goroutine leak profile: boom", r.Error)
		assert.Equal(t, "leakwatch: the check failed: leakwatch: writing the goroutine leak profile: boom", r.String())
		assert.Empty(t, r.Sites)
		start := time.Now()
		receive(t, reports)
		assert.Equal(t, time.Minute, time.Since(start), "the next check after the interval")
		close(done)
		ended(t, reports, terminated)
	})
}

func TestMisusePanics(t *testing.T) {
	tests := []struct {
		name string
		call func()
		want string
	}{
		{"Watch with a zero interval", func() { Watch(nil, 0) }, "leakwatch: Watch: interval must be positive, got 0s"},
		{"Watch with a negative interval", func() { New().Watch(nil, -time.Second) },
			"leakwatch: Watch: interval must be positive, got -1s"},
		{"Budget of zero", func() { Budget(0) }, "leakwatch: Budget: fraction must be in (0, 1], got 0"},
		{"Budget over one CPU", func() { Budget(1.5) }, "leakwatch: Budget: fraction must be in (0, 1], got 1.5"},
		{"Threshold of zero", func() { Threshold(0) }, "leakwatch: Threshold: d must be positive, got 0s"},
		{"Ignore with an empty name", func() { Ignore("main.f", "") }, "leakwatch: Ignore: funcs[1] is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.PanicsWithValue(t, tt.want, tt.call)
		})
	}
}

// failingProfile is a leak profile that cannot be written, or writes text that is no dump.
type failingProfile struct {
	err  error
	text string
}

func (p failingProfile) WriteTo(w io.Writer, _ int) error {
	if p.err != nil {
		return p.err
	}
	_, err := w.Write([]byte(p.text))
	return err
}

func TestSnapshotErrors(t *testing.T) {
	tests := []struct {
		name    string
		profile failingProfile
		want    string
	}{
		{"the profile fails", failingProfile{err: errors.New("disk full")},
			"leakwatch: writing the goroutine leak profile: disk full"},
		{"the profile is empty", failingProfile{},
			"leakwatch: reading the goroutine dump (0 bytes): no goroutine in the dump"},
		{"the profile is not a dump", failingProfile{text: "goroutineleak profile: total 3\n1 @ 0x1 0x2\n"},
			"leakwatch: reading the goroutine dump (43 bytes): no goroutine in the dump"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := New()
			w.profile = tt.profile
			r, err := w.Snapshot()
			require.EqualError(t, err, tt.want)
			assert.Equal(t, Report{}, r)
			assert.True(t, strings.HasPrefix(err.Error(), "leakwatch: "))
		})
	}
}
