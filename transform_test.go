package leaksafe_test

import (
	"errors"
	"iter"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaksafe/leaksafe"
)

// withReader starts a test-owned goroutine that reads other until it closes, so that a stage whose
// outputs hold each other back (Partition) can be tested one output at a time.
func withReader[T any](out, other <-chan T, terminated <-chan struct{}) (<-chan T, <-chan struct{}) {
	read := make(chan struct{})
	go func() {
		defer close(read)
		for range other {
		}
	}()
	return out, leaksafe.All(terminated, read)
}

func even(v int) bool { return v%2 == 0 }

// keepWhere returns the values of in for which keep is true.
func keepWhere(in []int, keep func(int) bool) []int {
	var out []int
	for _, v := range in {
		if keep(v) {
			out = append(out, v)
		}
	}
	return out
}

// errEveryFifth is the error that pairs carries for every fifth value.
var errEveryFifth = errors.New("every fifth value fails")

// pairs is a sequence over the values of in, with errEveryFifth in place of every fifth one, read the
// way a scanner reads a pipe: until in closes or done closes.
func pairs(done <-chan struct{}, in <-chan int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for v := range leaksafe.Values(done, in) {
			var err error
			if v%5 == 4 {
				err = errEveryFifth
			}
			if !yield(v, err) {
				return
			}
		}
	}
}

// repeatTwice yields v twice, tagged 10v and 10v+1, and stops when yield returns false.
func repeatTwice(v int) iter.Seq[int] {
	return func(yield func(int) bool) {
		_ = yield(10*v) && yield(10*v+1)
	}
}

// TestVerbCapacity pins what each output holds: as many values as the input can for FilterMap and
// FlatMap (at least one), nothing for Partition's two outputs, one value for FromSeq2.
func TestVerbCapacity(t *testing.T) {
	for _, c := range []struct {
		name    string
		inCap   int
		wantCap int
	}{
		{"unbuffered input", 0, 1},
		{"one-value input", 1, 1},
		{"16-buffered input", 16, 16},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := make(chan int, c.inCap)
			close(in)
			fm, t1 := leaksafe.FilterMap(nil, in, func(v int) (int, bool) { return v, true })
			flat, t2 := leaksafe.FlatMap(nil, in, repeatTwice)
			kept, rest, t3 := leaksafe.Partition(nil, in, even)
			assert.Equal(t, c.wantCap, cap(fm), "FilterMap's output holds max(1, cap(in))")
			assert.Equal(t, c.wantCap, cap(flat), "FlatMap's output holds max(1, cap(in))")
			assert.Equal(t, 0, cap(kept), "Partition's kept is unbuffered")
			assert.Equal(t, 0, cap(rest), "Partition's rest is unbuffered")
			waitClosed(t, leaksafe.All(t1, t2, t3), "terminated")
		})
	}
	t.Run("nil input", func(t *testing.T) {
		done := make(chan struct{})
		out, terminated := leaksafe.FilterMap(done, nil, func(v int) (int, bool) { return v, true })
		assert.Equal(t, 1, cap(out), "a nil input has no capacity: out holds one value")
		close(done)
		waitClosed(t, terminated, "terminated")
	})
	t.Run("FromSeq2", func(t *testing.T) {
		out, terminated := leaksafe.FromSeq2(nil, pairs(nil, closedChan[int]()))
		assert.Equal(t, 1, cap(out), "FromSeq2's output holds one value")
		waitClosed(t, terminated, "terminated")
	})
}

func TestFilterMap(t *testing.T) {
	t.Run("skips bad lines and parses the rest, in one stage", func(t *testing.T) {
		lines, _ := leaksafe.Generate(nil, "1", "two", "3", "", "5")
		out, terminated := leaksafe.FilterMap(nil, lines, func(s string) (int, bool) {
			n, err := strconv.Atoi(s)
			return n, err == nil
		})
		assert.Equal(t, []int{1, 3, 5}, drain(t, out))
		waitClosed(t, terminated, "terminated")
	})
	t.Run("fn is not called after done is seen closed", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			done := make(chan struct{})
			var calls atomic.Int64
			out, terminated := leaksafe.FilterMap(done, feed(done, -1), func(v int) (int, bool) {
				if calls.Add(1) == 3 {
					close(done)
				}
				return v, true
			})
			drain(t, out)
			<-terminated
			assert.Equal(t, int64(3), calls.Load(), "a call of fn after the one that closed done")
		})
	})
}

func TestFlatMap(t *testing.T) {
	t.Run("unbatches a stream of slices", func(t *testing.T) {
		batches, _ := leaksafe.Generate(nil, []int{1, 2, 3}, nil, []int{4}, []int{5, 6})
		out, terminated := leaksafe.FlatMap(nil, batches, slices.Values)
		assert.Equal(t, []int{1, 2, 3, 4, 5, 6}, drain(t, out))
		waitClosed(t, terminated, "terminated")
	})
	t.Run("a nil sequence yields nothing", func(t *testing.T) {
		out, terminated := leaksafe.FlatMap(nil, feed(nil, 6), func(v int) iter.Seq[int] {
			if v%2 == 1 {
				return nil
			}
			return slices.Values([]int{v})
		})
		assert.Equal(t, []int{0, 2, 4}, drain(t, out))
		waitClosed(t, terminated, "terminated")
	})
	t.Run("an endless inner sequence stops when done closes", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			done := make(chan struct{})
			var yielded atomic.Int64
			var stopped atomic.Bool
			out, terminated := leaksafe.FlatMap(done, feed(done, -1), func(int) iter.Seq[int] {
				return func(yield func(int) bool) {
					for i := 0; ; i++ {
						yielded.Add(1)
						if !yield(i) {
							stopped.Store(true)
							return
						}
					}
				}
			})
			assert.Equal(t, []int{0, 1, 2}, []int{<-out, <-out, <-out})
			synctest.Wait()
			// Three received, one in out's buffer, one in hand waiting to be sent.
			assert.Equal(t, int64(5), yielded.Load(), "the sequence ran ahead of the consumer")
			close(done)
			<-terminated
			assert.True(t, stopped.Load(), "yield must return false once done is closed")
			assert.Equal(t, int64(5), yielded.Load(), "the sequence was asked for a value after done closed")
		})
	})
	t.Run("done is checked between inner values even when out has room", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			done := make(chan struct{})
			in := make(chan int, 16)
			in <- 1
			var afterDone atomic.Int64
			out, terminated := leaksafe.FlatMap(done, in, func(int) iter.Seq[int] {
				return func(yield func(int) bool) {
					for i := 0; ; i++ {
						if i == 3 {
							close(done) // out has room for 13 more
						}
						if !yield(i) {
							return
						}
						if i >= 3 {
							afterDone.Add(1)
						}
					}
				}
			})
			<-terminated
			assert.Equal(t, int64(0), afterDone.Load(), "yield accepted a value after done closed")
			got := drain(t, out)
			assert.Equal(t, []int{0, 1, 2}, got, "the values sent before done closed")
		})
	})
}

func TestPartition(t *testing.T) {
	t.Run("each value goes to exactly one output, in order", func(t *testing.T) {
		kept, rest, terminated := leaksafe.Partition(nil, feed(nil, 50), even)
		gotKept, gotRest := drainBoth(t, kept, rest)
		assert.Equal(t, keepWhere(count(50), even), gotKept)
		assert.Equal(t, keepWhere(count(50), func(v int) bool { return !even(v) }), gotRest)
		waitClosed(t, terminated, "terminated")
	})
	t.Run("an unread output stalls the other until done closes", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			done := make(chan struct{})
			in, sent := countedFeed(done, 10)
			kept, rest, terminated := leaksafe.Partition(done, in, even)
			assert.Equal(t, 0, <-kept)
			synctest.Wait()
			// 1 is for rest, which nobody reads: Partition holds it and reads nothing more.
			assert.Equal(t, int64(2), sent.Load(), "Partition read past a value it could not send")
			select {
			case v := <-kept:
				t.Fatalf("kept delivered %d while rest was unread", v)
			default:
			}
			close(done)
			<-terminated
			_, ok1 := <-kept
			_, ok2 := <-rest
			assert.False(t, ok1 || ok2, "both outputs closed")
		})
	})
}

// TestVerbMisusePanics checks that misuse panics at call time, with the package and the function in
// the message, before any goroutine starts.
func TestVerbMisusePanics(t *testing.T) {
	in := closedChan[int]()
	cases := []struct {
		name string
		call func()
		want string
	}{
		{"FilterMap nil fn", func() { leaksafe.FilterMap[int, int](nil, in, nil) }, "leaksafe: FilterMap: nil fn"},
		{"FlatMap nil fn", func() { leaksafe.FlatMap[int, int](nil, in, nil) }, "leaksafe: FlatMap: nil fn"},
		{"Partition nil keep", func() { leaksafe.Partition(nil, in, nil) }, "leaksafe: Partition: nil keep"},
		{"FromSeq2 nil seq", func() { leaksafe.FromSeq2[int](nil, nil) }, "leaksafe: FromSeq2: nil seq"},
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

// TestVerbsCompose runs a pipeline of the new stages end to end: a sequence with errors, the errors
// split off, the values unbatched and parsed, then collected and reduced.
func TestVerbsCompose(t *testing.T) {
	done := make(chan struct{})
	lines := func(yield func([]string, error) bool) {
		_ = yield([]string{"1", "x", "2"}, nil) &&
			yield(nil, errors.New("a bad block")) &&
			yield([]string{"3", "", "4"}, nil)
	}
	blocks, t1 := leaksafe.FromSeq2(done, lines)
	good, bad, t2 := leaksafe.Partition(done, blocks, func(r leaksafe.Result[[]string]) bool { return r.Err == nil })
	var errs []string
	t3 := leaksafe.DoWork(done, bad, func(r leaksafe.Result[[]string]) { errs = append(errs, r.Err.Error()) })
	texts, t4 := leaksafe.FlatMap(done, good, func(r leaksafe.Result[[]string]) iter.Seq[string] { return slices.Values(r.Value) })
	nums, t5 := leaksafe.FilterMap(done, texts, func(s string) (int, bool) {
		n, err := strconv.Atoi(s)
		return n, err == nil
	})
	sum, err := leaksafe.Reduce(done, nums, 0, func(a, n int) int { return a + n })
	require.NoError(t, err)
	waitClosed(t, leaksafe.All(t1, t2, t4, t5), "terminated")
	close(done)
	waitClosed(t, t3, "DoWork's terminated")
	assert.Equal(t, 10, sum)
	assert.Equal(t, []string{"a bad block"}, errs)
}

// TestVerbsUnderRange checks that a pipeline of the new stages stops whole when the loop breaks.
func TestVerbsUnderRange(t *testing.T) {
	var terms []<-chan struct{}
	src := watched(func(done <-chan struct{}) (<-chan int, <-chan struct{}) {
		nums, t1 := leaksafe.Repeat(done, 1, 2, 3)
		pairs, t2 := leaksafe.FlatMap(done, nums, repeatTwice)
		odd, even, t3 := leaksafe.Partition(done, pairs, func(v int) bool { return v%2 == 1 })
		t4 := leaksafe.DoWork(done, even, func(int) {})
		big, t5 := leaksafe.FilterMap(done, odd, func(v int) (int, bool) { return v, v > 15 })
		return big, leaksafe.All(t1, t2, t3, t4, t5)
	}, &terms)
	var got []int
	for v := range leaksafe.Range(nil, src) {
		got = append(got, v)
		if len(got) == 3 {
			break
		}
	}
	assert.Equal(t, []int{21, 31, 21}, got)
	require.Len(t, terms, 1)
	assert.True(t, isClosed(terms[0]), "the pipeline must have stopped before the loop statement completes")
}
