package leaksafe_test

import (
	"context"
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

func TestGroupTryGo(t *testing.T) {
	t.Run("at the limit", func(t *testing.T) {
		g := leaksafe.NewGroup(nil)
		g.SetLimit(1)
		release := make(chan struct{})
		require.True(t, g.TryGo(func(<-chan struct{}) error { <-release; return nil }))
		assert.False(t, g.TryGo(func(<-chan struct{}) error {
			assert.Fail(t, "started past the limit")
			return nil
		}), "TryGo at the limit")
		close(release)
		_, err := waitFor(t, g)
		require.NoError(t, err)
	})
	t.Run("a slot frees when a function returns", func(t *testing.T) {
		g := leaksafe.NewGroup(nil)
		g.SetLimit(1)
		returned := make(chan struct{})
		require.True(t, g.TryGo(func(<-chan struct{}) error { close(returned); return nil }))
		<-returned
		ran := make(chan struct{})
		for !g.TryGo(func(<-chan struct{}) error { close(ran); return nil }) {
			// the slot is freed just after the function returns
		}
		waitClosed(t, ran, "the function started by TryGo")
		_, err := waitFor(t, g)
		require.NoError(t, err)
	})
	t.Run("once done", func(t *testing.T) {
		g := leaksafe.NewGroup(nil)
		g.Stop()
		assert.False(t, g.TryGo(func(<-chan struct{}) error {
			assert.Fail(t, "started after Stop")
			return nil
		}))
		require.NoError(t, g.Wait())
	})
	t.Run("after the first error", func(t *testing.T) {
		g := leaksafe.NewGroup(nil)
		errBoom := errors.New("boom")
		require.True(t, g.TryGo(func(<-chan struct{}) error { return errBoom }))
		waitClosed(t, g.Done(), "the group's done after an error")
		assert.False(t, g.TryGo(func(<-chan struct{}) error { return nil }))
		_, err := waitFor(t, g)
		require.ErrorIs(t, err, errBoom)
	})
	t.Run("no limit", func(t *testing.T) {
		var g leaksafe.Group
		for range 10 {
			require.True(t, g.TryGo(func(done <-chan struct{}) error { <-done; return nil }))
		}
		g.Stop()
		_, err := waitFor(t, &g)
		require.NoError(t, err)
	})
	t.Run("nil fn", func(t *testing.T) {
		var g leaksafe.Group
		assert.PanicsWithValue(t, "leaksafe: Group.TryGo: nil fn", func() { g.TryGo(nil) })
	})
}

func TestNewGroupContext(t *testing.T) {
	errBoom := errors.New("boom")
	cases := []struct {
		name    string
		stop    func(g *leaksafe.Group, cancelParent context.CancelFunc)
		wantErr error
	}{
		{"first error", func(g *leaksafe.Group, _ context.CancelFunc) {
			g.Go(func(<-chan struct{}) error { return errBoom })
		}, errBoom},
		{"panic", func(g *leaksafe.Group, _ context.CancelFunc) {
			g.Go(func(<-chan struct{}) error { panic("kaboom") })
		}, nil},
		{"Stop", func(g *leaksafe.Group, _ context.CancelFunc) { g.Stop() }, nil},
		{"parent cancelled", func(_ *leaksafe.Group, cancel context.CancelFunc) { cancel() }, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			parent, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "v"))
			defer cancel()
			g, ctx := leaksafe.NewGroupContext(parent)
			assert.Equal(t, "v", ctx.Value(ctxKey{}), "the parent's values are carried")
			sawCancel := make(chan error, 1)
			g.Go(func(<-chan struct{}) error {
				<-ctx.Done() // a request made with ctx
				sawCancel <- ctx.Err()
				return nil
			})
			assert.NoError(t, ctx.Err())
			tc.stop(g, cancel)
			waitCtx(t, ctx, "the group's context")
			assert.ErrorIs(t, <-sawCancel, context.Canceled)
			panicked, err := waitFor(t, g)
			if tc.name == "panic" {
				require.NotNil(t, panicked)
				return
			}
			require.Nil(t, panicked)
			assert.Equal(t, tc.wantErr, err)
		})
	}
	t.Run("Wait cancels the context", func(t *testing.T) {
		g, ctx := leaksafe.NewGroupContext(context.Background())
		g.Go(func(<-chan struct{}) error { return nil })
		require.NoError(t, g.Wait())
		assert.ErrorIs(t, ctx.Err(), context.Canceled)
	})
	t.Run("parent already cancelled", func(t *testing.T) {
		parent, cancel := context.WithCancel(context.Background())
		cancel()
		g, ctx := leaksafe.NewGroupContext(parent)
		assert.True(t, isClosed(g.Done()))
		assert.ErrorIs(t, ctx.Err(), context.Canceled)
		assert.False(t, g.TryGo(func(<-chan struct{}) error { return nil }))
		require.NoError(t, g.Wait())
	})
	t.Run("nil ctx is Background", func(t *testing.T) {
		var parent context.Context // nil: documented to mean Background
		g, ctx := leaksafe.NewGroupContext(parent)
		require.NotNil(t, ctx)
		require.NoError(t, g.Wait())
		assert.ErrorIs(t, ctx.Err(), context.Canceled)
	})
}

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
			assert.Fail(t, "fn called with done already closed")
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
			assert.Fail(t, "fn called with done already closed")
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

func TestNewGroupContextStartsAtMostOneGoroutine(t *testing.T) {
	for _, pc := range parentCases() {
		t.Run(pc.name, func(t *testing.T) {
			stopParent := make(chan struct{})
			defer close(stopParent)
			parent := pc.parent(stopParent)
			before := running()

			g, ctx := leaksafe.NewGroupContext(parent)
			assert.Equal(t, 1, startedBy(before), "goroutines started by NewGroupContext")
			g.Go(func(done <-chan struct{}) error { <-done; return nil })
			g.Stop()
			_, err := within(t, "Wait", g.Wait)
			require.NoError(t, err)
			assert.Zero(t, exitedSince(before), "goroutines of the group running after Wait")
			assert.ErrorIs(t, ctx.Err(), context.Canceled)
		})
		t.Run(pc.name+", cancelled", func(t *testing.T) {
			stopParent := make(chan struct{})
			before := running()
			g, ctx := leaksafe.NewGroupContext(pc.parent(stopParent))
			g.Go(func(done <-chan struct{}) error { <-done; return nil })
			close(stopParent)
			waitCtx(t, ctx, "the group's context after its parent ended")
			_, err := within(t, "Wait", g.Wait)
			require.NoError(t, err)
			assert.Zero(t, exitedSince(before), "goroutines of the group running after Wait")
		})
	}
}

func TestGroupContextCancelsTheRequestInFlight(t *testing.T) {
	srv := newHangServer(t)
	client := srv.Client()
	errBoom := errors.New("boom")
	g, ctx := leaksafe.NewGroupContext(context.Background())
	g.Go(func(<-chan struct{}) error {
		_, err := get(ctx, client, srv.URL+"/hang")
		return err
	})
	g.Go(func(<-chan struct{}) error {
		<-srv.entered
		return errBoom
	})
	_, err := waitFor(t, g)
	require.ErrorIs(t, err, errBoom, "the first error, not the cancelled request's")
	srv.finish(t)
}

func TestFirstOKCancelsTheLosers(t *testing.T) {
	srv := newHangServer(t)
	client := srv.Client()
	fetchWith := func(u string) func(done <-chan struct{}) (string, error) {
		return func(done <-chan struct{}) (string, error) {
			return get(leaksafe.WithDone(context.Background(), done), client, u)
		}
	}
	wait := func(done <-chan struct{}) (string, error) {
		<-srv.entered // answer only once the hanging replica is in flight
		return get(leaksafe.WithDone(context.Background(), done), client, srv.URL+"/page/ok")
	}
	got, err := leaksafe.FirstOK(nil, fetchWith(srv.URL+"/fail"), fetchWith(srv.URL+"/hang"), wait)
	require.NoError(t, err)
	assert.Equal(t, "page ok", got)
	srv.finish(t)
}
