package leaksafe_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leaksafe/leaksafe"
	"github.com/leaksafe/leaksafe/internal/stacks"
)

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
			assert.Zero(t, startedBy(before), "goroutines of the group running after Wait")
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
			assert.Zero(t, startedBy(before), "goroutines of the group running after Wait")
		})
	}
}

// The README's pattern: a context made from ForEach's done inside fn. Nothing fn derived from its
// done may outlive ForEach, however ForEach ends.
func TestForEachClosesItsDone(t *testing.T) {
	cases := []struct {
		name string
		fail bool
	}{
		{"every call succeeds", false},
		{"a call fails", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			parent, cancel := context.WithCancel(context.Background())
			defer cancel() // only after the checks: the contexts must end with ForEach alone
			ignore := goleak.IgnoreCurrent()
			in, _ := leaksafe.Generate(nil, count(10)...)
			ctxs := make(chan context.Context, 10)
			var dones []<-chan struct{}
			doneOf := make(chan (<-chan struct{}), 10)
			_, err := within(t, "ForEach", func() error {
				return leaksafe.ForEach(nil, in, 2, func(done <-chan struct{}, v int) error {
					ctxs <- leaksafe.WithDone(parent, done)
					doneOf <- done
					if tc.fail && v == 9 {
						return assert.AnError
					}
					return nil
				})
			})
			if tc.fail {
				require.ErrorIs(t, err, assert.AnError)
			} else {
				require.NoError(t, err)
			}
			close(ctxs)
			close(doneOf)
			for d := range doneOf {
				dones = append(dones, d)
			}
			open := 0
			for _, d := range dones {
				if !isClosed(d) {
					open++
				}
			}
			assert.Zero(t, open, "calls whose done is still open once ForEach has returned")
			for ctx := range ctxs {
				waitCtx(t, ctx, "a context made from fn's done")
			}
			goleak.VerifyNone(t, ignore)
			assert.NoError(t, parent.Err())
		})
	}
}
