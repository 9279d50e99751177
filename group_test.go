package leaksafe_test

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaksafe/leaksafe"
)

// waitFor runs g.Wait under the deadline (see within) and returns what it panicked with, or its
// error.
func waitFor(t *testing.T, g *leaksafe.Group) (panicked any, err error) {
	t.Helper()
	return within(t, "Wait", g.Wait)
}

func TestGroupTermination(t *testing.T) {
	errBoom := errors.New("boom")
	midwayParent := make(chan struct{})
	cases := []struct {
		name    string
		parent  func() <-chan struct{}
		run     func(g *leaksafe.Group)
		wantErr error
	}{
		{"every function returns nil", nil, func(g *leaksafe.Group) {
			for range 5 {
				g.Go(func(<-chan struct{}) error { return nil })
			}
		}, nil},
		{"first error stops the others", nil, func(g *leaksafe.Group) {
			for range 3 {
				g.Go(func(done <-chan struct{}) error { <-done; return nil })
			}
			g.Go(func(<-chan struct{}) error { return errBoom })
		}, errBoom},
		{"Stop", nil, func(g *leaksafe.Group) {
			g.Go(func(done <-chan struct{}) error { <-done; return nil })
			g.Stop()
			g.Stop() // idempotent
		}, nil},
		{"parent done closed mid-way", func() <-chan struct{} { return midwayParent }, func(g *leaksafe.Group) {
			g.Go(func(done <-chan struct{}) error { <-done; return nil })
			close(midwayParent)
		}, nil},
		{"parent done closed before", func() <-chan struct{} { return closedChan[struct{}]() }, func(g *leaksafe.Group) {
			g.Go(func(<-chan struct{}) error { panic("must not start") })
		}, nil},
		{"runtime.Goexit", nil, func(g *leaksafe.Group) {
			g.Go(func(done <-chan struct{}) error { <-done; return nil })
			g.Go(func(<-chan struct{}) error { runtime.Goexit(); return nil })
		}, leaksafe.ErrGoexit},
		{"no function at all", func() <-chan struct{} { return make(chan struct{}) }, func(*leaksafe.Group) {}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var parent <-chan struct{}
			if c.parent != nil {
				parent = c.parent()
			}
			g := leaksafe.NewGroup(parent)
			c.run(g)
			panicked, err := waitFor(t, g)
			assert.Nil(t, panicked)
			if c.wantErr == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, c.wantErr)
			}
			assert.True(t, isClosed(g.Done()), "Done is closed once Wait returns")
		})
	}
}

func TestGroupPanic(t *testing.T) {
	t.Run("re-raised by Wait with value and stack", func(t *testing.T) {
		g := leaksafe.NewGroup(nil)
		g.Go(func(done <-chan struct{}) error { <-done; return nil })
		g.Go(func(<-chan struct{}) error { panicHere(); return nil })
		panicked, err := waitFor(t, g)
		require.NoError(t, err)
		require.NotNil(t, panicked, "Wait must re-raise the panic")
		pe, ok := panicked.(*leaksafe.PanicError)
		require.True(t, ok, "Wait panics with a *PanicError, got %T", panicked)
		assert.Equal(t, "deliberate", pe.Value)
		assert.Contains(t, string(pe.Stack), "panicHere", "the stack is the panicking goroutine's")
		assert.Contains(t, pe.Error(), "deliberate")
		assert.Contains(t, pe.Error(), "panicHere")
		assert.NoError(t, pe.Unwrap(), "a non-error value unwraps to nil")
	})
	t.Run("errors.As and Unwrap see an error value", func(t *testing.T) {
		errInner := errors.New("inner")
		g := leaksafe.NewGroup(nil)
		g.Go(func(<-chan struct{}) error { panic(fmt.Errorf("wrapped: %w", errInner)) })
		panicked, _ := waitFor(t, g)
		err, ok := panicked.(error)
		require.True(t, ok)
		var pe *leaksafe.PanicError
		require.ErrorAs(t, err, &pe)
		assert.ErrorIs(t, err, errInner)
	})
	t.Run("panic takes precedence over an error", func(t *testing.T) {
		g := leaksafe.NewGroup(nil)
		g.Go(func(<-chan struct{}) error { return errors.New("first") })
		g.Go(func(<-chan struct{}) error { panic("second") })
		panicked, _ := waitFor(t, g)
		// The panicking function may not have started if the error closed Done first.
		if panicked != nil {
			assert.IsType(t, &leaksafe.PanicError{}, panicked)
		}
	})
}

//go:noinline
func panicHere() { panic("deliberate") }

func TestGroupGoAfterDone(t *testing.T) {
	g := leaksafe.NewGroup(nil)
	g.Stop()
	called := false
	g.Go(func(<-chan struct{}) error { called = true; return nil })
	_, err := waitFor(t, g)
	require.NoError(t, err)
	assert.False(t, called, "Go after Done must not start fn")
}

func TestGroupLimit(t *testing.T) {
	t.Run("never exceeded", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			g := leaksafe.NewGroup(nil)
			g.SetLimit(3)
			var running, peak atomic.Int64
			for range 20 {
				g.Go(func(<-chan struct{}) error {
					raise(&peak, running.Add(1))
					time.Sleep(time.Millisecond)
					running.Add(-1)
					return nil
				})
			}
			require.NoError(t, g.Wait())
			assert.Equal(t, int64(3), peak.Load())
		})
	})
	t.Run("Go waiting for a slot gives up when the group is done", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			g := leaksafe.NewGroup(nil)
			g.SetLimit(1)
			g.Go(func(done <-chan struct{}) error { <-done; return nil })
			returned := make(chan struct{})
			called := false
			go func() {
				defer close(returned)
				g.Go(func(<-chan struct{}) error { called = true; return nil })
			}()
			synctest.Wait()
			assert.False(t, isClosed(returned), "Go must wait for a free slot")
			g.Stop()
			<-returned
			require.NoError(t, g.Wait())
			assert.False(t, called)
		})
	})
	t.Run("Go from inside the group", func(t *testing.T) {
		g := leaksafe.NewGroup(nil)
		var n atomic.Int64
		var spawn func(depth int) func(<-chan struct{}) error
		spawn = func(depth int) func(<-chan struct{}) error {
			return func(<-chan struct{}) error {
				n.Add(1)
				if depth > 0 {
					g.Go(spawn(depth - 1))
					g.Go(spawn(depth - 1))
				}
				return nil
			}
		}
		g.Go(spawn(4))
		_, err := waitFor(t, g)
		require.NoError(t, err)
		assert.Equal(t, int64(31), n.Load())
	})
}

func TestGroupMisusePanics(t *testing.T) {
	t.Run("SetLimit below 1", func(t *testing.T) {
		g := leaksafe.NewGroup(nil)
		assert.PanicsWithValue(t, "leaksafe: Group.SetLimit: n must be at least 1, got 0", func() { g.SetLimit(0) })
	})
	t.Run("SetLimit after Go", func(t *testing.T) {
		g := leaksafe.NewGroup(nil)
		g.Go(func(<-chan struct{}) error { return nil })
		assert.PanicsWithValue(t, "leaksafe: Group.SetLimit: called after Go", func() { g.SetLimit(2) })
		require.NoError(t, g.Wait())
	})
	t.Run("Go with nil fn", func(t *testing.T) {
		g := leaksafe.NewGroup(nil)
		assert.PanicsWithValue(t, "leaksafe: Group.Go: nil fn", func() { g.Go(nil) })
	})
}

func TestGroupZeroValue(t *testing.T) {
	var g leaksafe.Group
	errBoom := errors.New("boom")
	g.Go(func(done <-chan struct{}) error { <-done; return nil })
	g.Go(func(<-chan struct{}) error { return errBoom })
	_, err := waitFor(t, &g)
	require.ErrorIs(t, err, errBoom)
	assert.True(t, isClosed(g.Done()))

	var stopped leaksafe.Group
	stopped.Stop()
	assert.True(t, isClosed(stopped.Done()), "Stop on a zero Group closes its done")
	require.NoError(t, stopped.Wait())
}

func TestGroupGoAfterWaitPanics(t *testing.T) {
	g := leaksafe.NewGroup(nil)
	g.Go(func(<-chan struct{}) error { return nil })
	require.NoError(t, g.Wait())
	fn := func(<-chan struct{}) error { return nil }
	assert.PanicsWithValue(t, "leaksafe: Group.Go: called after Wait returned", func() { g.Go(fn) })
	assert.PanicsWithValue(t, "leaksafe: Group.TryGo: called after Wait returned",
		func() { g.TryGo(fn) })
}

// Under a limit of 1, the function that calls Go holds the only slot: Go waits until the group is
// done, as the doc says, and TryGo reports false at once.
func TestGroupGoFromInsideALimitedGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := leaksafe.NewGroup(nil)
		g.SetLimit(1)
		tried, returned := make(chan bool, 1), make(chan struct{})
		innerCalled := false
		g.Go(func(<-chan struct{}) error {
			tried <- g.TryGo(func(<-chan struct{}) error { return nil })
			g.Go(func(<-chan struct{}) error { innerCalled = true; return nil })
			close(returned)
			return nil
		})
		assert.False(t, <-tried, "TryGo from inside a group at its limit")
		synctest.Wait()
		assert.False(t, isClosed(returned), "Go from inside waits for a slot while holding one")
		g.Stop()
		<-returned
		require.NoError(t, g.Wait())
		assert.False(t, innerCalled, "Go gave up when the group was done")
	})
}
