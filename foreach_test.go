package leaksafe_test

import (
	"errors"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaksafe/leaksafe"
)

// forEach runs leaksafe.ForEach under the deadline (see within) and returns what it panicked with,
// or its error.
func forEach[T any](t *testing.T, done <-chan struct{}, in <-chan T, workers int, fn func(<-chan struct{}, T) error) (panicked any, err error) {
	t.Helper()
	return within(t, "ForEach", func() error { return leaksafe.ForEach(done, in, workers, fn) })
}

// TestForEachCalls checks which calls of fn ForEach makes when done closes or fn fails: only for
// values received before, each once.
func TestForEachCalls(t *testing.T) {
	errBoom := errors.New("boom")
	cases := []struct {
		name string
		// run calls ForEach through forEach and returns its error, the values fn was called with, and
		// how many calls saw their done closed when they returned.
		run       func(t *testing.T, fn func(<-chan struct{}, int) error) error
		fn        func(done <-chan struct{}, v int) error // nil: record the value and return nil
		wantErr   error
		wantCalls func(calls []int) bool
	}{
		{
			name: "done closed mid-stream",
			run: func(t *testing.T, fn func(<-chan struct{}, int) error) error {
				prod, done := make(chan struct{}), make(chan struct{})
				defer close(prod)
				in := make(chan int)
				go func() {
					defer close(in)
					for i := 0; ; i++ {
						if i == 10 {
							close(done)
						}
						select {
						case in <- i:
						case <-prod:
							return
						}
					}
				}()
				_, err := forEach(t, done, in, 3, fn)
				return err
			},
			wantErr: leaksafe.ErrStopped,
			// only values sent before done closed, each once
			wantCalls: func(calls []int) bool { return slices.Max(append(calls, 0)) < 10 && unique(calls) },
		},
		{
			name: "first error stops the work",
			run: func(t *testing.T, fn func(<-chan struct{}, int) error) error {
				prod := make(chan struct{})
				defer close(prod)
				_, err := forEach(t, nil, feed(prod, -1), 3, fn)
				return err
			},
			fn: func(done <-chan struct{}, v int) error {
				if v == 7 {
					return errBoom
				}
				return nil
			},
			wantErr:   errBoom,
			wantCalls: func(calls []int) bool { return slices.Contains(calls, 7) && unique(calls) },
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var calls []int
			fn := func(done <-chan struct{}, v int) error {
				mu.Lock()
				calls = append(calls, v)
				mu.Unlock()
				if tc.fn != nil {
					return tc.fn(done, v)
				}
				return nil
			}
			err := tc.run(t, fn)
			if tc.wantErr == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tc.wantErr)
			}
			mu.Lock()
			defer mu.Unlock()
			assert.True(t, tc.wantCalls(slices.Clone(calls)), "unexpected calls: %v", calls)
		})
	}
}

// TestForEachStopsRunningCalls checks that the first error closes the done channel of the calls
// still running, and that ForEach returns only after they have returned.
func TestForEachStopsRunningCalls(t *testing.T) {
	errBoom := errors.New("boom")
	prod := make(chan struct{})
	defer close(prod)
	var running, stopped atomic.Int64
	started := make(chan struct{}, 3)
	_, err := forEach(t, nil, feed(prod, -1), 4, func(done <-chan struct{}, v int) error {
		if v == 3 {
			for range 3 { // fail once the three other workers are inside fn
				<-started
			}
			return errBoom
		}
		running.Add(1)
		defer running.Add(-1)
		started <- struct{}{}
		<-done
		stopped.Add(1)
		return errors.New("cancelled") // after the first error: dropped
	})
	require.ErrorIs(t, err, errBoom)
	assert.Equal(t, int64(0), running.Load(), "a call was still running when ForEach returned")
	assert.Equal(t, int64(3), stopped.Load(), "every running call saw its done close")
}

func TestForEachLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, workers := range []int{1, 2, 5} {
			var now, peak atomic.Int64
			err := leaksafe.ForEach(nil, sliceChan(count(50)), workers, func(_ <-chan struct{}, _ int) error {
				raise(&peak, now.Add(1))
				time.Sleep(time.Millisecond)
				now.Add(-1)
				return nil
			})
			require.NoError(t, err)
			assert.Equal(t, int64(workers), peak.Load(), "calls at once with %d workers", workers)
		}
	})
}

// TestForEachNeverDrains checks that ForEach, stopped by an error, leaves the rest of in unread.
func TestForEachNeverDrains(t *testing.T) {
	in := make(chan int, 100)
	for i := range 100 {
		in <- i
	}
	close(in)
	err := leaksafe.ForEach(nil, in, 1, func(_ <-chan struct{}, v int) error {
		if v == 4 {
			return errors.New("stop")
		}
		return nil
	})
	require.Error(t, err)
	assert.Equal(t, 95, len(in), "values left in the input")
}

func TestForEachPanics(t *testing.T) {
	t.Run("a panic in fn is re-raised after every call returned", func(t *testing.T) {
		prod := make(chan struct{})
		defer close(prod)
		var running atomic.Int64
		panicked, err := forEach(t, nil, feed(prod, -1), 3, func(done <-chan struct{}, v int) error {
			if v == 2 { // 0 and 1 are running: each holds a worker until its done closes
				panic("kaboom")
			}
			running.Add(1)
			defer running.Add(-1)
			<-done
			return nil
		})
		require.NoError(t, err)
		var pe *leaksafe.PanicError
		require.ErrorAs(t, panicked.(error), &pe)
		assert.Equal(t, "kaboom", pe.Value)
		assert.Contains(t, string(pe.Stack), "foreach_test.go", "the stack of the goroutine that panicked")
		assert.Equal(t, int64(0), running.Load())
	})
	t.Run("a panic wins over an earlier error", func(t *testing.T) {
		errBoom := errors.New("boom")
		entered, release := make(chan struct{}), make(chan struct{})
		panicked, _ := forEach(t, nil, sliceChan([]int{0, 1}), 2, func(done <-chan struct{}, v int) error {
			if v == 0 {
				<-entered // both values are taken: each worker is inside fn
				defer close(release)
				return errBoom
			}
			close(entered)
			<-release
			panic(errBoom)
		})
		var pe *leaksafe.PanicError
		require.ErrorAs(t, panicked.(error), &pe)
		assert.ErrorIs(t, pe, errBoom)
	})
	t.Run("runtime.Goexit in fn", func(t *testing.T) {
		panicked, err := forEach(t, nil, sliceChan([]int{1}), 1, func(<-chan struct{}, int) error {
			runtime.Goexit()
			return nil
		})
		assert.Nil(t, panicked)
		assert.ErrorIs(t, err, leaksafe.ErrGoexit)
	})
	t.Run("misuse", func(t *testing.T) {
		nop := func(<-chan struct{}, int) error { return nil }
		assert.PanicsWithValue(t, "leaksafe: ForEach: workers must be at least 1, got 0", func() {
			_ = leaksafe.ForEach(nil, closedChan[int](), 0, nop)
		})
		assert.PanicsWithValue(t,
			"leaksafe: ForEach: workers must be at most 1048576 (1<<20), got 9223372036854775807",
			func() { _ = leaksafe.ForEach(nil, closedChan[int](), math.MaxInt, nop) })
		assert.PanicsWithValue(t, "leaksafe: ForEach: nil fn", func() {
			_ = leaksafe.ForEach[int](nil, closedChan[int](), 1, nil)
		})
	})
}

// unique reports whether no value appears twice in s.
func unique(s []int) bool {
	s = slices.Clone(s)
	slices.Sort(s)
	return len(slices.Compact(s)) == len(s)
}

// sliceChan returns a closed channel holding the values of s.
func sliceChan[T any](s []T) <-chan T {
	ch := make(chan T, len(s))
	for _, v := range s {
		ch <- v
	}
	close(ch)
	return ch
}
