package leaksafe_test

import (
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/leaksafe/leaksafe"
)

func TestDoWorkTermination(t *testing.T) {
	t.Run("input drained to the end", func(t *testing.T) {
		var got []int
		terminated := leaksafe.DoWork(nil, feed(nil, 10), func(v int) { got = append(got, v) })
		waitClosed(t, terminated, "terminated")
		assert.Equal(t, count(10), got, "fn sees every value in order")
	})
	t.Run("done closed before any value", func(t *testing.T) {
		done := make(chan struct{})
		close(done)
		var calls atomic.Int64
		terminated := leaksafe.DoWork(done, feed(done, -1), func(int) { calls.Add(1) })
		waitClosed(t, terminated, "terminated")
		assert.Zero(t, calls.Load(), "fn is not called once done is closed")
	})
	t.Run("done closed mid-stream", func(t *testing.T) {
		done := make(chan struct{})
		seen := make(chan int)
		terminated := leaksafe.DoWork(done, feed(done, -1), func(v int) {
			select {
			case seen <- v:
			case <-done:
			}
		})
		receive(t, seen)
		receive(t, seen)
		close(done)
		waitClosed(t, terminated, "terminated")
	})
	t.Run("fn blocked then done closed", func(t *testing.T) {
		done := make(chan struct{})
		started := make(chan struct{})
		terminated := leaksafe.DoWork(done, feed(done, -1), func(int) {
			close(started)
			<-done // a well-behaved fn honours done too
		})
		waitClosed(t, started, "fn started")
		close(done)
		waitClosed(t, terminated, "terminated")
	})
	t.Run("nil input runs until done", func(t *testing.T) {
		done := make(chan struct{})
		terminated := leaksafe.DoWork(done, nil, func(string) { t.Error("fn called with a nil input") })
		assert.False(t, isClosed(terminated), "a nil input must not end DoWork")
		close(done)
		waitClosed(t, terminated, "terminated")
	})
	t.Run("closed input ends at once", func(t *testing.T) {
		terminated := leaksafe.DoWork(nil, closedChan[int](), func(int) { t.Error("fn called with a closed input") })
		waitClosed(t, terminated, "terminated")
	})
}
