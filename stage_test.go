package leaksafe_test

import (
	"fmt"
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

// A subject is a primitive under the termination table, seen as a stage from int to U: started
// with a done channel and an input, it returns an output and terminated. A call that blocks
// (ForEach, Reduce, Collect, DoWork's wait) gives call instead of start: the table runs it in a
// test-owned goroutine, whose emit sends a value on the output, and closes the output and then
// terminated once the call has returned.
type subject[U any] struct {
	name  string
	start func(done <-chan struct{}, in <-chan int) (<-chan U, <-chan struct{})
	call  func(done <-chan struct{}, in <-chan int, emit func(U) bool) error
	// want is the output when the input 0, 1, … 99 is read to the end (for a source, its own
	// values, whatever the input); nil for a source that never ends by itself.
	want      func(in []int) []U
	source    bool // reads no input: the cases about the input do not apply
	unordered bool // delivers in no fixed order: the drained output is compared as a multiset
	atEnd     bool // emits only when the call returns (Collect): no value to read mid-stream
	stops     bool // the call returns nil when its input closes, and ErrStopped when done closes
}

// joiner is a subject of any output type, so that every subject is in one list.
type joiner interface{ join(t *testing.T) }

func (s subject[U]) join(t *testing.T) { terminationTable(t, s) }

// subjects are every primitive that starts a goroutine or blocks on an input, each joining the
// termination table. Group, Or, All and WithDone end by other causes; their own tests say how.
var subjects = []joiner{
	// sources
	subject[int]{name: "Generate", source: true, start: func(done <-chan struct{}, _ <-chan int) (<-chan int, <-chan struct{}) {
		return leaksafe.Generate(done, 3, 1, 4, 1, 5)
	}, want: func([]int) []int { return []int{3, 1, 4, 1, 5} }},
	subject[int]{name: "Repeat", source: true, start: func(done <-chan struct{}, _ <-chan int) (<-chan int, <-chan struct{}) {
		return leaksafe.Repeat(done, 1, 2)
	}},
	subject[int]{name: "Repeat one value", source: true, start: func(done <-chan struct{}, _ <-chan int) (<-chan int, <-chan struct{}) {
		return leaksafe.Repeat(done, 7)
	}},
	subject[int]{name: "RepeatFunc", source: true, start: func(done <-chan struct{}, _ <-chan int) (<-chan int, <-chan struct{}) {
		n := 0
		return leaksafe.RepeatFunc(done, func() int { n++; return n })
	}},
	subject[int]{name: "NewRandStream", source: true, start: func(done <-chan struct{}, _ <-chan int) (<-chan int, <-chan struct{}) {
		return leaksafe.NewRandStream(done)
	}},
	subject[int]{name: "FromSeq finite", source: true, start: func(done <-chan struct{}, _ <-chan int) (<-chan int, <-chan struct{}) {
		return leaksafe.FromSeq(done, slices.Values([]int{0, 1, 2, 3}))
	}, want: func([]int) []int { return []int{0, 1, 2, 3} }},
	subject[int]{name: "FromSeq endless", source: true, start: func(done <-chan struct{}, _ <-chan int) (<-chan int, <-chan struct{}) {
		return leaksafe.FromSeq(done, naturals)
	}},
	subject[leaksafe.Result[int]]{name: "FromSeq2 finite", source: true, start: func(done <-chan struct{}, _ <-chan int) (<-chan leaksafe.Result[int], <-chan struct{}) {
		return leaksafe.FromSeq2(done, func(yield func(int, error) bool) { _ = yield(0, nil) && yield(1, nil) })
	}, want: func([]int) []leaksafe.Result[int] { return []leaksafe.Result[int]{{Value: 0}, {Value: 1}} }},

	// one-goroutine stages
	subject[int]{name: "OrDone", start: leaksafe.OrDone[int], want: identity},
	subject[int]{name: "Take", start: func(done <-chan struct{}, in <-chan int) (<-chan int, <-chan struct{}) {
		return leaksafe.Take(done, in, 1<<30)
	}, want: identity},
	subject[int]{name: "Map", start: func(done <-chan struct{}, in <-chan int) (<-chan int, <-chan struct{}) {
		return leaksafe.Map(done, in, func(v int) int { return v * 10 })
	}, want: func(in []int) []int {
		out := make([]int, len(in))
		for i, v := range in {
			out[i] = v * 10
		}
		return out
	}},
	subject[int]{name: "Filter", start: func(done <-chan struct{}, in <-chan int) (<-chan int, <-chan struct{}) {
		return leaksafe.Filter(done, in, even)
	}, want: func(in []int) []int { return keepWhere(in, even) }},
	subject[string]{name: "FilterMap", start: func(done <-chan struct{}, in <-chan int) (<-chan string, <-chan struct{}) {
		return leaksafe.FilterMap(done, in, func(v int) (string, bool) { return strconv.Itoa(v), even(v) })
	}, want: func(in []int) []string {
		var out []string
		for _, v := range keepWhere(in, even) {
			out = append(out, strconv.Itoa(v))
		}
		return out
	}},
	subject[int]{name: "FlatMap", start: func(done <-chan struct{}, in <-chan int) (<-chan int, <-chan struct{}) {
		return leaksafe.FlatMap(done, in, repeatTwice)
	}, want: func(in []int) []int {
		var out []int
		for _, v := range in {
			out = append(out, 10*v, 10*v+1)
		}
		return out
	}},
	subject[int]{name: "Tee first branch", start: func(done <-chan struct{}, in <-chan int) (<-chan int, <-chan struct{}) {
		out1, out2, terminated := leaksafe.Tee(done, in)
		return withReader(out1, out2, terminated)
	}, want: identity},
	subject[int]{name: "Tee second branch", start: func(done <-chan struct{}, in <-chan int) (<-chan int, <-chan struct{}) {
		out1, out2, terminated := leaksafe.Tee(done, in)
		return withReader(out2, out1, terminated)
	}, want: identity},
	subject[int]{name: "Partition kept", start: func(done <-chan struct{}, in <-chan int) (<-chan int, <-chan struct{}) {
		return withReader(leaksafe.Partition(done, in, even))
	}, want: func(in []int) []int { return keepWhere(in, even) }},
	subject[int]{name: "Partition rest", start: func(done <-chan struct{}, in <-chan int) (<-chan int, <-chan struct{}) {
		kept, rest, terminated := leaksafe.Partition(done, in, even)
		return withReader(rest, kept, terminated)
	}, want: func(in []int) []int { return keepWhere(in, func(v int) bool { return !even(v) }) }},
	subject[int]{name: "Buffer", start: func(done <-chan struct{}, in <-chan int) (<-chan int, <-chan struct{}) {
		return leaksafe.Buffer(done, in, 3)
	}, want: identity},
	subject[int]{name: "Bridge", start: func(done <-chan struct{}, in <-chan int) (<-chan int, <-chan struct{}) {
		chans := make(chan (<-chan int), 1)
		chans <- in
		close(chans)
		return leaksafe.Bridge(done, chans)
	}, want: identity},
	subject[[]int]{name: "Batch", start: func(done <-chan struct{}, in <-chan int) (<-chan []int, <-chan struct{}) {
		return leaksafe.Batch(done, in, 3, time.Hour)
	}, want: func(in []int) [][]int { return slices.Collect(slices.Chunk(in, 3)) }},
	subject[int]{name: "Throttle", start: func(done <-chan struct{}, in <-chan int) (<-chan int, <-chan struct{}) {
		return leaksafe.Throttle(done, in, time.Millisecond, 3)
	}, want: identity},
	subject[leaksafe.Result[int]]{name: "FromSeq2 over the input", start: func(done <-chan struct{}, in <-chan int) (<-chan leaksafe.Result[int], <-chan struct{}) {
		return leaksafe.FromSeq2(done, pairs(done, in))
	}, want: func(in []int) []leaksafe.Result[int] {
		out := make([]leaksafe.Result[int], len(in))
		for i, v := range in {
			out[i].Value = v
			if v%5 == 4 {
				out[i].Err = errEveryFifth
			}
		}
		return out
	}},

	// parallel stages and workers
	subject[int]{name: "FanIn", start: func(done <-chan struct{}, in <-chan int) (<-chan int, <-chan struct{}) {
		return leaksafe.FanIn(done, in)
	}, want: identity},
	subject[int]{name: "FanIn with a closed first input", unordered: true, start: func(done <-chan struct{}, in <-chan int) (<-chan int, <-chan struct{}) {
		return leaksafe.FanIn(done, closedChan[int](), in)
	}, want: identity},
	parallelSubject("ParallelMap", 1, false, leaksafe.ParallelMap[int, int]),
	parallelSubject("ParallelMap", 3, true, leaksafe.ParallelMap[int, int]),
	parallelSubject("ParallelMap", 8, true, leaksafe.ParallelMap[int, int]),
	parallelSubject("ParallelMapOrdered", 1, false, leaksafe.ParallelMapOrdered[int, int]),
	parallelSubject("ParallelMapOrdered", 3, false, leaksafe.ParallelMapOrdered[int, int]),
	parallelSubject("ParallelMapOrdered", 8, false, leaksafe.ParallelMapOrdered[int, int]),
	subject[int]{name: "DoWork", call: func(done <-chan struct{}, in <-chan int, emit func(int) bool) error {
		<-leaksafe.DoWork(done, in, func(v int) { emit(v) })
		return nil
	}, want: identity},
	forEachSubject(1, false),
	forEachSubject(3, true),

	// consumers that block in the caller's goroutine
	subject[int]{name: "Reduce", stops: true, call: func(done <-chan struct{}, in <-chan int, emit func(int) bool) error {
		_, err := leaksafe.Reduce(done, in, 0, func(acc, v int) int {
			emit(v)
			return acc + v
		})
		return err
	}, want: identity},
	subject[int]{name: "Collect", stops: true, atEnd: true, call: func(done <-chan struct{}, in <-chan int, emit func(int) bool) error {
		results := make(chan leaksafe.Result[int])
		converted := make(chan struct{})
		go func() { // a test-owned converter, which ends when in or done closes
			defer close(converted)
			defer close(results)
			for v := range leaksafe.Values(done, in) {
				select {
				case results <- leaksafe.Result[int]{Value: v}:
				case <-done:
					return
				}
			}
		}()
		defer func() { <-converted }()
		values, err := leaksafe.Collect(done, results)
		for _, v := range values {
			if !emit(v) {
				break
			}
		}
		return err
	}, want: identity},
}

// parallelSubject is a parallel stage on workers goroutines that doubles its input.
func parallelSubject(
	name string, workers int, unordered bool,
	start func(done <-chan struct{}, in <-chan int, workers int, fn func(int) int) (<-chan int, <-chan struct{}),
) subject[int] {
	return subject[int]{
		name:      fmt.Sprintf("%s/workers=%d", name, workers),
		unordered: unordered,
		start: func(done <-chan struct{}, in <-chan int) (<-chan int, <-chan struct{}) {
			return start(done, in, workers, double)
		},
		want: func(in []int) []int {
			out := make([]int, len(in))
			for i, v := range in {
				out[i] = double(v)
			}
			return out
		},
	}
}

// forEachSubject is ForEach on workers goroutines, whose fn sends each value on, honouring its
// done.
func forEachSubject(workers int, unordered bool) subject[int] {
	return subject[int]{
		name:      fmt.Sprintf("ForEach/workers=%d", workers),
		unordered: unordered,
		stops:     true,
		call: func(done <-chan struct{}, in <-chan int, emit func(int) bool) error {
			return leaksafe.ForEach(done, in, workers, func(_ <-chan struct{}, v int) error {
				emit(v)
				return nil
			})
		},
		want: identity,
	}
}

// TestTermination runs every subject through every way it can end.
func TestTermination(t *testing.T) {
	for _, s := range subjects {
		s.join(t)
	}
}

// terminationTable runs s through every way it can end, each case in a synctest bubble and finished
// by receiving from terminated under a deadline; TestMain then checks that no goroutine is left.
// The input is test-owned: it sends its values and then closes, or falls silent without closing,
// and stops when the case ends.
func terminationTable[U any](t *testing.T, s subject[U]) {
	t.Helper()
	cases := []struct {
		name  string
		skip  bool
		run   func(t *testing.T, start starter[U], input func(n int, closes bool) <-chan int)
		check func(t *testing.T, err error) // the error of a call that stops
	}{
		{name: "input drained to the end", skip: s.want == nil, run: func(t *testing.T, start starter[U], input func(n int, closes bool) <-chan int) {
			out, terminated := start(nil, input(100, true))
			got := drain(t, out)
			if s.unordered {
				assert.ElementsMatch(t, s.want(count(100)), got, "every value, once")
			} else {
				assert.Equal(t, s.want(count(100)), got, "every value, in order")
			}
			waitClosed(t, terminated, "terminated")
		}, check: noError},
		{name: "done closed before any value", run: func(t *testing.T, start starter[U], input func(n int, closes bool) <-chan int) {
			done := make(chan struct{})
			close(done)
			out, terminated := start(done, input(10, false))
			assert.Empty(t, drain(t, out), "no value, and no call of fn, once done is closed")
			waitClosed(t, terminated, "terminated")
		}, check: stopped},
		{name: "done closed mid-stream", run: func(t *testing.T, start starter[U], input func(n int, closes bool) <-chan int) {
			done := make(chan struct{})
			out, terminated := start(done, input(10, false))
			if !s.atEnd {
				receive(t, out)
				receive(t, out)
			}
			synctest.Wait()
			close(done)
			drain(t, out) // at most the values already on their way
			waitClosed(t, terminated, "terminated")
		}, check: stopped},
		{name: "consumer stops reading then closes done", run: func(t *testing.T, start starter[U], input func(n int, closes bool) <-chan int) {
			done := make(chan struct{})
			out, terminated := start(done, input(10, false))
			if !s.atEnd {
				receive(t, out)
			}
			time.Sleep(time.Hour)
			synctest.Wait()
			if !s.source || s.want == nil {
				assert.False(t, isClosed(terminated), "terminated closed while the input is open and done is not")
			}
			close(done) // out is never read again
			waitClosed(t, terminated, "terminated")
		}, check: stopped},
		{name: "nil input", skip: s.source, run: func(t *testing.T, start starter[U], _ func(n int, closes bool) <-chan int) {
			done := make(chan struct{})
			out, terminated := start(done, nil)
			time.Sleep(time.Hour)
			synctest.Wait()
			assert.False(t, isClosed(terminated), "a nil input must keep it waiting until done closes")
			close(done)
			assert.Empty(t, drain(t, out), "a nil input delivers nothing")
			waitClosed(t, terminated, "terminated")
		}, check: stopped},
		{name: "closed input", skip: s.source, run: func(t *testing.T, start starter[U], _ func(n int, closes bool) <-chan int) {
			out, terminated := start(nil, closedChan[int]())
			assert.Empty(t, drain(t, out), "a closed input delivers nothing")
			waitClosed(t, terminated, "terminated")
		}, check: noError},
		{name: "output closed before terminated", run: func(t *testing.T, start starter[U], _ func(n int, closes bool) <-chan int) {
			done := make(chan struct{})
			close(done)
			out, terminated := start(done, closedChan[int]())
			waitClosed(t, terminated, "terminated")
			select {
			case _, ok := <-out:
				assert.False(t, ok, "the output must be closed once terminated is closed")
			default:
				require.Fail(t, "terminated closed before the output")
			}
		}},
	}
	t.Run(s.name, func(t *testing.T) {
		for _, c := range cases {
			if c.skip {
				continue
			}
			t.Run(c.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					stop := make(chan struct{})
					defer close(stop) // ends the test-owned input
					var err error
					c.run(t, s.starter(&err), func(n int, closes bool) <-chan int {
						return s.input(stop, n, closes)
					})
					if s.stops && c.check != nil {
						c.check(t, err)
					}
				})
			})
		}
	})
}

// starter starts a subject in one case of the table.
type starter[U any] func(done <-chan struct{}, in <-chan int) (<-chan U, <-chan struct{})

// starter returns how the table starts s: s.start, or s.call in a test-owned goroutine whose emit
// sends on an output that holds one value, trying first without waiting, so that a call of fn once
// done is closed shows as a value. The call's error goes to *err before terminated closes.
func (s subject[U]) starter(err *error) starter[U] {
	if s.call == nil {
		return s.start
	}
	return func(done <-chan struct{}, in <-chan int) (<-chan U, <-chan struct{}) {
		out := make(chan U, 1)
		terminated := make(chan struct{})
		go func() {
			defer close(terminated)
			defer close(out)
			*err = s.call(done, in, func(v U) bool {
				select {
				case out <- v:
					return true
				default:
				}
				select {
				case out <- v:
					return true
				case <-done:
					return false
				}
			})
		}()
		return out, terminated
	}
}

func noError(t *testing.T, err error) { require.NoError(t, err, "the input closed: no error") }

func stopped(t *testing.T, err error) {
	require.ErrorIs(t, err, leaksafe.ErrStopped, "done closed first: ErrStopped")
}

// input returns the input of a case: nil for a source; otherwise a test-owned producer's channel
// that gets 0, 1, … n-1 and then is closed, or, when closes is false, falls silent until stop
// closes, without ever being closed.
func (s subject[U]) input(stop <-chan struct{}, n int, closes bool) <-chan int {
	if s.source {
		return nil
	}
	ch := make(chan int)
	go func() {
		if closes {
			defer close(ch)
		}
		for i := range n {
			select {
			case ch <- i:
			case <-stop:
				return
			}
		}
		if !closes {
			<-stop
		}
	}()
	return ch
}

func identity(in []int) []int { return in }

// capacityCase starts one primitive on a done channel and returns the capacity of each of its
// outputs and its terminated.
type capacityCase struct {
	name  string
	start func(done <-chan struct{}) (caps []int, terminated <-chan struct{})
	want  []int
}

// stageCap returns a case for a one-input stage fed by a channel of capacity inCap that nobody
// sends on: the stage runs until done closes.
func stageCap(name string, inCap, want int, start func(done <-chan struct{}, in <-chan int) (<-chan int, <-chan struct{})) capacityCase {
	return capacityCase{
		name: fmt.Sprintf("%s, input holds %d", name, inCap),
		start: func(done <-chan struct{}) ([]int, <-chan struct{}) {
			out, terminated := start(done, make(chan int, inCap))
			return []int{cap(out)}, terminated
		},
		want: []int{want},
	}
}

func capacityCases() []capacityCase {
	twice := func(v int) int { return 2 * v }
	even := func(v int) bool { return v%2 == 0 }
	cases := []capacityCase{}
	for _, n := range []int{0, 1, 5, 64, 100} {
		cases = append(cases, capacityCase{
			name: fmt.Sprintf("Generate, %d values", n),
			start: func(done <-chan struct{}) ([]int, <-chan struct{}) {
				out, terminated := leaksafe.Generate(done, count(n)...)
				return []int{cap(out)}, terminated
			},
			want: []int{max(1, min(n, 64))},
		})
	}
	one := func(name string, start func(done <-chan struct{}) (<-chan int, <-chan struct{})) capacityCase {
		return capacityCase{name: name, start: func(done <-chan struct{}) ([]int, <-chan struct{}) {
			out, terminated := start(done)
			return []int{cap(out)}, terminated
		}, want: []int{1}}
	}
	cases = append(cases,
		one("Repeat", func(done <-chan struct{}) (<-chan int, <-chan struct{}) { return leaksafe.Repeat(done, 1, 2, 3) }),
		one("RepeatFunc", func(done <-chan struct{}) (<-chan int, <-chan struct{}) {
			return leaksafe.RepeatFunc(done, func() int { return 1 })
		}),
		one("NewRandStream", leaksafe.NewRandStream),
		one("FromSeq", func(done <-chan struct{}) (<-chan int, <-chan struct{}) { return leaksafe.FromSeq(done, naturals) }),
	)
	for _, inCap := range []int{0, 1, 16} {
		flow := max(1, inCap)
		cases = append(cases,
			stageCap("OrDone", inCap, flow, leaksafe.OrDone[int]),
			stageCap("Take", inCap, flow, func(done <-chan struct{}, in <-chan int) (<-chan int, <-chan struct{}) {
				return leaksafe.Take(done, in, 3)
			}),
			stageCap("Map", inCap, flow, func(done <-chan struct{}, in <-chan int) (<-chan int, <-chan struct{}) {
				return leaksafe.Map(done, in, twice)
			}),
			stageCap("Filter", inCap, flow, func(done <-chan struct{}, in <-chan int) (<-chan int, <-chan struct{}) {
				return leaksafe.Filter(done, in, even)
			}),
			stageCap("Buffer of 5", inCap, 5, func(done <-chan struct{}, in <-chan int) (<-chan int, <-chan struct{}) {
				return leaksafe.Buffer(done, in, 5)
			}),
			stageCap("ParallelMap with 3 workers", inCap, max(3, inCap), func(done <-chan struct{}, in <-chan int) (<-chan int, <-chan struct{}) {
				return leaksafe.ParallelMap(done, in, 3, twice)
			}),
			stageCap("ParallelMap with 1 worker", inCap, flow, func(done <-chan struct{}, in <-chan int) (<-chan int, <-chan struct{}) {
				return leaksafe.ParallelMap(done, in, 1, twice)
			}),
			stageCap("ParallelMapOrdered with 3 workers", inCap, max(3, inCap), func(done <-chan struct{}, in <-chan int) (<-chan int, <-chan struct{}) {
				return leaksafe.ParallelMapOrdered(done, in, 3, twice)
			}),
			stageCap("ParallelMapOrdered with 1 worker", inCap, flow, func(done <-chan struct{}, in <-chan int) (<-chan int, <-chan struct{}) {
				return leaksafe.ParallelMapOrdered(done, in, 1, twice)
			}),
			stageCap("Throttle", inCap, 0, func(done <-chan struct{}, in <-chan int) (<-chan int, <-chan struct{}) {
				return leaksafe.Throttle(done, in, time.Second, 2)
			}),
			capacityCase{
				name: fmt.Sprintf("Bridge, chans holds %d", inCap),
				start: func(done <-chan struct{}) ([]int, <-chan struct{}) {
					out, terminated := leaksafe.Bridge(done, make(chan (<-chan int), inCap))
					return []int{cap(out)}, terminated
				},
				want: []int{flow},
			},
			capacityCase{
				name: fmt.Sprintf("Tee, input holds %d", inCap),
				start: func(done <-chan struct{}) ([]int, <-chan struct{}) {
					out1, out2, terminated := leaksafe.Tee(done, make(chan int, inCap))
					return []int{cap(out1), cap(out2)}, terminated
				},
				want: []int{0, 0},
			},
			capacityCase{
				name: fmt.Sprintf("Batch, input holds %d", inCap),
				start: func(done <-chan struct{}) ([]int, <-chan struct{}) {
					out, terminated := leaksafe.Batch(done, make(chan int, inCap), 10, time.Second)
					return []int{cap(out)}, terminated
				},
				want: []int{1},
			},
		)
	}
	for _, caps := range [][]int{{}, {0}, {0, 0}, {0, 16, 4}, {8}} {
		cases = append(cases, capacityCase{
			name: fmt.Sprintf("FanIn, inputs hold %v", caps),
			start: func(done <-chan struct{}) ([]int, <-chan struct{}) {
				ins := make([]<-chan int, len(caps))
				for i, c := range caps {
					ins[i] = make(chan int, c)
				}
				out, terminated := leaksafe.FanIn(done, ins...)
				return []int{cap(out)}, terminated
			},
			want: []int{max(1, slicesMax(caps))},
		})
	}
	return cases
}

// slicesMax returns the largest of s, or 0 when s is empty.
func slicesMax(s []int) int {
	m := 0
	for _, v := range s {
		m = max(m, v)
	}
	return m
}

// TestCapacityFlowsDownstream pins what each output holds: a stage's output holds as many values as
// its input can and at least one, a parallel stage's at least one per worker, FanIn's as many as its
// largest input; Generate holds up to 64 of its values; the other sources, Batch, Tee and Throttle
// keep their own rule.
func TestCapacityFlowsDownstream(t *testing.T) {
	for _, c := range capacityCases() {
		t.Run(c.name, func(t *testing.T) {
			done := make(chan struct{})
			caps, terminated := c.start(done)
			close(done)
			waitClosed(t, terminated, "terminated")
			assert.Equal(t, c.want, caps, "capacity of each output")
		})
	}
}

// TestProducerRunsAheadAtMostTheCapacities checks the memory bound that capacity flowing downstream
// keeps: while the consumer is slow, a RepeatFunc producer has been called at most once for every
// value received, every value the channels between them hold, and one value that each stage's
// goroutine holds while it waits to send. The producer reaches that bound and stops there.
func TestProducerRunsAheadAtMostTheCapacities(t *testing.T) {
	keep := func(int64) bool { return true }
	tests := []struct {
		name string
		// build chains stages after src and returns the last output, what each channel from src
		// to the last output holds, and how many goroutines each hold one value.
		build func(done <-chan struct{}, src <-chan int64) (out <-chan int64, caps []int, holders int, terminated <-chan struct{})
	}{
		{"one value per stage by default", func(done <-chan struct{}, src <-chan int64) (<-chan int64, []int, int, <-chan struct{}) {
			m, t1 := leaksafe.Map(done, src, func(v int64) int64 { return v })
			f, t2 := leaksafe.Filter(done, m, keep)
			return f, []int{cap(src), cap(m), cap(f)}, 3, leaksafe.All(t1, t2)
		}},
		{"a Buffer near the source widens every stage after it", func(done <-chan struct{}, src <-chan int64) (<-chan int64, []int, int, <-chan struct{}) {
			b, t1 := leaksafe.Buffer(done, src, 16)
			m, t2 := leaksafe.Map(done, b, func(v int64) int64 { return v })
			f, t3 := leaksafe.Filter(done, m, keep)
			return f, []int{cap(src), cap(b), cap(m), cap(f)}, 4, leaksafe.All(t1, t2, t3)
		}},
		{"a parallel stage holds one value per worker", func(done <-chan struct{}, src <-chan int64) (<-chan int64, []int, int, <-chan struct{}) {
			b, t1 := leaksafe.Buffer(done, src, 8)
			p, t2 := leaksafe.ParallelMap(done, b, 3, func(v int64) int64 { return v })
			o, t3 := leaksafe.OrDone(done, p)
			return o, []int{cap(src), cap(b), cap(p), cap(o)}, 2 + 3 + 1, leaksafe.All(t1, t2, t3)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var calls atomic.Int64
				done := make(chan struct{})
				src, t0 := leaksafe.RepeatFunc(done, func() int64 { return calls.Add(1) })
				out, caps, holders, terminated := tt.build(done, src)
				ahead := int64(holders)
				for _, c := range caps {
					ahead += int64(c)
				}
				for received := int64(1); received <= 3; received++ {
					<-out
					synctest.Wait() // every goroutine is blocked: the producer has gone as far as it can
					require.Equal(t, received+ahead, calls.Load(),
						"calls of fn: %d received, %v held in channels, one held by each of %d goroutines", received, caps, holders)
				}
				close(done)
				<-terminated
				<-t0
			})
		})
	}
}

// TestNoCallStartsAfterDone checks that no primitive calls its function with a value received
// after done closed: each case closes done while its workers run, then offers more values until
// the primitive ends, and fn must never see one of them. A receive can win the race with done
// (a select picks at random among ready cases), so the cases run many times.
func TestNoCallStartsAfterDone(t *testing.T) {
	drain := func(out <-chan int, term <-chan struct{}) <-chan struct{} {
		go func() {
			for range out {
			}
		}()
		return term
	}
	id := func(fn func(int)) func(int) int { return func(v int) int { fn(v); return v } }
	cases := map[string]func(done <-chan struct{}, in <-chan int, fn func(int)) <-chan struct{}{
		"Map": func(done <-chan struct{}, in <-chan int, fn func(int)) <-chan struct{} {
			return drain(leaksafe.Map(done, in, id(fn)))
		},
		"Filter": func(done <-chan struct{}, in <-chan int, fn func(int)) <-chan struct{} {
			return drain(leaksafe.Filter(done, in, func(v int) bool { fn(v); return true }))
		},
		"DoWork": func(done <-chan struct{}, in <-chan int, fn func(int)) <-chan struct{} {
			return leaksafe.DoWork(done, in, fn)
		},
		"ParallelMap": func(done <-chan struct{}, in <-chan int, fn func(int)) <-chan struct{} {
			return drain(leaksafe.ParallelMap(done, in, 4, id(fn)))
		},
		"ParallelMapOrdered": func(done <-chan struct{}, in <-chan int, fn func(int)) <-chan struct{} {
			return drain(leaksafe.ParallelMapOrdered(done, in, 4, id(fn)))
		},
		"ForEach": func(done <-chan struct{}, in <-chan int, fn func(int)) <-chan struct{} {
			returned := make(chan struct{})
			go func() {
				defer close(returned)
				_ = leaksafe.ForEach(done, in, 4, func(_ <-chan struct{}, v int) error {
					fn(v)
					return nil
				})
			}()
			return returned
		},
	}
	for name, start := range cases {
		t.Run(name, func(t *testing.T) {
			var late atomic.Int64
			for range 200 {
				done, in := make(chan struct{}), make(chan int)
				ended := start(done, in, func(v int) {
					if v < 0 {
						late.Add(1)
					}
				})
				in <- 1 // taken by a worker
				close(done)
				for range 3 {
					select {
					case in <- -1: // taken by a worker that raced done, or by none
					case <-ended:
					}
				}
				waitClosed(t, ended, name+" ended")
			}
			assert.Zero(t, late.Load(), "calls of fn with a value received after done closed")
		})
	}
	t.Run("ForEach, after the first error", func(t *testing.T) {
		var late atomic.Int64
		for range 200 {
			in := make(chan int)
			dones := make(chan (<-chan struct{}), 1)
			returned := make(chan struct{})
			go func() {
				defer close(returned)
				_ = leaksafe.ForEach(nil, in, 4, func(done <-chan struct{}, v int) error {
					if v < 0 {
						late.Add(1)
					}
					if v == 1 {
						dones <- done
						return fmt.Errorf("fail on %d", v)
					}
					return nil
				})
			}()
			in <- 1
			waitClosed(t, <-dones, "fn's done, closed by the first error")
			for range 3 {
				select {
				case in <- -1: // taken by a worker that raced the error, or by none
				case <-returned:
				}
			}
			waitClosed(t, returned, "ForEach returned")
		}
		assert.Zero(t, late.Load(), "calls of fn with a value received after the first error")
	})
}
