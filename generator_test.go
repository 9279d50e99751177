package leaksafe_test

import (
	"iter"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"

	"github.com/leaksafe/leaksafe"
)

// naturals yields 0, 1, 2, … until yield returns false.
func naturals(yield func(int) bool) {
	for i := 0; yield(i); i++ {
	}
}

func TestGenerate(t *testing.T) {
	t.Run("no values", func(t *testing.T) {
		out, terminated := leaksafe.Generate[string](nil)
		assert.Empty(t, drain(t, out))
		waitClosed(t, terminated, "terminated")
	})
}

func TestRepeat(t *testing.T) {
	t.Run("cycles in order", func(t *testing.T) {
		done := make(chan struct{})
		out, terminated := leaksafe.Repeat(done, "a", "b", "c")
		var got []string
		for range 7 {
			got = append(got, receive(t, out))
		}
		close(done)
		waitClosed(t, terminated, "terminated")
		assert.Equal(t, []string{"a", "b", "c", "a", "b", "c", "a"}, got)
	})
	t.Run("no values ends at once", func(t *testing.T) {
		out, terminated := leaksafe.Repeat[int](nil)
		assert.Empty(t, drain(t, out))
		waitClosed(t, terminated, "terminated")
	})
	t.Run("one value", func(t *testing.T) {
		done := make(chan struct{})
		out, terminated := leaksafe.Repeat(done, 7)
		for range 3 {
			assert.Equal(t, 7, receive(t, out))
		}
		close(done)
		waitClosed(t, terminated, "terminated")
	})
	t.Run("keeps a copy of values", func(t *testing.T) {
		done := make(chan struct{})
		values := []int{1, 2}
		out, terminated := leaksafe.Repeat(done, values...)
		values[0], values[1] = 8, 9 // the caller's slice is the caller's again: no race, no change
		var got []int
		for range 4 {
			got = append(got, receive(t, out))
		}
		close(done)
		waitClosed(t, terminated, "terminated")
		assert.Equal(t, []int{1, 2, 1, 2}, got)
	})
}

func TestRepeatFuncCallsFnOnlyOnDemand(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int64
		done := make(chan struct{})
		out, terminated := leaksafe.RepeatFunc(done, func() int64 { return calls.Add(1) })
		assert.Equal(t, int64(1), <-out)
		synctest.Wait()
		// One result was received, one waits in out, and a third call waits to be sent.
		assert.Equal(t, int64(3), calls.Load(), "fn runs at most one result ahead of out's buffer")
		close(done)
		<-terminated
		assert.Equal(t, int64(3), calls.Load(), "fn is not called after done is seen closed")
	})
}

func TestFromSeq(t *testing.T) {
	t.Run("yield returns false once done closes", func(t *testing.T) {
		done := make(chan struct{})
		stopped := make(chan int, 1)
		var seq iter.Seq[int] = func(yield func(int) bool) {
			for i := 0; ; i++ {
				if !yield(i) {
					stopped <- i
					return
				}
			}
		}
		out, terminated := leaksafe.FromSeq(done, seq)
		assert.Equal(t, 0, receive(t, out))
		close(done)
		waitClosed(t, terminated, "terminated")
		select {
		case <-stopped:
		default:
			t.Fatal("the iterator was not told to stop by yield returning false")
		}
	})
	t.Run("done already closed does not call seq", func(t *testing.T) {
		done := make(chan struct{})
		close(done)
		called := false
		_, terminated := leaksafe.FromSeq(done, func(func(int) bool) { called = true })
		waitClosed(t, terminated, "terminated")
		assert.False(t, called)
	})
}
