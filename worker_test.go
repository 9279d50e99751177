package leaksafe_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
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

// forEach runs leaksafe.ForEach under the deadline (see within) and returns what it panicked with,
// or its error.
func forEach[T any](t *testing.T, done <-chan struct{}, in <-chan T, workers int, fn func(<-chan struct{}, T) error) (panicked any, err error) {
	t.Helper()
	return within(t, "ForEach", func() error { return leaksafe.ForEach(done, in, workers, fn) })
}

// TestForEachCalls checks which calls of fn ForEach makes when done closes or fn fails: only for
// values received before, each once.
func TestForEachCalls(t *testing.T) {
	errBoom := errors.New("boom")
	cases := []struct {
		name string
		// run calls ForEach through forEach and returns its error, the values fn was called with, and
		// how many calls saw their done closed when they returned.
		run       func(t *testing.T, fn func(<-chan struct{}, int) error) error
		fn        func(done <-chan struct{}, v int) error // nil: record the value and return nil
		wantErr   error
		wantCalls func(calls []int) bool
	}{
		{
			name: "done closed mid-stream",
			run: func(t *testing.T, fn func(<-chan struct{}, int) error) error {
				prod, done := make(chan struct{}), make(chan struct{})
				defer close(prod)
				in := make(chan int)
				go func() {
					defer close(in)
					for i := 0; ; i++ {
						if i == 10 {
							close(done)
						}
						select {
						case in <- i:
						case <-prod:
							return
						}
					}
				}()
				_, err := forEach(t, done, in, 3, fn)
				return err
			},
			wantErr: leaksafe.ErrStopped,
			// only values sent before done closed, each once
			wantCalls: func(calls []int) bool { return slices.Max(append(calls, 0)) < 10 && unique(calls) },
		},
		{
			name: "first error stops the work",
			run: func(t *testing.T, fn func(<-chan struct{}, int) error) error {
				prod := make(chan struct{})
				defer close(prod)
				_, err := forEach(t, nil, feed(prod, -1), 3, fn)
				return err
			},
			fn: func(done <-chan struct{}, v int) error {
				if v == 7 {
					return errBoom
				}
				return nil
			},
			wantErr:   errBoom,
			wantCalls: func(calls []int) bool { return slices.Contains(calls, 7) && unique(calls) },
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var calls []int
			fn := func(done <-chan struct{}, v int) error {
				mu.Lock()
				calls = append(calls, v)
				mu.Unlock()
				if tc.fn != nil {
					return tc.fn(done, v)
				}
				return nil
			}
			err := tc.run(t, fn)
			if tc.wantErr == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tc.wantErr)
			}
			mu.Lock()
			defer mu.Unlock()
			assert.True(t, tc.wantCalls(slices.Clone(calls)), "unexpected calls: %v", calls)
		})
	}
}

// TestForEachStopsRunningCalls checks that the first error closes the done channel of the calls
// still running, and that ForEach returns only after they have returned.
func TestForEachStopsRunningCalls(t *testing.T) {
	errBoom := errors.New("boom")
	prod := make(chan struct{})
	defer close(prod)
	var running, stopped atomic.Int64
	started := make(chan struct{}, 3)
	_, err := forEach(t, nil, feed(prod, -1), 4, func(done <-chan struct{}, v int) error {
		if v == 3 {
			for range 3 { // fail once the three other workers are inside fn
				<-started
			}
			return errBoom
		}
		running.Add(1)
		defer running.Add(-1)
		started <- struct{}{}
		<-done
		stopped.Add(1)
		return errors.New("cancelled") // after the first error: dropped
	})
	require.ErrorIs(t, err, errBoom)
	assert.Equal(t, int64(0), running.Load(), "a call was still running when ForEach returned")
	assert.Equal(t, int64(3), stopped.Load(), "every running call saw its done close")
}

func TestForEachLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, workers := range []int{1, 2, 5} {
			var now, peak atomic.Int64
			err := leaksafe.ForEach(nil, sliceChan(count(50)), workers, func(_ <-chan struct{}, _ int) error {
				raise(&peak, now.Add(1))
				time.Sleep(time.Millisecond)
				now.Add(-1)
				return nil
			})
			require.NoError(t, err)
			assert.Equal(t, int64(workers), peak.Load(), "calls at once with %d workers", workers)
		}
	})
}

// TestForEachNeverDrains checks that ForEach, stopped by an error, leaves the rest of in unread.
func TestForEachNeverDrains(t *testing.T) {
	in := make(chan int, 100)
	for i := range 100 {
		in <- i
	}
	close(in)
	err := leaksafe.ForEach(nil, in, 1, func(_ <-chan struct{}, v int) error {
		if v == 4 {
			return errors.New("stop")
		}
		return nil
	})
	require.Error(t, err)
	assert.Equal(t, 95, len(in), "values left in the input")
}

func TestForEachPanics(t *testing.T) {
	t.Run("a panic in fn is re-raised after every call returned", func(t *testing.T) {
		prod := make(chan struct{})
		defer close(prod)
		var running atomic.Int64
		panicked, err := forEach(t, nil, feed(prod, -1), 3, func(done <-chan struct{}, v int) error {
			if v == 2 { // 0 and 1 are running: each holds a worker until its done closes
				panic("kaboom")
			}
			running.Add(1)
			defer running.Add(-1)
			<-done
			return nil
		})
		require.NoError(t, err)
		var pe *leaksafe.PanicError
		require.ErrorAs(t, panicked.(error), &pe)
		assert.Equal(t, "kaboom", pe.Value)
		assert.Contains(t, string(pe.Stack), "worker_test.go", "the stack of the goroutine that panicked")
		assert.Equal(t, int64(0), running.Load())
	})
	t.Run("a panic wins over an earlier error", func(t *testing.T) {
		errBoom := errors.New("boom")
		entered, release := make(chan struct{}), make(chan struct{})
		panicked, _ := forEach(t, nil, sliceChan([]int{0, 1}), 2, func(done <-chan struct{}, v int) error {
			if v == 0 {
				<-entered // both values are taken: each worker is inside fn
				defer close(release)
				return errBoom
			}
			close(entered)
			<-release
			panic(errBoom)
		})
		var pe *leaksafe.PanicError
		require.ErrorAs(t, panicked.(error), &pe)
		assert.ErrorIs(t, pe, errBoom)
	})
	t.Run("runtime.Goexit in fn", func(t *testing.T) {
		panicked, err := forEach(t, nil, sliceChan([]int{1}), 1, func(<-chan struct{}, int) error {
			runtime.Goexit()
			return nil
		})
		assert.Nil(t, panicked)
		assert.ErrorIs(t, err, leaksafe.ErrGoexit)
	})
	t.Run("misuse", func(t *testing.T) {
		nop := func(<-chan struct{}, int) error { return nil }
		assert.PanicsWithValue(t, "leaksafe: ForEach: workers must be at least 1, got 0", func() {
			_ = leaksafe.ForEach(nil, closedChan[int](), 0, nop)
		})
		assert.PanicsWithValue(t,
			"leaksafe: ForEach: workers must be at most 1048576 (1<<20), got 9223372036854775807",
			func() { _ = leaksafe.ForEach(nil, closedChan[int](), math.MaxInt, nop) })
		assert.PanicsWithValue(t, "leaksafe: ForEach: nil fn", func() {
			_ = leaksafe.ForEach[int](nil, closedChan[int](), 1, nil)
		})
	})
}

// unique reports whether no value appears twice in s.
func unique(s []int) bool {
	s = slices.Clone(s)
	slices.Sort(s)
	return len(slices.Compact(s)) == len(s)
}

// sliceChan returns a closed channel holding the values of s.
func sliceChan[T any](s []T) <-chan T {
	ch := make(chan T, len(s))
	for _, v := range s {
		ch <- v
	}
	close(ch)
	return ch
}

// The README's pattern: a context made from ForEach's done inside fn. Nothing fn derived from its
// done may outlive ForEach, however ForEach ends.
func TestForEachClosesItsDone(t *testing.T) {
	cases := []struct {
		name string
		fail bool
	}{
		{"every call succeeds", false},
		{"a call fails", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			parent, cancel := context.WithCancel(context.Background())
			defer cancel() // only after the checks: the contexts must end with ForEach alone
			ignore := goleak.IgnoreCurrent()
			in, _ := leaksafe.Generate(nil, count(10)...)
			ctxs := make(chan context.Context, 10)
			var dones []<-chan struct{}
			doneOf := make(chan (<-chan struct{}), 10)
			_, err := within(t, "ForEach", func() error {
				return leaksafe.ForEach(nil, in, 2, func(done <-chan struct{}, v int) error {
					ctxs <- leaksafe.WithDone(parent, done)
					doneOf <- done
					if tc.fail && v == 9 {
						return assert.AnError
					}
					return nil
				})
			})
			if tc.fail {
				require.ErrorIs(t, err, assert.AnError)
			} else {
				require.NoError(t, err)
			}
			close(ctxs)
			close(doneOf)
			for d := range doneOf {
				dones = append(dones, d)
			}
			open := 0
			for _, d := range dones {
				if !isClosed(d) {
					open++
				}
			}
			assert.Zero(t, open, "calls whose done is still open once ForEach has returned")
			for ctx := range ctxs {
				waitCtx(t, ctx, "a context made from fn's done")
			}
			goleak.VerifyNone(t, ignore)
			assert.NoError(t, parent.Err())
		})
	}
}

func TestForEachCancelsTheRequestInFlight(t *testing.T) {
	srv := newHangServer(t)
	client := srv.Client()
	urls := sliceChan([]string{srv.URL + "/hang", srv.URL + "/page/a", srv.URL + "/fail", srv.URL + "/page/b"})
	_, err := forEach(t, nil, urls, 2, func(done <-chan struct{}, u string) error {
		if u == srv.URL+"/fail" {
			<-srv.entered // fail only once the hanging request is in flight
		}
		_, err := get(leaksafe.WithDone(context.Background(), done), client, u)
		return err
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "500 Internal Server Error")
	srv.finish(t)
}

func TestForEachOuterDoneCancelsTheRequestInFlight(t *testing.T) {
	srv := newHangServer(t)
	client := srv.Client()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-srv.entered
		cancel()
	}()
	_, err := forEach(t, ctx.Done(), sliceChan([]string{srv.URL + "/hang"}), 1, func(done <-chan struct{}, u string) error {
		_, err := get(leaksafe.WithDone(ctx, done), client, u)
		return err
	})
	require.ErrorIs(t, err, leaksafe.ErrStopped)
	srv.finish(t)
}

// TestWorkerMisusePanics checks that misuse panics at call time, before any goroutine starts, with the package
// and the function in the message.
func TestWorkerMisusePanics(t *testing.T) {
	in := closedChan[int]()
	cases := []struct {
		name string
		call func()
		want string
	}{
		{"DoWork nil fn", func() { leaksafe.DoWork(nil, in, nil) }, "leaksafe: DoWork: nil fn"},
		{"ParallelMap no workers", func() { leaksafe.ParallelMap(nil, in, 0, double) }, "leaksafe: ParallelMap: workers must be at least 1, got 0"},
		{"ParallelMap nil fn", func() { leaksafe.ParallelMap[int, int](nil, in, 2, nil) }, "leaksafe: ParallelMap: nil fn"},
		{"ParallelMapOrdered negative workers", func() { leaksafe.ParallelMapOrdered(nil, in, -2, double) }, "leaksafe: ParallelMapOrdered: workers must be at least 1, got -2"},
		{"ParallelMapOrdered nil fn", func() { leaksafe.ParallelMapOrdered[int, int](nil, in, 2, nil) }, "leaksafe: ParallelMapOrdered: nil fn"},
		{"ParallelMap too many workers", func() { leaksafe.ParallelMap(nil, in, math.MaxInt, double) }, "leaksafe: ParallelMap: workers must be at most 1048576 (1<<20), got 9223372036854775807"},
		{"ParallelMapOrdered too many workers", func() { leaksafe.ParallelMapOrdered(nil, in, 1<<20+1, double) }, "leaksafe: ParallelMapOrdered: workers must be at most 1048576 (1<<20), got 1048577"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			assert.PanicsWithValue(t, c.want, c.call, "the panic must name the package and the function")
			assert.LessOrEqual(t, runtime.NumGoroutine(), before, "a goroutine started before the panic")
		})
	}
}
