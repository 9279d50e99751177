package leaksafe_test

import (
	"iter"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"

	"github.com/leaksafe/leaksafe"
)

// generator is a source under test. finite is the output it must give when read to the end, or nil
// when it never ends by itself.
type generator struct {
	name   string
	start  func(done <-chan struct{}) (<-chan int, <-chan struct{})
	finite []int
}

var generators = []generator{
	{"Generate", func(done <-chan struct{}) (<-chan int, <-chan struct{}) {
		return leaksafe.Generate(done, 3, 1, 4, 1, 5)
	}, []int{3, 1, 4, 1, 5}},
	{"Repeat", func(done <-chan struct{}) (<-chan int, <-chan struct{}) {
		return leaksafe.Repeat(done, 1, 2)
	}, nil},
	{"RepeatFunc", func(done <-chan struct{}) (<-chan int, <-chan struct{}) {
		n := 0
		return leaksafe.RepeatFunc(done, func() int { n++; return n })
	}, nil},
	{"NewRandStream", leaksafe.NewRandStream, nil},
	{"FromSeq finite", func(done <-chan struct{}) (<-chan int, <-chan struct{}) {
		return leaksafe.FromSeq(done, func(yield func(int) bool) {
			for i := range 4 {
				if !yield(i) {
					return
				}
			}
		})
	}, []int{0, 1, 2, 3}},
	{"FromSeq endless", func(done <-chan struct{}) (<-chan int, <-chan struct{}) {
		return leaksafe.FromSeq(done, naturals)
	}, nil},
}

// naturals yields 0, 1, 2, … until yield returns false.
func naturals(yield func(int) bool) {
	for i := 0; yield(i); i++ {
	}
}

func TestGeneratorTermination(t *testing.T) {
	for _, g := range generators {
		t.Run(g.name, func(t *testing.T) {
			if g.finite != nil {
				t.Run("drained to the end", func(t *testing.T) {
					out, terminated := g.start(nil)
					assert.Equal(t, g.finite, drain(t, out))
					waitClosed(t, terminated, "terminated")
				})
			}
			t.Run("done closed before any value", func(t *testing.T) {
				done := make(chan struct{})
				close(done)
				out, terminated := g.start(done)
				assert.Empty(t, drain(t, out), "no value after done is closed")
				waitClosed(t, terminated, "terminated")
			})
			t.Run("done closed mid-stream", func(t *testing.T) {
				done := make(chan struct{})
				out, terminated := g.start(done)
				receive(t, out)
				receive(t, out)
				close(done)
				drain(t, out)
				waitClosed(t, terminated, "terminated")
			})
			t.Run("consumer stops reading then closes done", func(t *testing.T) {
				done := make(chan struct{})
				out, terminated := g.start(done)
				receive(t, out)
				close(done)
				waitClosed(t, terminated, "terminated")
			})
		})
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
