package leaksafe_test

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaksafe/leaksafe"
	"github.com/leaksafe/leaksafe/leaktest"
)

func identity(in []int) []int { return in }

func TestTake(t *testing.T) {
	t.Run("n values then stops reading", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var sent atomic.Int64
			in := make(chan int)
			done := make(chan struct{})
			go func() {
				for i := 0; ; i++ {
					select {
					case in <- i:
						sent.Add(1)
					case <-done:
						return
					}
				}
			}()
			out, terminated := leaksafe.Take(done, in, 3)
			assert.Equal(t, []int{0, 1, 2}, drain(t, out))
			<-terminated
			synctest.Wait()
			assert.Equal(t, int64(3), sent.Load(), "Take must not read the value after the n-th")
			close(done)
		})
	})
	t.Run("n == 0 yields nothing and ends at once", func(t *testing.T) {
		done := make(chan struct{})
		defer close(done)
		out, terminated := leaksafe.Take(done, feed(done, -1), 0)
		assert.Empty(t, drain(t, out))
		waitClosed(t, terminated, "terminated")
	})
	t.Run("input shorter than n", func(t *testing.T) {
		out, terminated := leaksafe.Take(nil, feed(nil, 2), 5)
		assert.Equal(t, []int{0, 1}, drain(t, out))
		waitClosed(t, terminated, "terminated")
	})
}

func TestTee(t *testing.T) {
	t.Run("both branches get every value", func(t *testing.T) {
		out1, out2, terminated := leaksafe.Tee(nil, feed(nil, 50))
		got1, got2 := drainBoth(t, out1, out2)
		assert.Equal(t, count(50), got1)
		assert.Equal(t, count(50), got2)
		waitClosed(t, terminated, "terminated")
	})
	t.Run("an unread branch stalls the other until done closes", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			done := make(chan struct{})
			in, sent := countedFeed(done, 10)
			out1, out2, terminated := leaksafe.Tee(done, in)
			assert.Equal(t, 0, <-out1)
			synctest.Wait()
			assert.Equal(t, int64(1), sent.Load(), "Tee read the next value before sending the first on both outputs")
			select {
			case v := <-out1:
				t.Fatalf("out1 delivered %d while out2 was unread", v)
			default:
			}
			close(done)
			<-terminated
			_, ok1 := <-out1
			_, ok2 := <-out2
			assert.False(t, ok1 || ok2, "both outputs closed")
		})
	})
	t.Run("done closed before any value", func(t *testing.T) {
		done := make(chan struct{})
		close(done)
		out1, out2, terminated := leaksafe.Tee(done, feed(done, -1))
		assert.Empty(t, drain(t, out1))
		assert.Empty(t, drain(t, out2))
		waitClosed(t, terminated, "terminated")
	})
	t.Run("consumer stops reading then closes done", func(t *testing.T) {
		done := make(chan struct{})
		out1, out2, terminated := leaksafe.Tee(done, feed(done, -1))
		receive(t, out1)
		receive(t, out2)
		close(done)
		waitClosed(t, terminated, "terminated")
	})
	t.Run("nil input", func(t *testing.T) {
		done := make(chan struct{})
		_, _, terminated := leaksafe.Tee(done, (<-chan int)(nil))
		assert.False(t, isClosed(terminated))
		close(done)
		waitClosed(t, terminated, "terminated")
	})
	t.Run("closed input", func(t *testing.T) {
		out1, out2, terminated := leaksafe.Tee(nil, closedChan[int]())
		assert.Empty(t, drain(t, out1))
		assert.Empty(t, drain(t, out2))
		waitClosed(t, terminated, "terminated")
	})
}

func TestFanIn(t *testing.T) {
	t.Run("every value of every input", func(t *testing.T) {
		out, terminated := leaksafe.FanIn(nil, feed(nil, 30), feed(nil, 20), closedChan[int]())
		got := drain(t, out)
		slices.Sort(got)
		want := append(count(30), count(20)...)
		slices.Sort(want)
		assert.Equal(t, want, got)
		waitClosed(t, terminated, "terminated")
	})
	t.Run("no inputs ends at once", func(t *testing.T) {
		out, terminated := leaksafe.FanIn[int](nil)
		assert.Empty(t, drain(t, out))
		waitClosed(t, terminated, "terminated")
	})
	t.Run("done closed mid-stream with a nil input", func(t *testing.T) {
		done := make(chan struct{})
		out, terminated := leaksafe.FanIn(done, feed(done, -1), nil)
		receive(t, out)
		close(done)
		waitClosed(t, terminated, "terminated")
	})
	t.Run("out stays open while one input is open", func(t *testing.T) {
		done := make(chan struct{})
		out, terminated := leaksafe.FanIn(done, closedChan[int](), nil)
		assert.False(t, isClosed(terminated))
		close(done)
		assert.Empty(t, drain(t, out))
		waitClosed(t, terminated, "terminated")
	})
}

func TestBridge(t *testing.T) {
	t.Run("drains each stream in turn, in arrival order", func(t *testing.T) {
		chans := make(chan (<-chan int))
		go func() {
			defer close(chans)
			for i := range 4 {
				s, _ := leaksafe.Generate(nil, i*10, i*10+1, i*10+2)
				chans <- s
			}
		}()
		out, terminated := leaksafe.Bridge(nil, chans)
		assert.Equal(t, []int{0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32}, drain(t, out))
		waitClosed(t, terminated, "terminated")
	})
	t.Run("nil chans", func(t *testing.T) {
		done := make(chan struct{})
		out, terminated := leaksafe.Bridge[int](done, nil)
		assert.False(t, isClosed(terminated))
		close(done)
		assert.Empty(t, drain(t, out))
		waitClosed(t, terminated, "terminated")
	})
	t.Run("closed chans", func(t *testing.T) {
		out, terminated := leaksafe.Bridge(nil, closedChan[<-chan int]())
		assert.Empty(t, drain(t, out))
		waitClosed(t, terminated, "terminated")
	})
	t.Run("done closed while waiting for the next stream", func(t *testing.T) {
		done := make(chan struct{})
		chans := make(chan (<-chan int), 1)
		s, _ := leaksafe.Generate(nil, 1)
		chans <- s
		out, terminated := leaksafe.Bridge(done, chans)
		assert.Equal(t, 1, receive(t, out))
		close(done)
		waitClosed(t, terminated, "terminated")
	})
}

func TestBuffer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var sent atomic.Int64
		in := make(chan int)
		go func() {
			defer close(in)
			for i := range 10 {
				in <- i
				sent.Add(1)
			}
		}()
		out, terminated := leaksafe.Buffer(nil, in, 4)
		synctest.Wait()
		// Four values wait in out and the stage holds a fifth while it waits to send it.
		assert.Equal(t, int64(5), sent.Load(), "the producer runs ahead by size values plus the one in hand")
		assert.Equal(t, count(10), drain(t, out))
		<-terminated
	})
}

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

func TestMisusePanics(t *testing.T) {
	in := closedChan[int]()
	cases := []struct {
		name string
		call func()
		want string
	}{
		{"RepeatFunc nil fn", func() { leaksafe.RepeatFunc[int](nil, nil) }, "leaksafe: RepeatFunc: nil fn"},
		{"FromSeq nil seq", func() { leaksafe.FromSeq[int](nil, nil) }, "leaksafe: FromSeq: nil seq"},
		{"Take negative n", func() { leaksafe.Take(nil, in, -1) }, "leaksafe: Take: n must be at least 0, got -1"},
		{"Map nil fn", func() { leaksafe.Map[int, int](nil, in, nil) }, "leaksafe: Map: nil fn"},
		{"Filter nil keep", func() { leaksafe.Filter(nil, in, nil) }, "leaksafe: Filter: nil keep"},
		{"Buffer size 0", func() { leaksafe.Buffer(nil, in, 0) }, "leaksafe: Buffer: size must be at least 1, got 0"},
		{"Buffer negative size", func() { leaksafe.Buffer(nil, in, -3) }, "leaksafe: Buffer: size must be at least 1, got -3"},
		{"Range nil src", func() { leaksafe.Range[int](nil, nil) }, "leaksafe: Range: nil src"},
		{"DoWork nil fn", func() { leaksafe.DoWork(nil, in, nil) }, "leaksafe: DoWork: nil fn"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.PanicsWithValue(t, c.want, c.call, "the panic must name the package and the function")
		})
	}
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
						t.Error("no value expected from a source that cannot be waited for")
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
			t.Error("no value expected")
		}
	})
	waitClosed(t, started, "the stage started before the panic")
}
