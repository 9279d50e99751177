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
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaksafe/leaksafe"
)

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
				require.Failf(t, "a branch that is not read stalls the other", "out1 delivered %d while out2 was unread", v)
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
				require.Failf(t, "a branch that is not read stalls the other", "kept delivered %d while rest was unread", v)
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

// sendAt starts a test-owned producer that sends each value at its offset from now, then closes the
// channel at closeAt. It gives up when done closes.
func sendAt(done <-chan struct{}, at []time.Duration, closeAt time.Duration) <-chan int {
	t0 := time.Now()
	ch := make(chan int)
	go func() {
		defer close(ch)
		for i, d := range append(at, closeAt) {
			time.Sleep(time.Until(t0.Add(d)))
			if i == len(at) {
				return
			}
			select {
			case ch <- i:
			case <-done:
				return
			}
		}
	}()
	return ch
}

// received records what arrives on out and when, as offsets from now, until out closes.
type received[O any] struct {
	at     time.Duration
	values O
}

func receiveAll[O any](t *testing.T, out <-chan O) []received[O] {
	t.Helper()
	t0 := time.Now()
	var got []received[O]
	for v := range out {
		got = append(got, received[O]{time.Since(t0), v})
	}
	return got
}

func TestBatch(t *testing.T) {
	t.Run("batches end at size, at maxWait after their first value, and when in closes", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			in := sendAt(nil, atSeconds(0, 0, 0, 0.5, 1.2, 2, 2.1, 2.2, 5, 5.9, 7), 7300*time.Millisecond)
			out, terminated := leaksafe.Batch(nil, in, 3, time.Second)
			got := receiveAll(t, out)
			<-terminated
			assert.Equal(t, []received[[]int]{
				{0, []int{0, 1, 2}},                       // size reached at once
				{1500 * time.Millisecond, []int{3, 4}},    // maxWait after 3 arrived at 0.5s
				{2200 * time.Millisecond, []int{5, 6, 7}}, // size reached before maxWait
				{6 * time.Second, []int{8, 9}},            // maxWait after 8 arrived at 5s; no batch while idle
				{7300 * time.Millisecond, []int{10}},      // the partial batch, flushed when in closes
			}, got)
		})
	})
	t.Run("done drops the partial batch without waiting", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			done := make(chan struct{})
			in := make(chan int)
			out, terminated := leaksafe.Batch(done, in, 5, time.Second)
			in <- 1
			in <- 2
			close(done) // before maxWait, with no one reading out
			<-terminated
			assert.Empty(t, drain(t, out), "the partial batch is dropped")
		})
	})
	t.Run("size 1 sends each value on its own", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			out, terminated := leaksafe.Batch(nil, feed(nil, 3), 1, time.Second)
			assert.Equal(t, [][]int{{0}, {1}, {2}}, drain(t, out))
			<-terminated
		})
	})
	t.Run("batches do not share memory", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			out, terminated := leaksafe.Batch(nil, feed(nil, 4), 2, time.Second)
			got := drain(t, out)
			<-terminated
			require.Len(t, got, 2)
			got[0] = append(got[0], 99)
			assert.Equal(t, []int{2, 3}, got[1], "appending to one batch leaves the next alone")
		})
	})
}

func TestThrottle(t *testing.T) {
	t.Run("exactly burst + t/interval values in t", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			done := make(chan struct{})
			out, terminated := leaksafe.Throttle(done, feed(done, -1), time.Second, 3)
			time.AfterFunc(10*time.Second+time.Second/2, func() { close(done) })
			var at []time.Duration
			for _, r := range receiveAll(t, out) {
				at = append(at, r.at)
			}
			<-terminated
			assert.Equal(t, atSeconds(0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10), at)
			for secs := range 11 {
				n := 0
				for _, d := range at {
					if d <= time.Duration(secs)*time.Second {
						n++
					}
				}
				assert.Equal(t, 3+secs, n, "values received by %ds", secs)
			}
		})
	})
	t.Run("an idle bucket refills to burst and no further", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			in := sendAt(nil, atSeconds(0, 0, 0, 0, 0, 10, 10, 10, 10, 10), 10*time.Second)
			out, terminated := leaksafe.Throttle(nil, in, time.Second, 3)
			var at []time.Duration
			for _, r := range receiveAll(t, out) {
				at = append(at, r.at)
			}
			<-terminated
			assert.Equal(t, atSeconds(0, 0, 0, 1, 2, 10, 10, 10, 11, 12), at)
		})
	})
	t.Run("tokens add up while the consumer is slow", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			out, terminated := leaksafe.Throttle(nil, feed(nil, 6), time.Second, 3)
			t0 := time.Now()
			var at []time.Duration
			for v := range out {
				at = append(at, time.Since(t0))
				if v == 0 {
					time.Sleep(10 * time.Second)
				}
			}
			<-terminated
			assert.Equal(t, atSeconds(0, 10, 10, 10, 11, 12), at, "a burst, not more, after a pause")
		})
	})
	t.Run("burst 1 is one value per interval", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			out, terminated := leaksafe.Throttle(nil, feed(nil, 4), 250*time.Millisecond, 1)
			var at []time.Duration
			for _, r := range receiveAll(t, out) {
				at = append(at, r.at)
			}
			<-terminated
			assert.Equal(t, atSeconds(0, 0.25, 0.5, 0.75), at)
		})
	})
}

// atSeconds returns the given numbers of seconds as durations, for comparing exact fake-clock times.
func atSeconds(secs ...float64) []time.Duration {
	d := make([]time.Duration, len(secs))
	for i, s := range secs {
		d[i] = time.Duration(s * float64(time.Second))
	}
	return d
}

// TestStageMisusePanics checks that misuse panics at call time, before any goroutine starts, with the package
// and the function in the message.
func TestStageMisusePanics(t *testing.T) {
	in := closedChan[int]()
	cases := []struct {
		name string
		call func()
		want string
	}{
		{"Take negative n", func() { leaksafe.Take(nil, in, -1) }, "leaksafe: Take: n must be at least 0, got -1"},
		{"Map nil fn", func() { leaksafe.Map[int, int](nil, in, nil) }, "leaksafe: Map: nil fn"},
		{"Filter nil keep", func() { leaksafe.Filter(nil, in, nil) }, "leaksafe: Filter: nil keep"},
		{"Buffer size 0", func() { leaksafe.Buffer(nil, in, 0) }, "leaksafe: Buffer: size must be at least 1, got 0"},
		{"Buffer negative size", func() { leaksafe.Buffer(nil, in, -3) }, "leaksafe: Buffer: size must be at least 1, got -3"},
		{"FilterMap nil fn", func() { leaksafe.FilterMap[int, int](nil, in, nil) }, "leaksafe: FilterMap: nil fn"},
		{"FlatMap nil fn", func() { leaksafe.FlatMap[int, int](nil, in, nil) }, "leaksafe: FlatMap: nil fn"},
		{"Partition nil keep", func() { leaksafe.Partition(nil, in, nil) }, "leaksafe: Partition: nil keep"},
		{"Batch size 0", func() { leaksafe.Batch(nil, in, 0, time.Second) },
			"leaksafe: Batch: size must be at least 1, got 0"},
		{"Batch negative size", func() { leaksafe.Batch(nil, in, -2, time.Second) },
			"leaksafe: Batch: size must be at least 1, got -2"},
		{"Batch zero maxWait", func() { leaksafe.Batch(nil, in, 1, 0) },
			"leaksafe: Batch: maxWait must be greater than 0, got 0s"},
		{"Batch negative maxWait", func() { leaksafe.Batch(nil, in, 1, -time.Second) },
			"leaksafe: Batch: maxWait must be greater than 0, got -1s"},
		{"Throttle zero interval", func() { leaksafe.Throttle(nil, in, 0, 1) },
			"leaksafe: Throttle: interval must be greater than 0, got 0s"},
		{"Throttle negative interval", func() { leaksafe.Throttle(nil, in, -time.Millisecond, 1) },
			"leaksafe: Throttle: interval must be greater than 0, got -1ms"},
		{"Throttle burst 0", func() { leaksafe.Throttle(nil, in, time.Second, 0) },
			"leaksafe: Throttle: burst must be at least 1, got 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			assert.PanicsWithValue(t, c.want, c.call, "the panic must name the package and the function")
			assert.LessOrEqual(t, runtime.NumGoroutine(), before, "a goroutine started before the panic")
		})
	}
}
