package leaksafe_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaksafe/leaksafe"
)

// replica is a fn for First that answers id after delay unless its done closes first. It counts its
// returns and records whether it was stopped.
func replica(id int, delay time.Duration, returned *atomic.Int64, stopped *atomic.Int64) func(done <-chan struct{}) int {
	return func(done <-chan struct{}) int {
		defer returned.Add(1)
		timer := time.NewTimer(delay)
		defer timer.Stop()
		select {
		case <-timer.C:
			return id
		case <-done:
			stopped.Add(1)
			return -1
		}
	}
}

func TestFirst(t *testing.T) {
	t.Run("returns the fastest and leaves nothing", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var returned, stopped atomic.Int64
			t0 := time.Now()
			got, ok := leaksafe.First(nil,
				replica(3, 3*time.Second, &returned, &stopped),
				replica(1, time.Second, &returned, &stopped),
				replica(2, 2*time.Second, &returned, &stopped),
			)
			assert.Equal(t, time.Second, time.Since(t0), "First returns when the fastest does")
			assert.True(t, ok)
			assert.Equal(t, 1, got)
			assert.Equal(t, int64(3), returned.Load(), "every fn has returned before First returns")
			assert.Equal(t, int64(2), stopped.Load(), "the slower fns were stopped through their done")
		})
	})
	t.Run("done closed while the fns run", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var returned, stopped atomic.Int64
			done := make(chan struct{})
			time.AfterFunc(500*time.Millisecond, func() { close(done) })
			t0 := time.Now()
			got, ok := leaksafe.First(done,
				replica(1, time.Second, &returned, &stopped),
				replica(2, 2*time.Second, &returned, &stopped),
			)
			assert.Equal(t, 500*time.Millisecond, time.Since(t0), "First returns when done closes")
			assert.False(t, ok)
			assert.Zero(t, got, "the zero value when done closes first")
			assert.Equal(t, int64(2), returned.Load(), "every fn has returned before First returns")
			assert.Equal(t, int64(2), stopped.Load())
		})
	})
	t.Run("done closed before the call calls no fn", func(t *testing.T) {
		done := make(chan struct{})
		close(done)
		got, ok := leaksafe.First(done, func(<-chan struct{}) string {
			t.Error("fn called with done already closed")
			return "x"
		})
		assert.False(t, ok)
		assert.Empty(t, got)
	})
	t.Run("a fn that ignores its done delays First", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var returned, stopped atomic.Int64
			t0 := time.Now()
			got, ok := leaksafe.First(nil,
				replica(1, time.Second, &returned, &stopped),
				func(<-chan struct{}) int {
					time.Sleep(5 * time.Second)
					return 5
				},
			)
			assert.Equal(t, 5*time.Second, time.Since(t0), "First waits for every fn")
			assert.True(t, ok)
			assert.Equal(t, 1, got, "the first result wins even though First returned later")
		})
	})
	t.Run("each fn gets a done of its own, closed before First returns", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			dones := make([]<-chan struct{}, 3)
			fns := make([]func(<-chan struct{}) int, 3)
			for i := range fns {
				fns[i] = func(done <-chan struct{}) int {
					dones[i] = done
					if i == 0 {
						return 0
					}
					<-done
					return i
				}
			}
			got, ok := leaksafe.First(nil, fns...)
			require.True(t, ok)
			assert.Zero(t, got)
			assert.NotEqual(t, dones[1], dones[2], "every fn has its own done")
			for i, d := range dones {
				assert.True(t, isClosed(d), "done of fn %d closed", i)
			}
		})
	})
	t.Run("one fn", func(t *testing.T) {
		got, ok := leaksafe.First(nil, func(<-chan struct{}) string { return "only" })
		assert.True(t, ok)
		assert.Equal(t, "only", got)
	})
}

// hedge is a fn for FirstOK that answers id after delay, or fails with err if err is not nil, unless
// its done closes first. It counts its returns and the calls that were stopped.
func hedge(id int, delay time.Duration, err error, returned, stopped *atomic.Int64) func(done <-chan struct{}) (int, error) {
	return func(done <-chan struct{}) (int, error) {
		defer returned.Add(1)
		timer := time.NewTimer(delay)
		defer timer.Stop()
		select {
		case <-timer.C:
			return id, err
		case <-done:
			stopped.Add(1)
			return -1, errors.New("stopped")
		}
	}
}

func TestFirstOK(t *testing.T) {
	errA, errB := errors.New("replica a"), errors.New("replica b")
	t.Run("a failure that returns first does not win", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var returned, stopped atomic.Int64
			t0 := time.Now()
			got, err := leaksafe.FirstOK(nil,
				hedge(1, time.Millisecond, errA, &returned, &stopped),
				hedge(2, time.Second, nil, &returned, &stopped),
				hedge(3, 3*time.Second, nil, &returned, &stopped),
			)
			require.NoError(t, err)
			assert.Equal(t, 2, got, "the first success wins")
			assert.Equal(t, time.Second, time.Since(t0))
			assert.Equal(t, int64(3), returned.Load(), "every fn has returned before FirstOK returns")
			assert.Equal(t, int64(1), stopped.Load(), "the slower replica was told to stop")
		})
	})
	t.Run("every fn fails", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var returned, stopped atomic.Int64
			got, err := leaksafe.FirstOK(nil,
				hedge(1, 2*time.Second, errA, &returned, &stopped),
				hedge(2, time.Second, errB, &returned, &stopped),
			)
			assert.Zero(t, got)
			require.ErrorIs(t, err, errA)
			require.ErrorIs(t, err, errB)
			assert.Equal(t, errors.Join(errA, errB).Error(), err.Error(), "joined in the order of fns")
			assert.Zero(t, stopped.Load())
		})
	})
	t.Run("done closes first", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var returned, stopped atomic.Int64
			done := make(chan struct{})
			time.AfterFunc(500*time.Millisecond, func() { close(done) })
			got, err := leaksafe.FirstOK(done,
				hedge(1, time.Millisecond, errA, &returned, &stopped),
				hedge(2, time.Second, nil, &returned, &stopped),
			)
			assert.Zero(t, got)
			require.ErrorIs(t, err, leaksafe.ErrStopped)
			assert.Equal(t, int64(2), returned.Load(), "every fn has returned before FirstOK returns")
			assert.Equal(t, int64(1), stopped.Load())
		})
	})
	t.Run("failures caused by done closing", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		fn := func(done <-chan struct{}) (int, error) {
			ctx := leaksafe.WithDone(ctx, done)
			<-ctx.Done() // a request that the context cancels
			return 0, ctx.Err()
		}
		time.AfterFunc(time.Millisecond, cancel)
		_, err := leaksafe.FirstOK(ctx.Done(), fn, fn)
		require.ErrorIs(t, err, leaksafe.ErrStopped)
	})
	t.Run("done already closed calls no fn", func(t *testing.T) {
		got, err := leaksafe.FirstOK(closedChan[struct{}](), func(<-chan struct{}) (string, error) {
			t.Error("fn called with done already closed")
			return "x", nil
		})
		require.ErrorIs(t, err, leaksafe.ErrStopped)
		assert.Empty(t, got)
	})
	t.Run("misuse", func(t *testing.T) {
		assert.PanicsWithValue(t, "leaksafe: FirstOK: no fns", func() { _, _ = leaksafe.FirstOK[int](nil) })
		assert.PanicsWithValue(t, "leaksafe: FirstOK: fns[1] is nil", func() {
			_, _ = leaksafe.FirstOK(nil, func(<-chan struct{}) (int, error) { return 0, nil }, nil)
		})
	})
}

func TestFirstMisusePanics(t *testing.T) {
	assert.PanicsWithValue(t, "leaksafe: First: no fns", func() { leaksafe.First[int](nil) },
		"the panic must name the package and the function")
	assert.PanicsWithValue(t, "leaksafe: First: fns[1] is nil", func() {
		leaksafe.First(nil, func(<-chan struct{}) int { return 0 }, nil)
	}, "the panic must name the package and the function")
}
