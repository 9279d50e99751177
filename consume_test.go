package leaksafe_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaksafe/leaksafe"
	"github.com/leaksafe/leaksafe/leaktest"
)

func TestValues(t *testing.T) {
	t.Run("input drained to the end", func(t *testing.T) {
		assert.Equal(t, count(20), slices.Collect(leaksafe.Values(nil, feed(nil, 20))))
	})
	t.Run("done closed mid-stream", func(t *testing.T) {
		done := make(chan struct{})
		n := 0
		for range leaksafe.Values(done, feed(done, -1)) {
			n++
			if n == 5 {
				close(done)
			}
		}
		assert.GreaterOrEqual(t, n, 5)
	})
	t.Run("done closed before any value", func(t *testing.T) {
		done := make(chan struct{})
		close(done)
		assert.Empty(t, slices.Collect(leaksafe.Values(done, feed(done, -1))))
	})
	t.Run("break leaves the input to its owner", func(t *testing.T) {
		done := make(chan struct{})
		defer close(done)
		for v := range leaksafe.Values(done, feed(done, -1)) {
			if v == 3 {
				break
			}
		}
	})
	t.Run("nil input", func(t *testing.T) {
		done := make(chan struct{})
		close(done)
		assert.Empty(t, slices.Collect(leaksafe.Values[int](done, nil)))
	})
	t.Run("closed input", func(t *testing.T) {
		assert.Empty(t, slices.Collect(leaksafe.Values(nil, closedChan[int]())))
	})
}

// watched wraps src so that the test can see the terminated channel of each start.
func watched[T any](src leaksafe.Source[T], terms *[]<-chan struct{}) leaksafe.Source[T] {
	return func(done <-chan struct{}) (<-chan T, <-chan struct{}) {
		out, terminated := src(done)
		*terms = append(*terms, terminated)
		return out, terminated
	}
}

func TestRange(t *testing.T) {
	t.Run("source exhausted", func(t *testing.T) {
		var terms []<-chan struct{}
		src := watched(func(done <-chan struct{}) (<-chan int, <-chan struct{}) {
			return leaksafe.Generate(done, 1, 2, 3)
		}, &terms)
		assert.Equal(t, []int{1, 2, 3}, slices.Collect(leaksafe.Range(nil, src)))
		require.Len(t, terms, 1)
		assert.True(t, isClosed(terms[0]), "terminated must be closed when the loop completes")
	})
	t.Run("break", func(t *testing.T) {
		var terms []<-chan struct{}
		n := 0
		for range leaksafe.Range(nil, watched(leaksafe.NewRandStream, &terms)) {
			n++
			if n == 3 {
				break
			}
		}
		require.Len(t, terms, 1)
		assert.True(t, isClosed(terms[0]), "the source must have stopped before the loop statement completes")
	})
	t.Run("return", func(t *testing.T) {
		var terms []<-chan struct{}
		first := func() int {
			for v := range leaksafe.Range(nil, watched(leaksafe.NewRandStream, &terms)) {
				return v
			}
			return -1
		}
		assert.GreaterOrEqual(t, first(), 0)
		require.Len(t, terms, 1)
		assert.True(t, isClosed(terms[0]), "the source must have stopped before the function returns")
	})
	t.Run("panic in the loop body", func(t *testing.T) {
		var terms []<-chan struct{}
		assert.PanicsWithValue(t, "boom", func() {
			for range leaksafe.Range(nil, watched(leaksafe.NewRandStream, &terms)) {
				panic("boom")
			}
		})
		require.Len(t, terms, 1)
		assert.True(t, isClosed(terms[0]), "the source must have stopped before the panic leaves the loop")
	})
	t.Run("outer done closed", func(t *testing.T) {
		var terms []<-chan struct{}
		done := make(chan struct{})
		n := 0
		for range leaksafe.Range(done, watched(leaksafe.NewRandStream, &terms)) {
			n++
			if n == 3 {
				close(done)
			}
		}
		assert.Equal(t, 3, n, "no value after the outer done is closed")
		require.Len(t, terms, 1)
		assert.True(t, isClosed(terms[0]))
	})
	t.Run("outer done closed before the loop", func(t *testing.T) {
		var terms []<-chan struct{}
		done := make(chan struct{})
		close(done)
		assert.Empty(t, slices.Collect(leaksafe.Range(done, watched(leaksafe.NewRandStream, &terms))))
		require.Len(t, terms, 1)
		assert.True(t, isClosed(terms[0]))
	})
	t.Run("multi-stage pipeline stops whole", func(t *testing.T) {
		var terms []<-chan struct{}
		src := watched(func(done <-chan struct{}) (<-chan int, <-chan struct{}) {
			nums, t1 := leaksafe.Repeat(done, 1, 2, 3, 4)
			evens, t2 := leaksafe.Filter(done, nums, func(v int) bool { return v%2 == 0 })
			sq, t3 := leaksafe.Map(done, evens, func(v int) int { return v * v })
			buf, t4 := leaksafe.Buffer(done, sq, 8)
			return buf, leaksafe.All(t1, t2, t3, t4)
		}, &terms)
		var got []int
		for v := range leaksafe.Range(nil, src) {
			got = append(got, v)
			if len(got) == 4 {
				break
			}
		}
		assert.Equal(t, []int{4, 16, 4, 16}, got)
		assert.True(t, isClosed(terms[0]))
	})
	t.Run("each iteration starts the source afresh", func(t *testing.T) {
		var terms []<-chan struct{}
		seq := leaksafe.Range(nil, watched(func(done <-chan struct{}) (<-chan int, <-chan struct{}) {
			return leaksafe.Generate(done, 7, 8)
		}, &terms))
		assert.Equal(t, []int{7, 8}, slices.Collect(seq))
		assert.Equal(t, []int{7, 8}, slices.Collect(seq))
		assert.Len(t, terms, 2)
	})
}

// TestRangeNilTerminated checks that a source that returns a nil terminated, which Range could not
// wait for, makes the loop panic, and that what the source started is stopped first.
func TestRangeNilTerminated(t *testing.T) {
	leaktest.Check(t)
	cases := []struct {
		name    string
		keepOut bool
	}{
		{"with its output", true},
		{"with a nil output too", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// In a bubble, a loop that waits forever fails as a deadlock instead of hanging.
			synctest.Test(t, func(t *testing.T) {
				var started <-chan struct{}
				src := func(done <-chan struct{}) (<-chan int, <-chan struct{}) {
					var out <-chan int
					out, started = leaksafe.NewRandStream(done)
					if !c.keepOut {
						out = nil
					}
					return out, nil
				}
				assert.PanicsWithValue(t, "leaksafe: Range: src returned a nil terminated", func() {
					for range leaksafe.Range(nil, src) {
						assert.Fail(t, "no value expected from a source that cannot be waited for")
						break
					}
				})
				waitClosed(t, started, "the stage the source started")
			})
		})
	}
}

// TestRangeSourcePanics checks that stages a source started before it panicked are stopped too.
func TestRangeSourcePanics(t *testing.T) {
	var started <-chan struct{}
	src := func(done <-chan struct{}) (<-chan int, <-chan struct{}) {
		_, started = leaksafe.NewRandStream(done)
		panic("bad source")
	}
	assert.PanicsWithValue(t, "bad source", func() {
		for range leaksafe.Range(nil, src) {
			assert.Fail(t, "no value expected")
		}
	})
	waitClosed(t, started, "the stage started before the panic")
}

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

func TestTry(t *testing.T) {
	errBoom := errors.New("boom")
	assert.Equal(t, leaksafe.Result[int]{Value: 3}, leaksafe.Try(strconv.Atoi("3")))
	r := leaksafe.Try(0, errBoom)
	assert.ErrorIs(t, r.Err, errBoom)
}

func TestBreakCancelsTheRequestInFlight(t *testing.T) {
	srv := newHangServer(t)
	client := srv.Client()
	src := func(done <-chan struct{}) (<-chan leaksafe.Result[string], <-chan struct{}) {
		ctx := leaksafe.WithDone(context.Background(), done)
		urls, t1 := leaksafe.Generate(done, srv.URL+"/page/a", srv.URL+"/hang", srv.URL+"/page/b")
		pages, t2 := leaksafe.ParallelMapOrdered(done, urls, 2, func(u string) leaksafe.Result[string] {
			return leaksafe.Try(get(ctx, client, u))
		})
		return pages, leaksafe.All(t1, t2)
	}
	var got []string
	for page := range leaksafe.Range(nil, src) {
		require.NoError(t, page.Err)
		got = append(got, page.Value)
		<-srv.entered // the request for /hang is in flight
		break         // completes only once that request is cancelled
	}
	assert.Equal(t, []string{"page a"}, got)
	srv.finish(t)
}

// TestConsumerMisusePanics checks that misuse panics at call time, before any goroutine starts, with the package
// and the function in the message.
func TestConsumerMisusePanics(t *testing.T) {
	in := closedChan[int]()
	cases := []struct {
		name string
		call func()
		want string
	}{
		{"Range nil src", func() { leaksafe.Range[int](nil, nil) }, "leaksafe: Range: nil src"},
		{"Reduce nil fn", func() { _, _ = leaksafe.Reduce[int, int](nil, in, 0, nil) }, "leaksafe: Reduce: nil fn"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			assert.PanicsWithValue(t, c.want, c.call, "the panic must name the package and the function")
			assert.LessOrEqual(t, runtime.NumGoroutine(), before, "a goroutine started before the panic")
		})
	}
}
