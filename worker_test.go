package leaksafe_test

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/leaksafe/leaksafe"
)

// TestDoWork checks that DoWork waits for a running call of fn, which is not interrupted, and that
// fn that honours done lets it end.
func TestDoWork(t *testing.T) {
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
}

// parallelStage is a parallel primitive under test; ordered says whether it promises input order.
type parallelStage struct {
	name    string
	ordered bool
	start   func(done <-chan struct{}, in <-chan int, workers int, fn func(int) int) (<-chan int, <-chan struct{})
}

var parallelStages = []parallelStage{
	{"ParallelMap", false, leaksafe.ParallelMap[int, int]},
	{"ParallelMapOrdered", true, leaksafe.ParallelMapOrdered[int, int]},
}

func double(v int) int { return 2 * v }

// TestParallelNoCallOnceDoneClosed checks that a parallel stage started with done already closed
// calls fn for no value.
func TestParallelNoCallOnceDoneClosed(t *testing.T) {
	for _, s := range parallelStages {
		for _, workers := range []int{1, 3, 8} {
			t.Run(fmt.Sprintf("%s/workers=%d", s.name, workers), func(t *testing.T) {
				done := make(chan struct{})
				close(done)
				var calls atomic.Int64
				out, terminated := s.start(done, feed(done, -1), workers, func(v int) int { calls.Add(1); return v })
				assert.Empty(t, drain(t, out))
				waitClosed(t, terminated, "terminated")
				assert.Zero(t, calls.Load(), "fn must not be called once done is closed")
			})
		}
	}
}

// TestParallelNoNewCallAfterDone closes done while every worker is inside fn and checks that no call
// starts after that.
func TestParallelNoNewCallAfterDone(t *testing.T) {
	for _, s := range parallelStages {
		t.Run(s.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const workers = 4
				done := make(chan struct{})
				var calls atomic.Int64
				out, terminated := s.start(done, feed(done, -1), workers, func(v int) int {
					calls.Add(1)
					time.Sleep(time.Second)
					return v
				})
				synctest.Wait() // every worker is asleep inside fn
				require.Equal(t, int64(workers), calls.Load())
				close(done)
				<-terminated
				assert.Equal(t, int64(workers), calls.Load(), "a call of fn started after done closed")
				assert.Empty(t, drain(t, out))
			})
		})
	}
}

// TestParallelMapOrderedNoCallAfterDoneInATurn checks that a worker that took several values in one
// turn at the input calls fn for none of the rest once it has seen done closed. One worker holds
// value 0, the head of the window, until done closes; the other takes 1 alone (a worker's first turn
// takes one value), finds the call cheap, and so takes 2 to 17 in its next turn. fn(2) closes done.
func TestParallelMapOrderedNoCallAfterDoneInATurn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		done := make(chan struct{})
		in := make(chan int, 64)
		for i := range cap(in) {
			in <- i // in stays open: only done stops the workers
		}
		var calls atomic.Int64
		out, terminated := leaksafe.ParallelMapOrdered(done, in, 2, func(v int) int {
			calls.Add(1)
			switch v {
			case 0:
				<-done
			case 2:
				close(done)
			}
			return v
		})
		<-terminated
		assert.Equal(t, int64(3), calls.Load(), "calls of fn: 0, 1 and 2, and none after done closed")
		assert.Empty(t, drain(t, out), "the head never finished before done closed")
	})
}

// TestParallelMapSpreadsSlowCalls checks that slow calls are spread over the workers value by value
// even when a backlog waits in a buffered input: no worker keeps a run of it to itself, which would
// delay the results after the first of the run (and, for ParallelMapOrdered, every result behind
// them) while other workers could have run them.
func TestParallelMapSpreadsSlowCalls(t *testing.T) {
	for _, s := range parallelStages {
		t.Run(s.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				in := make(chan int, 64)
				for i := range cap(in) {
					in <- i
				}
				close(in)
				var running, peak atomic.Int64
				out, terminated := s.start(nil, in, 4, func(v int) int {
					raise(&peak, running.Add(1))
					time.Sleep(time.Millisecond)
					running.Add(-1)
					return v
				})
				start := time.Now()
				for range 8 {
					receive(t, out)
				}
				assert.Equal(t, 2*time.Millisecond, time.Since(start), "the first 8 results, 4 at a time")
				assert.Len(t, drain(t, out), 56)
				<-terminated
				assert.Equal(t, int64(4), peak.Load(), "at most and at least 4 calls at once")
				assert.Equal(t, 16*time.Millisecond, time.Since(start), "64 calls of 1ms on 4 workers take 16ms")
			})
		})
	}
}

// TestParallelMapRunsWorkersAtOnce checks that the workers really run fn concurrently.
func TestParallelMapRunsWorkersAtOnce(t *testing.T) {
	for _, s := range parallelStages {
		t.Run(s.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var running, peak atomic.Int64
				out, terminated := s.start(nil, feed(nil, 40), 4, func(v int) int {
					raise(&peak, running.Add(1))
					time.Sleep(time.Millisecond)
					running.Add(-1)
					return v
				})
				start := time.Now()
				assert.Len(t, drain(t, out), 40)
				<-terminated
				assert.Equal(t, int64(4), peak.Load(), "at most and at least 4 calls at once")
				assert.Equal(t, 10*time.Millisecond, time.Since(start), "40 calls of 1ms on 4 workers take 10ms")
			})
		})
	}
}

// TestParallelMapOrderedWindow sends one value that takes 1000 times longer than the others and
// checks that the finished results held back behind it never exceed the documented bound, however
// long the input: a window of 2×c values and c in out, where c = max(workers, cap(in)).
func TestParallelMapOrderedWindow(t *testing.T) {
	tests := []struct {
		workers, inCap int
		cheap          bool // the other calls take no time, so that workers take several values a turn
	}{
		{1, 0, false}, {2, 0, false}, {4, 0, false}, {8, 0, false}, // an unbuffered input: c is the number of workers
		{2, 16, false}, {4, 16, false}, // a buffered input: c is its capacity
		{2, 16, true}, {4, 64, true}, {8, 64, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("workers=%d, input holds %d, cheap=%t", tt.workers, tt.inCap, tt.cheap), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const n = 5000
				in := make(chan int, tt.inCap)
				go func() { // a test-owned producer, which ends once it has sent n values
					defer close(in)
					for i := range n {
						in <- i
					}
				}()
				var finished, received, peak atomic.Int64
				out, terminated := leaksafe.ParallelMapOrdered(nil, in, tt.workers, func(v int) int {
					if v == 10 {
						time.Sleep(1000 * time.Microsecond)
					} else if !tt.cheap {
						time.Sleep(time.Microsecond)
					}
					raise(&peak, finished.Add(1)-received.Load())
					return v
				})
				for i := range n {
					require.Equal(t, i, receive(t, out), "results in input order")
					received.Add(1)
				}
				assert.Empty(t, drain(t, out))
				<-terminated
				c := int64(max(tt.workers, tt.inCap))
				require.Equal(t, int(c), cap(out), "out holds max(workers, cap(in))")
				if tt.workers == 1 {
					// No window: the worker holds one value and out c.
					assert.LessOrEqual(t, peak.Load(), c+1, "finished results held back")
					return
				}
				// The window holds 2×c values taken and not yet sent: 2×c-1 finished ones behind the
				// slow one, and all 2×c for a moment once it finishes. Then c wait in out's buffer,
				// and one more has been received but not yet counted.
				assert.LessOrEqual(t, peak.Load(), 3*c+1, "finished results held back behind the slow one")
				assert.GreaterOrEqual(t, peak.Load(), 2*c-1, "the window is used")
			})
		})
	}
}

// TestParallelProperties checks, over random worker counts, input sizes, per-item delays and
// cancellation points, that every input is delivered exactly once, in order where promised, and that
// nothing is left running.
func TestParallelProperties(t *testing.T) {
	for _, s := range parallelStages {
		t.Run(s.name, func(t *testing.T) {
			rapid.Check(t, func(rt *rapid.T) {
				workers := rapid.IntRange(1, 8).Draw(rt, "workers")
				n := rapid.IntRange(0, 200).Draw(rt, "n")
				// Calls that take no time let ParallelMapOrdered's workers take several values a turn.
				delay := rapid.OneOf(rapid.Just(0), rapid.IntRange(1, 50))
				delays := rapid.SliceOfN(delay, n, n).Draw(rt, "delays")
				stopAt := rapid.IntRange(-1, n).Draw(rt, "stopAt") // -1: never cancelled
				inCap := rapid.SampledFrom([]int{0, 1, 16, 64}).Draw(rt, "inCap")
				synctest.Test(t, func(t *testing.T) {
					done := make(chan struct{})
					in := make(chan int, inCap)
					go func() {
						defer close(in)
						for i := range n {
							select {
							case in <- i:
							case <-done:
								return
							}
						}
					}()
					out, terminated := s.start(done, in, workers, func(v int) int {
						time.Sleep(time.Duration(delays[v]) * time.Microsecond)
						return v
					})
					var got []int
					for v := range out {
						if len(got) == stopAt {
							break
						}
						got = append(got, v)
					}
					close(done)
					<-terminated
					if stopAt < 0 || stopAt >= n {
						require.Len(t, got, n, "every input delivered when not cancelled")
					}
					seen := make(map[int]bool, len(got))
					for i, v := range got {
						require.False(t, seen[v], "value %d delivered twice", v)
						seen[v] = true
						if s.ordered {
							require.Equal(t, i, v, "input order")
						}
					}
				})
			})
		})
	}
}

func TestTry(t *testing.T) {
	errBoom := errors.New("boom")
	assert.Equal(t, leaksafe.Result[int]{Value: 3}, leaksafe.Try(strconv.Atoi("3")))
	r := leaksafe.Try(0, errBoom)
	assert.ErrorIs(t, r.Err, errBoom)
}

func TestParallelMisusePanics(t *testing.T) {
	in := closedChan[int]()
	cases := []struct {
		name string
		call func()
		want string
	}{
		{"ParallelMap no workers", func() { leaksafe.ParallelMap(nil, in, 0, double) }, "leaksafe: ParallelMap: workers must be at least 1, got 0"},
		{"ParallelMap nil fn", func() { leaksafe.ParallelMap[int, int](nil, in, 2, nil) }, "leaksafe: ParallelMap: nil fn"},
		{"ParallelMapOrdered negative workers", func() { leaksafe.ParallelMapOrdered(nil, in, -2, double) }, "leaksafe: ParallelMapOrdered: workers must be at least 1, got -2"},
		{"ParallelMapOrdered nil fn", func() { leaksafe.ParallelMapOrdered[int, int](nil, in, 2, nil) }, "leaksafe: ParallelMapOrdered: nil fn"},
		{"ParallelMap too many workers", func() { leaksafe.ParallelMap(nil, in, math.MaxInt, double) }, "leaksafe: ParallelMap: workers must be at most 1048576 (1<<20), got 9223372036854775807"},
		{"ParallelMapOrdered too many workers", func() { leaksafe.ParallelMapOrdered(nil, in, 1<<20+1, double) }, "leaksafe: ParallelMapOrdered: workers must be at most 1048576 (1<<20), got 1048577"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.PanicsWithValue(t, c.want, c.call)
		})
	}
}

// TestParallelMapOrderedSlowProducer feeds the workers slower than they work, inside a synctest
// bubble: the workers that wait for the producer must count as durably blocked, or the fake clock
// never advances and the bubble hangs.
func TestParallelMapOrderedSlowProducer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := make(chan int)
		go func() {
			defer close(in)
			for i := range 20 {
				time.Sleep(time.Millisecond)
				in <- i
			}
		}()
		start := time.Now()
		out, terminated := leaksafe.ParallelMapOrdered(nil, in, 4, double)
		var got []int
		for v := range out {
			got = append(got, v)
		}
		<-terminated
		want := make([]int, 20)
		for i := range want {
			want[i] = 2 * i
		}
		assert.Equal(t, want, got)
		assert.Equal(t, 20*time.Millisecond, time.Since(start), "the pace is the producer's")
	})
}
