package leaksafe_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaksafe/leaksafe"
)

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
