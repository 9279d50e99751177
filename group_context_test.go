package leaksafe_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaksafe/leaksafe"
)

func TestGroupTryGo(t *testing.T) {
	t.Run("at the limit", func(t *testing.T) {
		g := leaksafe.NewGroup(nil)
		g.SetLimit(1)
		release := make(chan struct{})
		require.True(t, g.TryGo(func(<-chan struct{}) error { <-release; return nil }))
		assert.False(t, g.TryGo(func(<-chan struct{}) error {
			t.Error("started past the limit")
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
			t.Error("started after Stop")
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
