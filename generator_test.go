package leaksafe_test

import (
	"bufio"
	"errors"
	"io"
	"iter"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
			require.Fail(t, "the iterator was not told to stop by yield returning false")
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

// naturals2 yields (0, nil), (1, nil), … until yield returns false, counting its calls of yield and
// recording that it stopped.
func naturals2(yielded *atomic.Int64, stopped *atomic.Bool) func(func(int, error) bool) {
	return func(yield func(int, error) bool) {
		for i := 0; ; i++ {
			yielded.Add(1)
			if !yield(i, nil) {
				stopped.Store(true)
				return
			}
		}
	}
}

// TestFromSeq2StopsTheSequence checks that done stops the sequence itself: seq is not called once
// done is closed, and yield returns false, and is not called again, once done closes.
func TestFromSeq2StopsTheSequence(t *testing.T) {
	t.Run("done closed before any value: seq is not called", func(t *testing.T) {
		done := make(chan struct{})
		close(done)
		called := false
		out, terminated := leaksafe.FromSeq2(done, func(func(int, error) bool) { called = true })
		assert.Empty(t, drain(t, out))
		waitClosed(t, terminated, "terminated")
		assert.False(t, called, "seq called although done was closed")
	})
	t.Run("done closed mid-stream: yield returns false and is not called again", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			done := make(chan struct{})
			var yielded atomic.Int64
			var stopped atomic.Bool
			out, terminated := leaksafe.FromSeq2(done, naturals2(&yielded, &stopped))
			for want := range 3 {
				assert.Equal(t, leaksafe.Result[int]{Value: want}, <-out)
			}
			synctest.Wait()
			// Three received, one in out's buffer, one in hand waiting to be sent.
			assert.Equal(t, int64(5), yielded.Load(), "the sequence ran ahead of the consumer")
			close(done)
			<-terminated
			assert.True(t, stopped.Load(), "yield must return false once done is closed")
			assert.Equal(t, int64(5), yielded.Load(), "yield called after done closed")
		})
	})
	t.Run("consumer stops reading then closes done", func(t *testing.T) {
		done := make(chan struct{})
		var yielded atomic.Int64
		var stopped atomic.Bool
		out, terminated := leaksafe.FromSeq2(done, naturals2(&yielded, &stopped))
		receive(t, out)
		assert.False(t, isClosed(terminated), "terminated closed while the sequence goes on")
		close(done) // out is never read again
		waitClosed(t, terminated, "terminated")
		assert.True(t, stopped.Load(), "the sequence must have stopped")
	})
	t.Run("an empty sequence", func(t *testing.T) {
		out, terminated := leaksafe.FromSeq2(nil, func(func(int, error) bool) {})
		assert.Empty(t, drain(t, out))
		waitClosed(t, terminated, "terminated")
	})
}

func TestFromSeq2(t *testing.T) {
	t.Run("errors travel as Result.Err, in place, and do not end the stream", func(t *testing.T) {
		errA, errB := errors.New("a"), errors.New("b")
		seq := func(yield func(string, error) bool) {
			_ = yield("x", nil) && yield("", errA) && yield("y", nil) && yield("z", errB)
		}
		out, terminated := leaksafe.FromSeq2(nil, seq)
		assert.Equal(t, []leaksafe.Result[string]{
			{Value: "x"}, {Err: errA}, {Value: "y"}, {Value: "z", Err: errB},
		}, drain(t, out))
		waitClosed(t, terminated, "terminated")
	})
	t.Run("a scanner's error is the last Result", func(t *testing.T) {
		errDisk := errors.New("disk on fire")
		r := io.MultiReader(strings.NewReader("one\ntwo\n"), iotest.ErrReader(errDisk))
		out, terminated := leaksafe.FromSeq2(nil, scanLines(r))
		assert.Equal(t, []leaksafe.Result[string]{
			{Value: "one"}, {Value: "two"}, {Err: errDisk},
		}, drain(t, out))
		waitClosed(t, terminated, "terminated")
	})
}

// scanLines yields the lines of r, then the scanner's error if there is one.
func scanLines(r io.Reader) func(func(string, error) bool) {
	return func(yield func(string, error) bool) {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if !yield(sc.Text(), nil) {
				return
			}
		}
		if err := sc.Err(); err != nil {
			yield("", err)
		}
	}
}

// TestSourceMisusePanics checks that misuse panics at call time, before any goroutine starts, with the package
// and the function in the message.
func TestSourceMisusePanics(t *testing.T) {
	cases := []struct {
		name string
		call func()
		want string
	}{
		{"RepeatFunc nil fn", func() { leaksafe.RepeatFunc[int](nil, nil) }, "leaksafe: RepeatFunc: nil fn"},
		{"FromSeq nil seq", func() { leaksafe.FromSeq[int](nil, nil) }, "leaksafe: FromSeq: nil seq"},
		{"FromSeq2 nil seq", func() { leaksafe.FromSeq2[int](nil, nil) }, "leaksafe: FromSeq2: nil seq"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			assert.PanicsWithValue(t, c.want, c.call, "the panic must name the package and the function")
			assert.LessOrEqual(t, runtime.NumGoroutine(), before, "a goroutine started before the panic")
		})
	}
}
