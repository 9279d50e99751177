package leaksafe_test

import (
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaksafe/leaksafe"
)

func add(a, v int) int { return a + v }

// results starts a test-owned producer that sends a Result for each of values, with err in place of
// the value at index errAt (none when errAt < 0), counting the sends, until done closes; with
// endless it then goes on with Results of 1000, 1001, … It closes the channel when it stops.
func results(done <-chan struct{}, values []int, errAt int, err error, endless bool, sent *atomic.Int64) <-chan leaksafe.Result[int] {
	ch := make(chan leaksafe.Result[int])
	go func() {
		defer close(ch)
		for i := 0; i < len(values) || endless; i++ {
			r := leaksafe.Result[int]{Value: 1000 + i}
			if i < len(values) {
				r.Value = values[i]
			}
			if i == errAt {
				r = leaksafe.Result[int]{Err: err}
			}
			select {
			case ch <- r:
				sent.Add(1)
			case <-done:
				return
			}
		}
	}()
	return ch
}

// TestReduceWhenDoneCloses checks what Reduce returns when done cuts it short: the accumulator so
// far, with fn called for no value read after done was seen closed.
func TestReduceWhenDoneCloses(t *testing.T) {
	t.Run("done closed before any value", func(t *testing.T) {
		done := make(chan struct{})
		close(done)
		var calls int
		sum, err := leaksafe.Reduce(done, feed(done, -1), 7, func(a, v int) int { calls++; return a + v })
		require.ErrorIs(t, err, leaksafe.ErrStopped)
		assert.Equal(t, 7, sum, "the accumulator as given")
		assert.Zero(t, calls, "fn called after done was closed")
	})
	t.Run("done closed mid-stream", func(t *testing.T) {
		done := make(chan struct{})
		var calls int
		sum, err := leaksafe.Reduce(done, feed(done, -1), 0, func(a, v int) int {
			if calls++; calls == 5 {
				close(done)
			}
			return a + v
		})
		require.ErrorIs(t, err, leaksafe.ErrStopped)
		assert.Equal(t, 0+1+2+3+4, sum, "the accumulator so far: nothing is read once done is seen closed")
		assert.Equal(t, 5, calls)
	})
	// Reduce is the consumer, so "the consumer stops reading" becomes: its input falls silent and it
	// waits, until done closes from another goroutine.
	t.Run("consumer waits on a silent input until done closes", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			done := make(chan struct{})
			in := make(chan int)
			go func() {
				in <- 1
				in <- 2
				time.Sleep(time.Minute) // a producer that falls silent
				close(done)
			}()
			start := time.Now()
			sum, err := leaksafe.Reduce(done, in, 0, add)
			require.ErrorIs(t, err, leaksafe.ErrStopped)
			assert.Equal(t, 3, sum)
			assert.Equal(t, time.Minute, time.Since(start), "Reduce returned before done closed")
		})
	})
}

func TestReduce(t *testing.T) {
	t.Run("folds in order", func(t *testing.T) {
		words, terminated := leaksafe.Generate(nil, "a", "b", "c")
		s, err := leaksafe.Reduce(nil, words, "", func(acc, w string) string { return acc + w })
		require.NoError(t, err)
		assert.Equal(t, "abc", s)
		waitClosed(t, terminated, "terminated")
	})
	t.Run("runs in the caller's goroutine and starts none", func(t *testing.T) {
		in := make(chan int, 3)
		in <- 1
		in <- 2
		in <- 3
		close(in)
		before := runtime.NumGoroutine()
		_, err := leaksafe.Reduce(nil, in, 0, func(a, v int) int {
			assert.LessOrEqual(t, runtime.NumGoroutine(), before, "Reduce started a goroutine")
			buf := make([]byte, 4096)
			assert.Contains(t, string(buf[:runtime.Stack(buf, false)]), "TestReduce",
				"fn must run in the caller's goroutine")
			return a + v
		})
		require.NoError(t, err)
	})
}

// TestCollectWhenDoneCloses checks what Collect returns when done cuts it short: the values so far,
// in order.
func TestCollectWhenDoneCloses(t *testing.T) {
	t.Run("done closed mid-stream", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			done := make(chan struct{})
			var sent atomic.Int64
			in := make(chan leaksafe.Result[int])
			go func() { // sends 0, 1, 2, closes done, and offers more until it sees done closed
				for i := 0; ; i++ {
					if i == 3 {
						close(done)
					}
					select {
					case in <- leaksafe.Result[int]{Value: i}:
						sent.Add(1)
					case <-done:
						return
					}
				}
			}()
			got, err := leaksafe.Collect(done, in)
			require.ErrorIs(t, err, leaksafe.ErrStopped)
			synctest.Wait()
			assert.Len(t, got, int(sent.Load()), "a value was received and dropped")
			require.GreaterOrEqual(t, len(got), 3)
			assert.Equal(t, count(len(got)), got, "the values so far, in order")
			assert.LessOrEqual(t, len(got), 4, "at most the value offered as done closed, then nothing")
		})
	})
	t.Run("consumer waits on a silent input until done closes", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			done := make(chan struct{})
			in := make(chan leaksafe.Result[int])
			go func() {
				in <- leaksafe.Result[int]{Value: 1}
				time.Sleep(time.Minute) // a producer that falls silent
				close(done)
			}()
			got, err := leaksafe.Collect(done, in)
			require.ErrorIs(t, err, leaksafe.ErrStopped)
			assert.Equal(t, []int{1}, got)
		})
	})
}

func TestCollect(t *testing.T) {
	errBad := errors.New("bad value")
	t.Run("the values before the first error, and that error; nothing read after it", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			done := make(chan struct{})
			var sent atomic.Int64
			in := results(done, count(10), 4, errBad, false, &sent)
			got, err := leaksafe.Collect(done, in)
			require.ErrorIs(t, err, errBad)
			assert.Equal(t, []int{0, 1, 2, 3}, got)
			synctest.Wait()
			assert.Equal(t, int64(5), sent.Load(), "Collect read past the first error")
			close(done) // the owner stops the producer: Collect does not drain
		})
	})
	t.Run("an error first gives a nil slice", func(t *testing.T) {
		done := make(chan struct{})
		defer close(done)
		var sent atomic.Int64
		got, err := leaksafe.Collect(done, results(done, count(3), 0, errBad, false, &sent))
		require.ErrorIs(t, err, errBad)
		assert.Nil(t, got)
	})
	t.Run("the first of several errors", func(t *testing.T) {
		in := make(chan leaksafe.Result[int], 4)
		in <- leaksafe.Result[int]{Value: 1}
		in <- leaksafe.Result[int]{Err: errBad}
		in <- leaksafe.Result[int]{Err: errors.New("second")}
		close(in)
		got, err := leaksafe.Collect(nil, in)
		assert.Same(t, errBad, err)
		assert.Equal(t, []int{1}, got)
		assert.Len(t, in, 1, "Collect read past the first error")
	})
	t.Run("with FromSeq2 and a scanner's error", func(t *testing.T) {
		seq := func(yield func(string, error) bool) {
			for _, s := range strings.Fields("alpha beta gamma") {
				if !yield(s, nil) {
					return
				}
			}
			yield("", errors.New("read: connection reset"))
		}
		done := make(chan struct{})
		out, terminated := leaksafe.FromSeq2(done, seq)
		got, err := leaksafe.Collect(done, out)
		close(done)
		waitClosed(t, terminated, "terminated")
		require.EqualError(t, err, "read: connection reset")
		assert.Equal(t, []string{"alpha", "beta", "gamma"}, got)
	})
	t.Run("runs in the caller's goroutine and starts none", func(t *testing.T) {
		in := make(chan leaksafe.Result[int], 2)
		in <- leaksafe.Result[int]{Value: 1}
		in <- leaksafe.Result[int]{Value: 2}
		close(in)
		before := runtime.NumGoroutine()
		got, err := leaksafe.Collect(nil, in)
		require.NoError(t, err)
		assert.Equal(t, []int{1, 2}, got)
		assert.LessOrEqual(t, runtime.NumGoroutine(), before, "Collect left a goroutine")
	})
}
