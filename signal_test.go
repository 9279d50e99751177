package leaksafe_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leaksafe/leaksafe"
	"github.com/leaksafe/leaksafe/internal/stacks"
)

func TestOr(t *testing.T) {
	t.Run("no signals never closes", func(t *testing.T) {
		assert.Nil(t, leaksafe.Or())
	})
	t.Run("one signal is returned as is", func(t *testing.T) {
		s := make(chan struct{})
		assert.Equal(t, (<-chan struct{})(s), leaksafe.Or(s))
	})
	for _, n := range []int{2, 3, 7} {
		t.Run("closes when any of several closes", func(t *testing.T) {
			for which := range n {
				signals := make([]chan struct{}, n)
				ro := make([]<-chan struct{}, n)
				for i := range signals {
					signals[i] = make(chan struct{})
					ro[i] = signals[i]
				}
				or := leaksafe.Or(ro...)
				assert.False(t, isClosed(or))
				close(signals[which])
				waitClosed(t, or, "Or")
			}
		})
	}
	t.Run("an already closed signal starts nothing", func(t *testing.T) {
		assert.True(t, isClosed(leaksafe.Or(make(chan struct{}), closedChan[struct{}]())))
	})
	t.Run("nil signals are ignored", func(t *testing.T) {
		s := make(chan struct{})
		or := leaksafe.Or(nil, s, nil)
		close(s)
		waitClosed(t, or, "Or")
	})
}

func TestAll(t *testing.T) {
	t.Run("no signals is already closed", func(t *testing.T) {
		assert.True(t, isClosed(leaksafe.All()))
	})
	t.Run("closes when every signal closes", func(t *testing.T) {
		a, b, c := make(chan struct{}), make(chan struct{}), make(chan struct{})
		all := leaksafe.All(a, b, c)
		close(c)
		close(a)
		assert.False(t, isClosed(all), "closed before every signal closed")
		close(b)
		waitClosed(t, all, "All")
	})
	t.Run("joins terminated channels", func(t *testing.T) {
		done := make(chan struct{})
		_, t1 := leaksafe.Repeat(done, 1)
		_, t2 := leaksafe.NewRandStream(done)
		close(done)
		waitClosed(t, leaksafe.All(t1, t2), "All")
	})
	t.Run("every signal already closed starts nothing", func(t *testing.T) {
		assert.True(t, isClosed(leaksafe.All(closedChan[struct{}](), closedChan[struct{}]())))
	})
	for _, n := range []int{8, 9, 20} { // up to 8 open signals are copied without a slice
		t.Run(fmt.Sprintf("closes when each of %d signals closes, in any order", n), func(t *testing.T) {
			signals := make([]chan struct{}, n)
			args := make([]<-chan struct{}, n)
			for i := range signals {
				signals[i] = make(chan struct{})
				args[i] = signals[i]
			}
			args = append(args, closedChan[struct{}]()) // an already closed one is not waited for
			all := leaksafe.All(args...)
			for i := n - 1; i > 0; i-- {
				close(signals[i])
			}
			assert.False(t, isClosed(all), "closed before the first signal closed")
			close(signals[0])
			waitClosed(t, all, "All")
		})
	}
}

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

// customCtx is a Context the context package does not know: neither one of its own types nor one
// that embeds them, as a user's or a framework's context may be.
type customCtx struct{ done chan struct{} }

func (c customCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c customCtx) Done() <-chan struct{}       { return c.done }
func (c customCtx) Value(any) any               { return nil }
func (c customCtx) Err() error {
	if isClosed(c.done) {
		return context.Canceled
	}
	return nil
}

// parentCases are the parents whose type decides how the context package joins a child to them.
func parentCases() []struct {
	name   string
	parent func(cancel <-chan struct{}) context.Context
} {
	return []struct {
		name   string
		parent func(cancel <-chan struct{}) context.Context
	}{
		{"context.WithCancel", func(stop <-chan struct{}) context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			go func() { <-stop; cancel() }()
			return ctx
		}},
		{"WithDone's own context", func(stop <-chan struct{}) context.Context {
			return leaksafe.WithDone(context.Background(), stop)
		}},
		{"a custom Context", func(stop <-chan struct{}) context.Context {
			done := make(chan struct{})
			go func() { <-stop; close(done) }()
			return customCtx{done}
		}},
		{"WithValue around a custom Context", func(stop <-chan struct{}) context.Context {
			done := make(chan struct{})
			go func() { <-stop; close(done) }()
			return context.WithValue(customCtx{done}, ctxKey{}, 1)
		}},
	}
}

// exitedSince returns startedBy(before) once it is zero, or after the deadline. A goroutine that
// has done its last action (closed what it closes, called wg.Done) may not have returned yet when
// the owner's wait returns; one that never returns is still counted at the deadline.
func exitedSince(before map[int]bool) int {
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	for {
		n := startedBy(before)
		if n == 0 {
			return 0
		}
		select {
		case <-timer.C:
			return n
		default:
			runtime.Gosched()
		}
	}
}

// startedBy returns how many goroutines that are running now, and were not running when before was
// taken, a go statement in the context package or in leaksafe started.
func startedBy(before map[int]bool) int {
	n := 0
	for _, g := range stacks.Parse(stacks.Dump()) {
		creator := g.CreatedBy.Func
		if before[g.ID] {
			continue
		}
		if strings.HasPrefix(creator, "context.") ||
			strings.HasPrefix(creator, "github.com/leaksafe/leaksafe.") {
			n++
		}
	}
	return n
}

// running returns the IDs of the goroutines running now.
func running() map[int]bool {
	ids := map[int]bool{}
	for _, g := range stacks.Parse(stacks.Dump()) {
		ids[g.ID] = true
	}
	return ids
}

func TestWithDoneStartsAtMostOneGoroutine(t *testing.T) {
	for _, pc := range parentCases() {
		t.Run(pc.name, func(t *testing.T) {
			stopParent := make(chan struct{})
			defer close(stopParent)
			parent := pc.parent(stopParent)
			before := running()

			done := make(chan struct{})
			ctx := leaksafe.WithDone(parent, done)
			child, cancelChild := context.WithCancel(ctx) // derived as user code derives it
			defer cancelChild()
			assert.Equal(t, 1, startedBy(before), "goroutines started for an open done")

			closed := leaksafe.WithDone(parent, closedChan[struct{}]())
			assert.ErrorIs(t, closed.Err(), context.Canceled)
			assert.Equal(t, 1, startedBy(before), "goroutines started for a closed done: none more")

			close(done)
			waitCtx(t, child, "a child of ctx after done closed")
			assert.ErrorIs(t, ctx.Err(), context.Canceled)
		})
		t.Run(pc.name+", cancelled", func(t *testing.T) {
			stopParent := make(chan struct{})
			parent := pc.parent(stopParent)
			done := make(chan struct{})
			defer close(done)
			ctx := leaksafe.WithDone(parent, done)
			child, cancelChild := context.WithCancel(ctx)
			defer cancelChild()
			close(stopParent)
			waitCtx(t, child, "a child of ctx after the parent ended")
			assert.ErrorIs(t, ctx.Err(), context.Canceled, "the parent's error")
		})
	}

	t.Run("nested", func(t *testing.T) {
		before := running()
		d1, d2 := make(chan struct{}), make(chan struct{})
		ctx := leaksafe.WithDone(leaksafe.WithDone(context.Background(), d1), d2)
		assert.Equal(t, 1, startedBy(before), "goroutines started by two nested WithDone")
		close(d1)
		waitCtx(t, ctx, "the outer context after the inner done closed")
		close(d2)
	})
}

func TestWithDoneExpiredParent(t *testing.T) {
	parent, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	before := running()
	ctx := leaksafe.WithDone(parent, make(chan struct{}))
	assert.ErrorIs(t, ctx.Err(), context.DeadlineExceeded, "the parent's error, as WithCancel says")
	assert.Zero(t, startedBy(before), "no goroutine for a parent that has ended")
}
