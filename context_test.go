package leaksafe_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leaksafe/leaksafe"
)

type ctxKey struct{}

// waitCtx fails t unless ctx is cancelled within the deadline.
func waitCtx(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	waitClosed(t, ctx.Done(), what)
}

func TestWithDone(t *testing.T) {
	cases := []struct {
		name       string
		cancelable bool // the parent can be cancelled
	}{
		{"parent that is never cancelled", false},
		{"parent that can be cancelled", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			parent := context.WithValue(context.Background(), ctxKey{}, "v")
			cancelParent := func() {}
			if tc.cancelable {
				parent, cancelParent = context.WithCancel(parent)
			}
			defer cancelParent()

			done := make(chan struct{})
			ctx := leaksafe.WithDone(parent, done)
			assert.Equal(t, "v", ctx.Value(ctxKey{}), "the parent's values are carried")
			assert.NoError(t, ctx.Err(), "not cancelled while done is open")
			require.NotNil(t, ctx.Done())
			assert.False(t, isClosed(ctx.Done()))

			child, cancelChild := context.WithTimeout(ctx, time.Hour)
			defer cancelChild()

			close(done)
			waitCtx(t, ctx, "ctx after done closed")
			assert.ErrorIs(t, ctx.Err(), context.Canceled)
			waitCtx(t, child, "a context derived from ctx")
			assert.ErrorIs(t, child.Err(), context.Canceled)
		})
	}

	t.Run("cancelled with the parent", func(t *testing.T) {
		parent, cancel := context.WithCancelCause(context.Background())
		done := make(chan struct{})
		defer close(done)
		ctx := leaksafe.WithDone(parent, done)
		cancel(context.DeadlineExceeded)
		waitCtx(t, ctx, "ctx after the parent was cancelled")
		assert.ErrorIs(t, ctx.Err(), context.Canceled)
	})

	t.Run("carries the parent's deadline", func(t *testing.T) {
		when := time.Now().Add(time.Hour)
		parent, cancel := context.WithDeadline(context.Background(), when)
		defer cancel()
		done := make(chan struct{})
		defer close(done)
		got, ok := leaksafe.WithDone(parent, done).Deadline()
		assert.True(t, ok)
		assert.True(t, got.Equal(when), "deadline %v, want %v", got, when)
	})

	t.Run("parent's deadline passes", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			parent, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			done := make(chan struct{})
			defer close(done)
			ctx := leaksafe.WithDone(parent, done)
			<-ctx.Done()
			assert.ErrorIs(t, ctx.Err(), context.DeadlineExceeded, "the parent's error is kept")
		})
	})

	t.Run("done already closed", func(t *testing.T) {
		parent := context.WithValue(context.Background(), ctxKey{}, "v")
		ctx := leaksafe.WithDone(parent, closedChan[struct{}]())
		assert.True(t, isClosed(ctx.Done()))
		assert.ErrorIs(t, ctx.Err(), context.Canceled)
		assert.Equal(t, "v", ctx.Value(ctxKey{}))
	})

	t.Run("nil parent is Background", func(t *testing.T) {
		done := make(chan struct{})
		var parent context.Context // nil: documented to mean Background
		ctx := leaksafe.WithDone(parent, done)
		_, ok := ctx.Deadline()
		assert.False(t, ok)
		close(done)
		waitCtx(t, ctx, "ctx after done closed")
		assert.ErrorIs(t, ctx.Err(), context.Canceled)
	})

	t.Run("nil done is the parent", func(t *testing.T) {
		parent, cancel := context.WithCancel(context.Background())
		ctx := leaksafe.WithDone(parent, nil)
		assert.Equal(t, parent, ctx)
		cancel()
		waitCtx(t, ctx, "ctx after the parent was cancelled")
	})
}

// A goroutine that WithDone started and that never ended would make synctest.Test fail with a
// deadlock: these tests prove when it starts none, and that the one it starts ends.
func TestWithDoneGoroutines(t *testing.T) {
	t.Run("none for a parent that is never cancelled", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			done := make(chan struct{}) // never closed
			ctx := leaksafe.WithDone(context.Background(), done)
			assert.NoError(t, ctx.Err())
			assert.Equal(t, "context.Background.WithDone", fmt.Sprint(ctx))
			ctx = leaksafe.WithDone(context.WithValue(context.Background(), ctxKey{}, 1), done)
			assert.Equal(t, 1, ctx.Value(ctxKey{}))
		})
	})
	t.Run("none for a done already closed", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			parent, cancel := context.WithCancel(context.Background())
			defer cancel()
			ctx := leaksafe.WithDone(parent, closedChan[struct{}]())
			assert.ErrorIs(t, ctx.Err(), context.Canceled)
		})
	})
	t.Run("one that ends when done closes", func(t *testing.T) {
		before := goleak.IgnoreCurrent()
		parent, cancel := context.WithCancel(context.Background())
		defer cancel() // only after the check: the goroutine must end on done alone
		done := make(chan struct{})
		ctx := leaksafe.WithDone(parent, done)
		close(done)
		waitCtx(t, ctx, "ctx after done closed")
		goleak.VerifyNone(t, before)
		assert.NoError(t, parent.Err(), "the parent is not cancelled")
	})
	t.Run("one that ends when the parent is cancelled", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			parent, cancel := context.WithCancel(context.Background())
			done := make(chan struct{}) // never closed
			ctx := leaksafe.WithDone(parent, done)
			cancel()
			<-ctx.Done()
		})
	})
}
