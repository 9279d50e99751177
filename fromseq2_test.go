package leaksafe_test

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"testing/synctest"

	"github.com/stretchr/testify/assert"

	"github.com/leaksafe/leaksafe"
)

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
